/**
 * `restockSubscriptions`: the HTTP API storefront backends use to put shoppers
 * on (and off) a product's waiting list. Thin: it adapts functions-framework's
 * request to `lib/subscriptions` and writes the answer.
 *
 * In production the function is private: only the storefront backend's
 * service account holds `roles/run.invoker` on it; there is no auth code here
 * because Cloud Run checks the caller's identity before the request arrives.
 */
import { writeReply } from '../lib/http/index.ts';
import { runtime } from '../lib/runtime.ts';
import { FirestoreSubscriptionStore, createSubscriptionApi } from '../lib/subscriptions/index.ts';
import { http } from './framework.ts';

// Built on first use, not at import: functions/index.ts loads every entry point in every function.
let api: ReturnType<typeof createSubscriptionApi> | undefined;

// Framework-raised errors (malformed JSON, oversized bodies, undecodable paths) are problems too: ./framework.ts.
http('restockSubscriptions', {}, async (req, res) => {
  const rt = runtime();
  api ??= createSubscriptionApi({ store: new FirestoreSubscriptionStore(rt.db), settings: rt.config });
  const reply = await api({ method: req.method, url: req.originalUrl, headers: req.headers, rawBody: req.rawBody });
  writeReply(res, reply);
});
