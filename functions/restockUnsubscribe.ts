/**
 * `restockUnsubscribe`: the one-click unsubscribe link of every restock email
 * (RFC 8058), `POST|GET /v1/unsubscribe/{token}`. Thin: it adapts the request
 * to `lib/unsubscribe` and writes the answer.
 *
 * Unlike `restockSubscriptions`, this function is public (`allUsers` may
 * invoke it, terraform/channels.tf): mailbox providers POST to it without any
 * credential but the signed token in the URL, and it serves that one route
 * and nothing else, so the subscription API itself stays private.
 */
import { loadConfig } from '../lib/config.ts';
import { writeReply } from '../lib/http/index.ts';
import { runtime } from '../lib/runtime.ts';
import { FirestoreSubscriptionStore } from '../lib/subscriptions/index.ts';
import { createUnsubscribeApi, type UnsubscribeApi } from '../lib/unsubscribe/index.ts';
import { http } from './framework.ts';

let api: UnsubscribeApi | undefined;

/**
 * The verification keys. Without RESTOCK_UNSUBSCRIBE_SECRET no email carries a
 * link (the smtp sender refuses to start without it), so none verifies: every
 * token is refused, and the deployment needs no key while email is not sent over SMTP.
 */
function keys(): string[] {
  return loadConfig().unsubscribeSecret ?? [];
}

http('restockUnsubscribe', {}, async (req, res) => {
  const rt = runtime();
  api ??= createUnsubscribeApi({ store: new FirestoreSubscriptionStore(rt.db), keys: keys(), maxBodyBytes: rt.config.maxBodyBytes });
  const reply = await api({ method: req.method, url: req.originalUrl, headers: req.headers, rawBody: req.rawBody });
  writeReply(res, reply);
});
