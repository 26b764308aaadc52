/**
 * The one place that knows how functions-framework (and the express app it
 * builds) handles a request before our code runs. Every entry point registers
 * through {@link http}, which adds what the framework does not do for us:
 *
 * - Bodies over `RESTOCK_MAX_BODY_BYTES` are refused before anything is
 *   buffered beyond the limit: by their declared `Content-Length` before a
 *   byte is read; a chunked or compressed body is read here first, counting
 *   the bytes on the wire and inflating with its output capped, and only the
 *   decoded bytes (within the limit) reach the framework's parser. The
 *   framework's own limit is 1 GB, applied after inflating: a 61 KB gzip body
 *   used to cost 600 MB of memory before it was refused.
 * - Errors raised before the function (body-parser: malformed JSON, bad
 *   charset or encoding, aborted body; express's router: undecodable paths)
 *   are answered as problem+json instead of express's HTML page, which
 *   carries a stack trace outside production.
 * - Every answer carries `X-Content-Type-Options: nosniff` and a
 *   Content-Security-Policy (`SECURITY_HEADERS`, lib/http).
 * - Each request runs in its trace (lib/trace): the Pub/Sub message's
 *   `traceparent` attribute, else the `traceparent` / `X-Cloud-Trace-Context`
 *   header, else a new one, so its log lines and the tasks and messages it
 *   sends on group with the rest of the restock in Cloud Logging.
 * - An entry point may take over those refusals ({@link HttpEntryOptions.onRefused}):
 *   `fanOutRestock` records them as rejected events and acknowledges them,
 *   because Pub/Sub would redeliver the same bytes forever (promise 4).
 *
 * functions-framework builds its express app internally and offers no error
 * hook (functions-framework-nodejs issue #686), so the express instance it
 * uses is patched: `app.handle` gets our final handler instead of express's.
 * In production one process serves one function (its `FUNCTION_TARGET`),
 * even though `functions/index.ts` registers all three; the refusal policy is
 * the target's.
 */
import { createRequire } from 'node:module';
import { IncomingMessage, type ServerResponse } from 'node:http';
import * as ff from '@google-cloud/functions-framework';
import { deploymentProblems, loadConfig, type FunctionName } from '../lib/config.ts';
import {
  BodyTooLargeError,
  RouteNotFoundError,
  errorToProblemReply,
  findProblemSpec,
  fromFrameworkError,
  headerValue,
  HTTP_PROBLEMS,
  isDeclaredIdentityBody,
  readBoundedBody,
  requireBodyWithin,
  SECURITY_HEADERS,
  writeReply,
  type HttpReply,
} from '../lib/http/index.ts';
import { errorFields, log } from '../lib/log.ts';
import { runWithTrace, startTrace, traceFromRequest, type TraceContext } from '../lib/trace/index.ts';
import { flushMetricsIfDue, startMetrics } from '../lib/metrics/index.ts';

