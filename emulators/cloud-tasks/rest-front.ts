/**
 * The REST front end: the v2 API's HTTP bindings (`/v2/projects/.../queues...`)
 * over HTTP/1.1, with the proto3 JSON mapping Google's REST clients use
 * (enums as names or numbers, Durations like "30s", bytes as base64) and
 * Google's error shape `{"error":{"code","message","status"}}`. Also serves
 * the OIDC discovery document and JWKS, and the emulator's own endpoints.
 */
import type http from 'node:http';
import { fromProto3JSON, toProto3JSON, type JSONObject, type JSONValue } from 'proto3-json-serializer';
import type { Logger } from '../../lib/log.ts';
import type { Api } from './api.ts';
import { asApiError, InvalidArgumentError, NotFoundError, type CloudTasksApiError } from './errors.ts';
import { DISCOVERY_PATH, JWKS_PATH, type OidcIssuer } from './oidc.ts';
import { MESSAGE_SHAPE, type Protos } from './protos.ts';

/** Where the emulator-only endpoints live. */
export const EMULATOR_PATH = '/emulator/v1';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const LOCATION = 'projects/[^/]+/locations/[^/]+';
const QUEUE = `${LOCATION}/queues/[^/:]+`;
const TASK = `${QUEUE}/tasks/[^/:]+`;

interface Route {
  method: string;
  pattern: RegExp;
  rpc: string;
  /** Request field the path variable fills. */
  pathField: string;
  /** Request field the body fills; '*' = the whole request; undefined = no body. */
  body?: string;
  response: string;
}

/** `resource` is the path variable's pattern; `suffix` follows it (a collection or a `:verb`). */
const route = (method: string, resource: string, suffix: string, rpc: string, pathField: string, response: string, body?: string): Route => ({
  method,
  pattern: new RegExp(`^/v2/(${resource})${suffix}$`),
  rpc,
  pathField,
  response,
  ...(body ? { body } : {}),
});

const ROUTES: Route[] = [
  route('GET', LOCATION, '', 'GetLocation', 'name', ''),
  route('GET', LOCATION, '/queues', 'ListQueues', 'parent', 'ListQueuesResponse'),
  route('POST', LOCATION, '/queues', 'CreateQueue', 'parent', 'Queue', 'queue'),
  route('GET', QUEUE, '', 'GetQueue', 'name', 'Queue'),
  route('PATCH', QUEUE, '', 'UpdateQueue', 'queue.name', 'Queue', 'queue'),
  route('DELETE', QUEUE, '', 'DeleteQueue', 'name', 'google.protobuf.Empty'),
  route('POST', QUEUE, ':purge', 'PurgeQueue', 'name', 'Queue', '*'),
  route('POST', QUEUE, ':pause', 'PauseQueue', 'name', 'Queue', '*'),
  route('POST', QUEUE, ':resume', 'ResumeQueue', 'name', 'Queue', '*'),
  route('POST', QUEUE, ':getIamPolicy', 'GetIamPolicy', 'resource', 'google.iam.v1.Policy', '*'),
  route('POST', QUEUE, ':setIamPolicy', 'SetIamPolicy', 'resource', 'google.iam.v1.Policy', '*'),
  route('POST', QUEUE, ':testIamPermissions', 'TestIamPermissions', 'resource', 'google.iam.v1.TestIamPermissionsResponse', '*'),
  route('GET', QUEUE, '/tasks', 'ListTasks', 'parent', 'ListTasksResponse'),
  route('POST', QUEUE, '/tasks', 'CreateTask', 'parent', 'Task', '*'),
  route('GET', TASK, '', 'GetTask', 'name', 'Task'),
  route('DELETE', TASK, '', 'DeleteTask', 'name', 'google.protobuf.Empty'),
  route('POST', TASK, ':run', 'RunTask', 'name', 'Task', '*'),
];

const REQUEST_TYPES: Record<string, string> = {
  GetIamPolicy: 'google.iam.v1.GetIamPolicyRequest',
  SetIamPolicy: 'google.iam.v1.SetIamPolicyRequest',
  TestIamPermissions: 'google.iam.v1.TestIamPermissionsRequest',
};

/** Query parameters that are about the transport, not the request message. */
const SYSTEM_PARAMS = new Set(['alt', '$alt', 'prettyPrint', '$prettyPrint', 'key', 'fields', '$fields', 'quotaUser', 'callback', 'access_token', 'upload_protocol', 'uploadType', '$.xgafv']);

