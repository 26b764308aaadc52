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
import { ConfigError, SETTINGS, loadConfig } from '../lib/config.ts';
import { writeReply } from '../lib/http/index.ts';
import { runtime } from '../lib/runtime.ts';
import { FirestoreSubscriptionStore } from '../lib/subscriptions/index.ts';
import { createUnsubscribeApi, unsubscribeKeys, type UnsubscribeApi } from '../lib/unsubscribe/index.ts';
import { http } from './framework.ts';

let api: UnsubscribeApi | undefined;

function keys(): string[] {
  const secret = loadConfig().unsubscribeSecret;
  if (secret === undefined) throw new ConfigError(SETTINGS.unsubscribeSecret.env, 'is required by restockUnsubscribe (it verifies the links)');
  return unsubscribeKeys(secret);
}

http('restockUnsubscribe', { onStart: () => void keys() }, async (req, res) => {
  const rt = runtime();
  api ??= createUnsubscribeApi({ store: new FirestoreSubscriptionStore(rt.db), keys: keys(), maxBodyBytes: rt.config.maxBodyBytes });
  const reply = await api({ method: req.method, url: req.originalUrl, headers: req.headers, rawBody: req.rawBody });
  writeReply(res, reply);
});