/** A request the entry point never saw: why it was refused, and what was read of it. */
export interface RefusedRequest {
  /** A typed request error of `lib/http` (MalformedJsonError, BodyTooLargeError, ...). */
  error: Error;
  /** The body bytes, when they were read (not for a body refused by its declared length). */
  rawBody: Buffer | undefined;
  /** Declared `Content-Length`, when there was one. */
  declaredBytes: number | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** How an entry point wants its refused requests answered. */
export interface HttpEntryOptions {
  /**
   * Answers a client-side refusal (a 4xx problem) instead of the default
   * problem+json. Resolving undefined keeps the default. A rejection is
   * answered 500 (the caller retries).
   */
  onRefused?: (refused: RefusedRequest) => Promise<HttpReply | undefined>;
  /** Largest body accepted; default RESTOCK_MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /**
   * Checks that run when this process serves the function (its `--target` or
   * FUNCTION_TARGET), at registration: throwing stops the process at start
   * (a sender chosen without its settings), not at the first request.
   */
  onStart?: () => void;
}

type RequestWithRawBody = IncomingMessage & { rawBody?: Buffer };
type FinalHandler = (err?: unknown) => void;
interface ExpressApplicationProto {
  handle(this: unknown, req: IncomingMessage, res: ServerResponse, callback?: FinalHandler): void;
  __restockFinalHandler?: true;
}

const entries = new Map<string, HttpEntryOptions>();

/**
 * Registers `handler` as the HTTP function `name` with functions-framework,
 * behind the body limit and problem answers described in the module comment.
 */
export function http(name: FunctionName, options: HttpEntryOptions, handler: ff.HttpFunction): void {
  // Settings are parsed as each function registers, so a bad value stops the process at
  // start naming the variable (lib/config.ts), not at the first request. Clients stay lazy.
  const config = loadConfig();
  if (servedTarget() === name) {
    try {
      options.onStart?.();
    } catch (err) {
      // functions-framework reports a module that cannot load as unstructured text with a stack;
      // this is the one structured ERROR line (Cloud Logging, Error Reporting) that says why.
      const { name: refusal, message } = errorFields(err) as { name?: string; message: string };
      log.error(`${name} refused to start: ${message}`, { refusal });
      throw err;
    }
    startMetrics(config, name);
  }
  // Outside the emulators, settings that would leave the served function open (or lose
  // notifications) stop it at start too; another function's settings are not its business.
  const target = servedTarget();
  const problem = target === undefined || target === name ? deploymentProblems(config, name)[0] : undefined;
  if (problem) throw problem;
  installFinalHandler();
  entries.set(name, options);
  ff.http(name, (req, res) =>
    // Every line of the request, and every task or message it sends on, carries the caller's trace (lib/trace).
    runWithTrace(requestTrace(req), async () => {
      try {
        requireBodyWithin({ headers: req.headers, rawBody: req.rawBody }, maxBodyBytes(options));
      } catch (err) {
        await refuse(req, res, err as Error, options);
        return;
      }
      if (servedTarget() === name) exportBeforeAnswering(res);
      await handler(req, res);
    }),
  );
}

/** The trace a request runs in (lib/trace): its caller's, else a new one. The body is read when parsed (a Pub/Sub push's attributes). */
function requestTrace(req: IncomingMessage & { body?: unknown }): TraceContext {
  return traceFromRequest(req.headers, req.body) ?? startTrace();
}

/**
 * Holds the answer back until a due metrics export is done (bounded, never
 * failing): on Cloud Run the CPU is throttled once the answer is sent, so an
 * export started after it may never finish (lib/metrics/otel.ts).
 */
function exportBeforeAnswering(res: ServerResponse): void {
  const end = res.end;
  res.end = function endAfterExport(this: ServerResponse, ...args: unknown[]) {
    void flushMetricsIfDue().finally(() => (end as (...a: unknown[]) => ServerResponse).apply(this, args));
    return this;
  } as ServerResponse['end'];
}

function maxBodyBytes(entry: HttpEntryOptions): number {
  return entry.maxBodyBytes ?? loadConfig().maxBodyBytes;
}

/** The function this process serves: `--target` as functions-framework reads it, else FUNCTION_TARGET. */
function servedTarget(): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--target=')) return arg.slice('--target='.length);
    if (arg === '--target') return argv[i + 1];
  }
  return process.env.FUNCTION_TARGET;
}

function servedEntry(): HttpEntryOptions | undefined {
  const target = servedTarget();
  if (target !== undefined) return entries.get(target);
  return entries.size === 1 ? [...entries.values()][0] : undefined;
}

function declaredLength(req: IncomingMessage): number | undefined {
  const value = Number(headerValue(req, 'content-length'));
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Answers a refused request: the entry point's own answer for a client error
 * when it has one, else the problem. The unread rest of the body is drained
 * (read and dropped, never buffered) and the connection closed after the answer.
 */
async function refuse(req: IncomingMessage, res: ServerResponse, error: Error, options: HttpEntryOptions | undefined): Promise<void> {
  const problem = errorToProblemReply(error);
  let reply = problem;
  const clientError = findProblemSpec(error, HTTP_PROBLEMS) !== undefined;
  if (clientError && options?.onRefused) {
    try {
      reply =
        (await options.onRefused({
          error,
          rawBody: (req as RequestWithRawBody).rawBody,
          declaredBytes: declaredLength(req),
          headers: req.headers,
        })) ?? problem;
    } catch (err) {
      log.error('refused request could not be handled', { problem: error.name, err: errorFields(err) });
      reply = errorToProblemReply(err);
    }
  }
  const severity = reply.status >= 500 ? 'error' : 'info';
  // Never log the framework's error itself: body-parser attaches the raw body to it.
  log[severity]('request refused before the function ran', { status: reply.status, problem: error.name });
  if (res.headersSent) return;
  // Read the rest and drop it, so an uploading client gets the answer instead of a reset
  // connection; past a bound it is answered anyway and the connection closed.
  if (!req.complete && !(await drained(req, DRAIN_MAX_BYTES))) reply = { ...reply, headers: { ...reply.headers, connection: 'close' } };
  if (res.headersSent) return;
  writeReply(res, reply);
}

/** How much of a refused body is read and dropped before answering; more is cut off. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;

/** Reads `req` to its end without keeping a byte; false when it ran past `maxBytes` or broke off. */
function drained(req: IncomingMessage, maxBytes: number): Promise<boolean> {
  return new Promise((resolve) => {
    let dropped = 0;
    const done = (complete: boolean) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      resolve(complete);
    };
    const onData = (chunk: Buffer) => {
      dropped += chunk.byteLength;
      if (dropped > maxBytes) {
        req.pause();
        done(false);
      }
    };
    const onEnd = () => done(true);
    const onClose = () => done(req.complete);
    req.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
    req.resume();
  });
}

