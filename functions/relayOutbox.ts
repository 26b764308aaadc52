/**
 * `relayOutbox`: the outbox sweep, invoked by Cloud Scheduler every minute in
 * production (OIDC) and every few seconds by the local stack. Thin: run one
 * sweep of `lib/outbox` over the inventory service's outbox, wherever the
 * settings say it lives (RESTOCK_OUTBOX_BACKEND: a Firestore database, or a
 * Spanner database; often the inventory service's own project), report what
 * it did, and log the outbox's gauges (pending, failed, oldest pending age)
 * that the alerts read. The fast path runs inside the inventory service itself
 * (the kit); both share the relay's one code path.
 */
import { pubsub } from '../lib/clients.ts';
import { loadConfig } from '../lib/config.ts';
import { errorToProblemReply, jsonReply, MethodNotAllowedError, writeReply } from '../lib/http/index.ts';
import { errorFields, log } from '../lib/log.ts';
import { describeOutboxLocation, openOutboxStore, OutboxRelay, outboxLocation, pubsubPublisher, relayOptionsFrom, sweepAndReport, type OutboxStore } from '../lib/outbox/index.ts';
import { metrics } from '../lib/metrics/index.ts';
import { http } from './framework.ts';

let relay: { store: OutboxStore; relay: OutboxRelay } | undefined;

/** Builds the relay once; a Spanner backend without its instance or database throws ConfigError naming the setting. */
function relayFor(): { store: OutboxStore; relay: OutboxRelay } {
  if (!relay) {
    const config = loadConfig();
    const location = outboxLocation(config);
    const { store } = openOutboxStore(location);
    const publisher = pubsubPublisher(pubsub(config), config.outboxTopic, { timeoutMs: config.outboxPublishTimeoutMs });
    const relayLog = log.child({ component: 'relayOutbox' });
    relay = { store, relay: new OutboxRelay(store, publisher, { ...relayOptionsFrom(config, relayLog), metrics: metrics() }) };
    relayLog.info('outbox relay ready', { outbox: describeOutboxLocation(location) });
  }
  return relay;
}

// Where the outbox lives is checked when this process serves the relay: a bad location stops it at start.
http('relayOutbox', { onStart: () => void relayFor() }, async (req, res) => {
  if (req.method !== 'POST') {
    writeReply(res, errorToProblemReply(new MethodNotAllowedError(req.method, ['POST'])));
    return;
  }
  // No runtime(): the relay never opens the pipeline's own database, only the outbox's.
  const config = loadConfig();
  const { store, relay: r } = relayFor();
  try {
    const report = await sweepAndReport(store, r, { budgetMs: config.outboxSweepBudgetMs, now: Date.now, log });
    writeReply(res, jsonReply(200, report));
  } catch (err) {
    // The outbox's database unreachable and the like: 500 so the scheduler's next run (or its retry) tries again.
    log.error('outbox sweep failed', { err: errorFields(err) });
    writeReply(res, errorToProblemReply(err));
  }
});
