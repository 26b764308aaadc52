/**
 * `restockUnsubscribe`: the one-click unsubscribe link of every restock email
 * (RFC 8058), `POST|GET /v1/unsubscribe/{token}`, and every message's tracked
 * product link, `GET /v1/c/{token}` (a 302 to the product, the click published
 * as a shopper action). Thin: it adapts the request
 * to `lib/unsubscribe` and writes the answer.
 *
 * Unlike `restockSubscriptions`, this function is public (`allUsers` may
 * invoke it): mailbox providers POST to it without any credential but the
 * sealed token in the URL. So it holds no database access at all: it opens
 * the token and publishes an unsubscribe request to
 * RESTOCK_SHOPPER_ACTIONS_TOPIC, which the private `applyShopperActions`
 * applies. Bodies over a few KiB are refused before they are read.
 */
import { pubsub } from '../lib/clients.ts';
import { loadConfig } from '../lib/config.ts';
import { writeReply } from '../lib/http/index.ts';
import { pubsubShopperActionPublisher } from '../lib/shopper-actions/index.ts';
import { createUnsubscribeApi, UNSUBSCRIBE_MAX_BODY_BYTES, type UnsubscribeApi } from '../lib/unsubscribe/index.ts';
import { http } from './framework.ts';

const DAY_MS = 86_400_000;
let api: UnsubscribeApi | undefined;

/**
 * Built on first use. Without RESTOCK_UNSUBSCRIBE_SECRET no email carries a
 * link (the smtp sender refuses to start without it), so no token opens:
 * every one is refused, and the deployment needs no key while email is not
 * sent over SMTP.
 */
function unsubscribeApi(): UnsubscribeApi {
  const config = loadConfig();
  api ??= createUnsubscribeApi({
    publisher: pubsubShopperActionPublisher(pubsub(config), config.shopperActionsTopic),
    keys: config.unsubscribeSecret ?? [],
    tokenMaxAgeMs: config.unsubscribeTokenMaxAgeDays * DAY_MS,
    // Double opt-in's links (`/v1/confirm/{token}`) live as long as the pending request they confirm.
    confirmTokenMaxAgeMs: config.confirmationTtlHours * 3_600_000,
    // Tracked product links (`/v1/c/{token}`): served while tracking is on; links already sent keep working only then.
    ...(config.clickTracking
      ? {
          clicks: {
            tokenMaxAgeMs: config.clickTokenMaxAgeDays * DAY_MS,
            prefetchSeconds: config.clickPrefetchSeconds,
            ...(config.clickUtmSource !== 'none' ? { utmSource: config.clickUtmSource } : {}),
          },
        }
      : {}),
    maxBodyBytes: UNSUBSCRIBE_MAX_BODY_BYTES,
  });
  return api;
}

http('restockUnsubscribe', { maxBodyBytes: UNSUBSCRIBE_MAX_BODY_BYTES }, async (req, res) => {
  writeReply(res, await unsubscribeApi()({ method: req.method, url: req.originalUrl, headers: req.headers, rawBody: req.rawBody }));
});
