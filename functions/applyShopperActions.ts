/**
 * `applyShopperActions`: the private worker behind the public links. Pushed
 * by the subscription on RESTOCK_SHOPPER_ACTIONS_TOPIC, it applies each action
 * (today: unsubscribe, only from the subscription generation the link was
 * issued for). Thin: verify the push's caller, then `lib/shopper-actions`.
 * A bad message is acknowledged and logged without its content; Firestore
 * down is a 503 that Pub/Sub retries.
 */
import { callerAuthorization, refuseCaller, verifyIdToken } from '../lib/auth/index.ts';
import { list } from '../lib/config.ts';
import { jsonReply, writeReply } from '../lib/http/index.ts';
import { log } from '../lib/log.ts';
import { runtime } from '../lib/runtime.ts';
import { handleShopperActionPush } from '../lib/shopper-actions/index.ts';
import { FirestorePendingStore, FirestoreSubscriptionStore } from '../lib/subscriptions/index.ts';
import { FirestoreClickStore } from '../lib/clicks/index.ts';
import { http } from './framework.ts';

let store: FirestoreSubscriptionStore | undefined;
let pending: FirestorePendingStore | undefined;
let clicks: FirestoreClickStore | undefined;

// A body the framework refused (not JSON, too large) would come back with every redelivery: acknowledge it, changing nothing.
const onRefused = async ({ error }: { error: Error }) => {
  log.warn('shopper action rejected', { field: 'body', problem: error.name });
  return jsonReply(200, { outcome: 'rejected', field: 'body', problem: error.name });
};

http('applyShopperActions', { onRefused }, async (req, res) => {
  const rt = runtime();
  // Only the push subscription's identity may apply actions (as for fan-out's events), for this service's URL.
  if (rt.config.verifyPushOidc) {
    const refusal = await refuseCaller('shopper-actions', () =>
      verifyIdToken(callerAuthorization(req), {
        issuers: list(rt.config.oidcIssuers),
        jwksUrl: rt.config.oidcJwksUrl,
        callers: list(rt.config.pushServiceAccount),
        behindCloudRunIam: rt.config.behindCloudRunIam,
        audience: rt.config.oidcAudience,
        service: rt.config.cloudRunService,
      }),
    );
    if (refusal) return writeReply(res, refusal);
  }
  store ??= new FirestoreSubscriptionStore(rt.db);
  pending ??= new FirestorePendingStore(rt.db);
  clicks ??= new FirestoreClickStore(rt.db, rt.config.ledgerTtlDays);
  writeReply(res, await handleShopperActionPush({ store, pending, clicks, metrics: rt.metrics }, { headers: req.headers, body: req.body, rawBody: req.rawBody }));
});
