/**
 * A local stand-in for Firebase Cloud Messaging HTTP v1: it takes
 * `POST /v1/projects/{project}/messages:send` as FCM does, records every
 * request, and answers FCM's error shapes on demand, so the `fcm` sender runs
 * unchanged against it (RESTOCK_FCM_ENDPOINT).
 *
 * Errors are answered as FCM does: the HTTP status, a google.rpc.Status body
 * with an `FcmError` detail naming the code, a `BadRequest` field violation on
 * `message.token` for an invalid token, and Retry-After on quota errors.
 * Rules set over HTTP decide which token gets which answer:
 *
 * - `GET /messages[?token=&restockKey=]` every request, oldest first, with the answer given.
 * - `GET /keys` the same without messages and tokens (`restockKey`, `status`, `receivedAtMs`): cheap to poll.
 * - `DELETE /messages` forget them.
 * - `GET|POST|DELETE /faults`: `{ token, error, times?, retryAfterSeconds? }`.
 * - Tokens starting with `dead-` are always UNREGISTERED (demo data alone can show cleanup).
 * - `GET /healthz`.
 *
 * Logs name message keys and answers, never a token.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { log } from '../../lib/log.ts';
import { json, readBody } from '../http.ts';

/** The FCM v1 error codes the stand-in can answer, with their HTTP status and google.rpc status. */
export const FCM_ERRORS = {
  UNREGISTERED: { status: 404, rpc: 'NOT_FOUND', message: 'Requested entity was not found.' },
  INVALID_ARGUMENT: { status: 400, rpc: 'INVALID_ARGUMENT', message: 'The registration token is not a valid FCM registration token' },
  SENDER_ID_MISMATCH: { status: 403, rpc: 'PERMISSION_DENIED', message: 'SenderId mismatch' },
  QUOTA_EXCEEDED: { status: 429, rpc: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for the device' },
  UNAVAILABLE: { status: 503, rpc: 'UNAVAILABLE', message: 'The service is currently unavailable.' },
  INTERNAL: { status: 500, rpc: 'INTERNAL', message: 'Internal error encountered.' },
} as const;
export type FcmErrorCode = keyof typeof FCM_ERRORS;

export const pushFaultSchema = z.strictObject({
  token: z.string().min(1),
  error: z.enum(Object.keys(FCM_ERRORS) as [FcmErrorCode, ...FcmErrorCode[]]),
  times: z.number().int().positive().optional(),
  retryAfterSeconds: z.number().int().nonnegative().optional(),
});
export type PushFault = z.infer<typeof pushFaultSchema>;

/** One request as the stand-in received it. */
export interface ReceivedPush {
  id: number;
  receivedAtMs: number;
  project: string;
  token: string | undefined;
  /** `data.restockKey`: the dedup key of the notification. */
  restockKey: string | undefined;
  /** The whole `message` object as sent. */
  message: Record<string, unknown>;
  authorization: boolean;
  /** HTTP status answered; 200 means delivered. */
  status: number;
  error?: FcmErrorCode;
}

export interface FcmEmulatorOptions {
  host?: string;
  port?: number;
}

export interface FcmEmulator {
  url: string;
  messages: ReceivedPush[];
  stop(): Promise<void>;
}

/** The body FCM answers for an error code. */
export function fcmErrorBody(code: FcmErrorCode): Record<string, unknown> {
  const e = FCM_ERRORS[code];
  const details: Record<string, unknown>[] = [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: code }];
  if (code === 'INVALID_ARGUMENT') details.push({ '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'message.token', description: e.message }] });
  return { error: { code: e.status, message: e.message, status: e.rpc, details } };
}

const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

/** Starts the stand-in. */
export async function startFcmEmulator(options: FcmEmulatorOptions = {}): Promise<FcmEmulator> {
  const host = options.host ?? '127.0.0.1';
  const messages: ReceivedPush[] = [];
  let rules: (PushFault & { used: number })[] = [];
  let nextId = 1;

  const fault = (token: string): PushFault | undefined => {
    if (token.startsWith('dead-')) return { token, error: 'UNREGISTERED' };
    const rule = rules.find((r) => r.token === token && (r.times === undefined || r.used < r.times));
    if (rule) rule.used++;
    return rule;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const send = SEND_PATH.exec(url.pathname);
      if (send && req.method === 'POST') {
        const body = JSON.parse((await readBody(req))?.toString('utf8') ?? '') as { message?: Record<string, unknown> };
        const message = body.message;
        const token = typeof message?.token === 'string' ? message.token : undefined;
        const restockKey = (message?.data as Record<string, string> | undefined)?.restockKey;
        const base = { id: nextId++, receivedAtMs: Date.now(), project: decodeURIComponent(send[1]!), token, restockKey, message: message ?? {}, authorization: req.headers.authorization !== undefined };
        if (!message || !token) {
          messages.push({ ...base, status: 400, error: 'INVALID_ARGUMENT' });
          return json(res, 400, { error: { code: 400, message: 'message.token is required', status: 'INVALID_ARGUMENT' } });
        }
        const rule = fault(token);
        if (rule) {
          const e = FCM_ERRORS[rule.error];
          messages.push({ ...base, status: e.status, error: rule.error });
          log.info('push answered with an error', { restockKey, error: rule.error, status: e.status });
          const retryAfter: Record<string, string> = rule.retryAfterSeconds !== undefined ? { 'retry-after': String(rule.retryAfterSeconds) } : {};
          return json(res, e.status, fcmErrorBody(rule.error), retryAfter);
        }
        messages.push({ ...base, status: 200 });
        log.info('push received', { restockKey });
        return json(res, 200, { name: `projects/${base.project}/messages/${randomUUID()}` });
      }
      if (url.pathname === '/healthz') return json(res, 200, { ok: true });
      if (url.pathname === '/messages' && req.method === 'GET') {
        const token = url.searchParams.get('token');
        const key = url.searchParams.get('restockKey');
        return json(res, 200, { messages: messages.filter((m) => (!token || m.token === token) && (!key || m.restockKey === key)) });
      }
      if (url.pathname === '/keys' && req.method === 'GET') {
        return json(res, 200, { keys: messages.map(({ restockKey, status, receivedAtMs }) => ({ restockKey, status, receivedAtMs })) });
      }
      if (url.pathname === '/messages' && req.method === 'DELETE') {
        messages.length = 0;
        return json(res, 200, { ok: true });
      }
      if (url.pathname === '/faults' && req.method === 'GET') return json(res, 200, { faults: rules.map(({ used: _u, ...r }) => r) });
      if (url.pathname === '/faults' && req.method === 'DELETE') {
        rules = [];
        return json(res, 200, { ok: true });
      }
      if (url.pathname === '/faults' && req.method === 'POST') {
        const parsed = pushFaultSchema.safeParse(JSON.parse((await readBody(req))?.toString('utf8') || '{}'));
        if (!parsed.success) return json(res, 400, { error: 'InvalidFault', detail: parsed.error.issues[0]?.message, field: parsed.error.issues[0]?.path.join('.') });
        rules.push({ ...parsed.data, used: 0 });
        return json(res, 201, { faults: rules.length });
      }
      return json(res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } });
    })().catch((err: unknown) => json(res, 400, { error: { code: 400, message: `unreadable request (${(err as Error).name})`, status: 'INVALID_ARGUMENT' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    messages,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
