/**
 * The one place that knows how functions-framework (and the express app it
 * builds) handles a request before our code runs. Every entry point registers
 * through {@link http}, which adds what the framework does not do for us:
 *
 * - Bodies over `RESTOCK_MAX_BODY_BYTES` are refused: by their declared
 *   `Content-Length` before a byte is read, and by their actual size (a
 *   chunked upload) before the function runs. The framework's own limit is
 *   1 GB.
 * - Errors raised before the function (body-parser: malformed JSON, bad
 *   charset or encoding, aborted body; express's router: undecodable paths)
 *   are answered as problem+json instead of express's HTML page, which
 *   carries a stack trace outside production.
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
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as ff from '@google-cloud/functions-framework';
import { loadConfig } from '../lib/config.ts';
import {
  BodyTooLargeError,
  RouteNotFoundError,
  errorToProblemReply,
  findProblemSpec,
  fromFrameworkError,
  headerValue,
  HTTP_PROBLEMS,
  requireBodyWithin,
  writeReply,
  type HttpReply,
} from '../lib/http/index.ts';
import { errorFields, log } from '../lib/log.ts';

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
export function http(name: string, options: HttpEntryOptions, handler: ff.HttpFunction): void {
  // Settings are parsed as each function registers, so a bad value stops the process at
  // start naming the variable (lib/config.ts), not at the first request. Clients stay lazy.
  loadConfig();
  if (servedTarget() === name) options.onStart?.();
  installFinalHandler();
  entries.set(name, options);
  ff.http(name, async (req, res) => {
    try {
      requireBodyWithin({ headers: req.headers, rawBody: req.rawBody }, maxBodyBytes(options));
    } catch (err) {
      await refuse(req, res, err as Error, options);
      return;
    }
    await handler(req, res);
  });
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
  if (!req.complete) reply = { ...reply, headers: { ...reply.headers, connection: 'close' } };
  req.resume();
  writeReply(res, reply);
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
    const entry = servedEntry();
    const declared = declaredLength(req);
    if (entry && declared !== undefined && declared > maxBodyBytes(entry)) {
      void refuse(req, res, new BodyTooLargeError(declared, maxBodyBytes(entry)), entry);
      return;
    }
    const final: FinalHandler = (err) => {
      if (res.headersSent) {
        // Too late for an answer: end the exchange the way express would.
        if (err !== undefined) req.socket.destroy();
        return;
      }
      const error = err === undefined ? new RouteNotFoundError(req.url ?? '') : fromFrameworkError(err, (req as RequestWithRawBody).rawBody);
      if (err !== undefined && findProblemSpec(error, HTTP_PROBLEMS) === undefined) {
        log.error('request failed before the function ran', { frameworkError: (err as { type?: unknown }).type, err: errorFields(error) });
      }
      void refuse(req, res, error, err === undefined ? undefined : entry);
    };
    originalHandle.call(this, req, res, callback ?? final);
  };
  proto.__restockFinalHandler = true;
}
