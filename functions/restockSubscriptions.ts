/**
 * `restockSubscriptions`: the HTTP API storefront backends use to put shoppers
 * on (and off) a product's waiting list. Thin: it adapts functions-framework's
 * request to `lib/subscriptions` and writes the answer.
 *
 * In production the function is private: only the storefront backends'
 * service accounts hold `roles/run.invoker` on it. The caller is named only by
 * a token lib/auth verifies (lib/subscriptions/caller.ts), and acts only within
 * its tenant (RESTOCK_STOREFRONT_TENANTS, required outside the emulators).
 */
import { apiCallerPolicy } from '../lib/auth/index.ts';
import { checkConfirmationSetup, createConfirmationSender } from '../lib/consent/index.ts';
import { loadConfig } from '../lib/config.ts';
import { FirestoreShopperData } from '../lib/shoppers/index.ts';
import { writeReply } from '../lib/http/index.ts';
import { runtime } from '../lib/runtime.ts';
import { FirestoreConversionStore } from '../lib/conversions/index.ts';
import { FirestorePendingStore, FirestoreSubscriptionStore, createSubscriptionApi } from '../lib/subscriptions/index.ts';
import { http } from './framework.ts';

// Built on first use, not at import: functions/index.ts loads every entry point in every function.
let api: ReturnType<typeof createSubscriptionApi> | undefined;

// Framework-raised errors (malformed JSON, oversized bodies, undecodable paths) are problems too: ./framework.ts.
// A channel of RESTOCK_DOUBLE_OPT_IN whose sender lacks a setting stops the process at start, naming it
// (onStart runs only where this function is served; clients stay lazy).
const onStart = (): void => checkConfirmationSetup(loadConfig());

http('restockSubscriptions', { onStart }, async (req, res) => {
  const rt = runtime();
  api ??= createSubscriptionApi({
    store: new FirestoreSubscriptionStore(rt.db),
    settings: { ...rt.config, callerPolicy: apiCallerPolicy(rt.config) },
    // Double opt-in (RESTOCK_DOUBLE_OPT_IN): pending requests and their confirmations, by each channel's own sender.
    ...(rt.config.doubleOptIn.length > 0 ? { pending: new FirestorePendingStore(rt.db), confirmations: createConfirmationSender(rt.config, rt.db, rt.log) } : {}),
    shoppers: new FirestoreShopperData(rt.db, { ledgerTtlDays: rt.config.ledgerTtlDays }),
    conversions: new FirestoreConversionStore(rt.db, { windowMs: rt.config.attributionWindowDays * 86_400_000, ttlDays: rt.config.ledgerTtlDays }),
    metrics: rt.metrics,
  });
  const reply = await api({ method: req.method, url: req.originalUrl, headers: req.headers, rawBody: req.rawBody });
  writeReply(res, reply);
});
