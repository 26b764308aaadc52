/**
 * `restockSubscriptions`: the HTTP API storefront backends use to put shoppers
 * on (and off) a product's waiting list. Thin: it adapts functions-framework's
 * request to `lib/subscriptions` and writes the answer.
 *
 * In production the function is private: only the storefront backend's
 * service account holds `roles/run.invoker` on it; there is no auth code here
 * because Cloud Run checks the caller's identity before the request arrives.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as ff from '@google-cloud/functions-framework';
import { firestore } from '../lib/clients.ts';
import { loadConfig } from '../lib/config.ts';
import { RouteNotFoundError, errorToProblemReply, fromFrameworkError, writeReply } from '../lib/http/index.ts';
import { log } from '../lib/log.ts';
import { FirestoreSubscriptionStore, createSubscriptionApi } from '../lib/subscriptions/index.ts';

type RequestWithRawBody = IncomingMessage & { rawBody?: Buffer };
type FinalHandler = (err?: unknown) => void;
interface ExpressApplicationProto {
  handle(this: unknown, req: IncomingMessage, res: ServerResponse, callback?: FinalHandler): void;
  __problemFinalHandler?: true;
}

/**
 * Answers errors raised before the function runs (body-parser: malformed
 * JSON, bad charset or encoding, aborted body) as problem+json instead of
 * express's HTML page, which carries a stack trace outside production.
 *
 * functions-framework builds its express app internally and offers no error
 * hook (functions-framework-nodejs issue #686), so the default final handler
 * of the express instance it uses is replaced: the callback express passes to
 * `app.handle` when the server calls the app. Idempotent; affects only errors
 * no middleware handled, in this process.
 */
function installProblemFinalHandler(): void {
  const requireFromHere = createRequire(import.meta.url);
  const requireFromFramework = createRequire(requireFromHere.resolve('@google-cloud/functions-framework'));
  const express = requireFromFramework('express') as { application: ExpressApplicationProto };
  const proto = express.application;
  if (proto.__problemFinalHandler) return;
  const originalHandle = proto.handle;
  proto.handle = function handle(req, res, callback) {
    const final: FinalHandler = (err) => {
      if (res.headersSent) {
        // Too late for an answer: end the exchange the way express would.
        if (err !== undefined) req.socket.destroy();
        return;
      }
      const error = err === undefined ? new RouteNotFoundError(req.url ?? '') : fromFrameworkError(err, (req as RequestWithRawBody).rawBody);
      const reply = errorToProblemReply(error);
      const severity = reply.status >= 500 ? 'error' : 'info';
      // Never log `err` itself: body-parser attaches the raw body to it.
      log[severity]('request refused before the function ran', {
        status: reply.status,
        problem: error.name,
        frameworkError: (err as { type?: unknown } | undefined)?.type,
      });
      req.resume();
      writeReply(res, reply);
    };
    originalHandle.call(this, req, res, callback ?? final);
  };
  proto.__problemFinalHandler = true;
}

installProblemFinalHandler();

const config = loadConfig();
const api = createSubscriptionApi({ store: new FirestoreSubscriptionStore(firestore(config)), settings: config });

ff.http('restockSubscriptions', async (req, res) => {
  const reply = await api({ method: req.method, url: req.originalUrl, headers: req.headers, rawBody: req.rawBody });
  writeReply(res, reply);
});