/** What the REST front end serves from. */
export interface RestDeps {
  api: Api;
  protos: Protos;
  /** The token issuer; a function because its URL is known only once the port is bound. */
  oidc(): OidcIssuer;
  log: Logger;
  stats(): unknown;
  resetTaskNameReuse(): void;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, e: CloudTasksApiError): void {
  send(res, e.httpStatus, { error: { code: e.httpStatus, message: e.message, status: e.statusName } });
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new InvalidArgumentError(`Request body larger than ${MAX_BODY_BYTES} bytes.`, 'body');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Sets `a.b.c` in a JSON object. */
function setPath(target: JSONObject, path: string, value: JSONValue): void {
  const parts = path.split('.');
  let at = target;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    if (!next || typeof next !== 'object' || Array.isArray(next)) at[p] = {};
    at = at[p] as JSONObject;
  }
  at[parts.at(-1)!] = value;
}

/** A query value as proto3 JSON expects it: digits become numbers (page sizes, numeric enums). */
function queryValue(v: string): JSONValue {
  return /^-?\d+$/.test(v) && v.length < 16 ? Number(v) : v;
}

/** Builds the HTTP/1.1 request handler. */
export function createRestHandler(deps: RestDeps): http.RequestListener {
  const { api, protos, log } = deps;
  const methods = protos.root.lookupService('google.cloud.tasks.v2.CloudTasks').methods;

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const path = decodeURIComponent(url.pathname);
    const method = req.method === 'POST' && req.headers['x-http-method-override'] ? String(req.headers['x-http-method-override']) : req.method;
    const matches = ROUTES.filter((r) => r.pattern.test(path));
    const match = matches.find((r) => r.method === method);
    if (!match) {
      if (matches.length > 0) throw new InvalidArgumentError(`Method ${method} is not allowed on ${path}.`, 'method');
      throw new NotFoundError(`No such Cloud Tasks v2 resource or method: ${method} ${path}.`, 'url');
    }
    const resource = match.pattern.exec(path)![1]!;
    if (match.rpc === 'GetLocation') {
      const locationId = resource.split('/')[3]!;
      send(res, 200, { name: resource, locationId });
      return;
    }
    let json: JSONObject = {};
    if (match.body) {
      const text = await readBody(req);
      let parsed: JSONValue = {};
      try {
        parsed = text.trim() ? (JSON.parse(text) as JSONValue) : {};
      } catch (err) {
        throw new InvalidArgumentError(`Invalid JSON payload received: ${(err as Error).message}`, 'body', { cause: err });
      }
      if (match.body === '*') json = (parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}) as JSONObject;
      else json[match.body] = parsed;
    }
    for (const [k, v] of url.searchParams) {
      if (SYSTEM_PARAMS.has(k)) continue;
      if (k === 'updateMask' || k === 'update_mask') setPath(json, 'updateMask', v);
      else setPath(json, k, queryValue(v));
    }
    setPath(json, match.pathField, resource);
    const requestTypeName = REQUEST_TYPES[match.rpc] ?? methods[match.rpc]!.requestType;
    const requestType = protos.type(requestTypeName);
    let request: unknown;
    try {
      const message = fromProto3JSON(requestType, json);
      request = message ? requestType.toObject(message, MESSAGE_SHAPE) : {};
    } catch (err) {
      throw new InvalidArgumentError(`Invalid request for ${match.rpc}: ${(err as Error).message}`, 'body', { cause: err });
    }
    const response = await api[match.rpc]!(request);
    const responseType = protos.type(match.response);
    send(res, 200, toProto3JSON(responseType.fromObject(response as Record<string, unknown>)));
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const done = (p: Promise<void>): void => {
      p.catch((err: unknown) => {
        const e = asApiError(err);
        if (e.statusName === 'INTERNAL') log.error('REST handler failed', { path: url.pathname, err });
        else log.debug('REST request refused', { method: req.method, path: url.pathname, status: e.statusName, message: e.message });
        if (!res.headersSent) sendError(res, e);
        else res.end();
      });
    };
    if (req.method === 'GET' && url.pathname === JWKS_PATH) return send(res, 200, deps.oidc().jwks());
    if (req.method === 'GET' && url.pathname === DISCOVERY_PATH) return send(res, 200, deps.oidc().discovery());
    if (req.method === 'GET' && url.pathname === `${EMULATOR_PATH}/stats`) return send(res, 200, deps.stats());
    if (req.method === 'POST' && url.pathname === `${EMULATOR_PATH}/reset-task-name-reuse`) {
      deps.resetTaskNameReuse();
      return send(res, 200, {});
    }
    if (url.pathname.startsWith('/v2/')) return done(handleApi(req, res, url));
    done(Promise.reject(new NotFoundError(`No such path ${url.pathname}: the emulator serves /v2/... (Cloud Tasks API), ${JWKS_PATH}, ${DISCOVERY_PATH} and ${EMULATOR_PATH}/stats.`, 'url')));
  };
}
