/**
 * `relayOutbox`: the outbox sweep, invoked by Cloud Scheduler every minute in
 * production (OIDC) and every few seconds by the local stack. Thin: run one
 * sweep of `lib/outbox` over the Firestore outbox, report what it did, and log
 * the outbox's gauges (pending, failed, oldest pending age) that the alerts
 * read. The fast path runs inside the inventory service itself (the kit);
 * both share the relay's one code path.
 */
import { pubsub } from '../lib/clients.ts';
import { errorToProblemReply, jsonReply, MethodNotAllowedError, writeReply } from '../lib/http/index.ts';
import { errorFields, log } from '../lib/log.ts';
import { FirestoreOutbox, OutboxRelay, pubsubPublisher, relayOptionsFrom } from '../lib/outbox/index.ts';
import { metrics } from '../lib/metrics/index.ts';
import { runtime } from '../lib/runtime.ts';
import { http } from './framework.ts';

let relay: { store: FirestoreOutbox; relay: OutboxRelay } | undefined;

function relayFor(): { store: FirestoreOutbox; relay: OutboxRelay } {
  if (!relay) {
    const rt = runtime();
    const store = new FirestoreOutbox(rt.db, { outboxCollection: rt.config.outboxCollection });
    const publisher = pubsubPublisher(pubsub(rt.config), rt.config.outboxTopic, { timeoutMs: rt.config.outboxPublishTimeoutMs });
    relay = { store, relay: new OutboxRelay(store, publisher, { ...relayOptionsFrom(rt.config, log.child({ component: 'relayOutbox' })), metrics: metrics() }) };
  }
  return relay;
}

http('relayOutbox', {}, async (req, res) => {
  if (req.method !== 'POST') {
    writeReply(res, errorToProblemReply(new MethodNotAllowedError(req.method, ['POST'])));
    return;
  }
  const rt = runtime();
  const { store, relay: r } = relayFor();
  try {
    const report = await r.sweep(rt.config.outboxSweepBudgetMs);
    const stats = await store.stats();
    const oldestPendingAgeMs = stats.oldestPendingStagedAtMs === null ? 0 : Math.max(0, rt.now() - stats.oldestPendingStagedAtMs);
    // One line per sweep with the gauges: the log-based metrics of terraform/outbox.tf read these fields.
    log.info('outbox sweep', { ...report, pendingRows: stats.pending, failedRows: stats.failed, oldestPendingAgeMs, outboxSweep: true });
    writeReply(res, jsonReply(200, { ...report, pending: stats.pending, failed: stats.failed, oldestPendingAgeMs }));
  } catch (err) {
    // Firestore unreachable and the like: 500 so the scheduler's next run (or its retry) tries again.
    log.error('outbox sweep failed', { err: errorFields(err) });
    writeReply(res, errorToProblemReply(err));
  }
});