/**
 * Replaces the final handler of the express instance functions-framework
 * uses, and refuses a declared oversized body before express reads it.
 * Idempotent; affects only this process.
 */
function installFinalHandler(): void {
  const requireFromHere = createRequire(import.meta.url);
  const requireFromFramework = createRequire(requireFromHere.resolve('@google-cloud/functions-framework'));
  const express = requireFromFramework('express') as { application: ExpressApplicationProto };
  const proto = express.application;
  if (proto.__restockFinalHandler) return;
  const originalHandle = proto.handle;
  proto.handle = function handle(req, res, callback) {
    // Every answer, whoever writes it (writeReply sets them again under a reply's own): issue 31, item 12.
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const entry = servedEntry();
    const limit = entry ? maxBodyBytes(entry) : loadConfig().maxBodyBytes;
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit) {
      void runWithTrace(requestTrace(req), () => refuse(req, res, new BodyTooLargeError(declared, limit), entry));
      return;
    }
    const finalFor =
      (request: IncomingMessage): FinalHandler =>
      (err) => {
        if (res.headersSent) {
          // Too late for an answer: end the exchange the way express would.
          if (err !== undefined) req.socket.destroy();
          return;
        }
        const error = err === undefined ? new RouteNotFoundError(request.url ?? '') : fromFrameworkError(err, (request as RequestWithRawBody).rawBody);
        if (err !== undefined && findProblemSpec(error, HTTP_PROBLEMS) === undefined) {
          log.error('request failed before the function ran', { frameworkError: (err as { type?: unknown }).type, err: errorFields(error) });
        }
        void runWithTrace(requestTrace(request), () => refuse(request, res, error, err === undefined ? undefined : entry));
      };
    if (!hasBody(req) || isDeclaredIdentityBody(req)) {
      originalHandle.call(this, req, res, callback ?? finalFor(req));
      return;
    }
    // Not bounded by its declaration: read it here, within the limit, and hand the framework the decoded bytes.
    readBoundedBody(req.iterator({ destroyOnReturn: false }), req.headers, limit).then(
      (body) => {
        const decoded = withDecodedBody(req, body);
        originalHandle.call(this, decoded, res, callback ?? finalFor(decoded));
      },
      (err: unknown) => void runWithTrace(requestTrace(req), () => refuse(req, res, err as Error, entry)),
    );
  };
  proto.__restockFinalHandler = true;
}

/** Whether a request carries a body at all (RFC 9112 §6.3: a length or a transfer coding). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/**
 * The request as if it had arrived with `body` as a plain identity body of
 * declared length: the framework's parser then reads exactly those bytes.
 * The original has been read to its end; the answer still goes to its socket.
 */
function withDecodedBody(req: IncomingMessage, body: Buffer): IncomingMessage {
  const decoded = new IncomingMessage(req.socket);
  const headers = { ...req.headers, 'content-length': String(body.byteLength) };
  delete headers['content-encoding'];
  delete headers['transfer-encoding'];
  decoded.headers = headers;
  decoded.rawHeaders = Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value.flatMap((v) => [name, v]) : [name, String(value)]));
  decoded.method = req.method!;
  decoded.url = req.url!;
  decoded.httpVersion = req.httpVersion;
  decoded.httpVersionMajor = req.httpVersionMajor;
  decoded.httpVersionMinor = req.httpVersionMinor;
  decoded.complete = true;
  decoded.push(body);
  decoded.push(null);
  return decoded;
}
