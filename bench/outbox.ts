/**
 * The outbox phase of `npm run bench`: how fast the relay drains a backlog
 * (rows/s: one sweep over `rows` pending rows, publishing to Pub/Sub), and how
 * long a stock change takes from its commit to its publish on the normal path
 * (`updates` stock updates through the inventory stand-in, one after another:
 * p50/p95 of the rows' publishedAtMs - stagedAtMs, and of the stand-in's answer).
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '../lib/log.ts';
import { FirestoreOutbox, newRow, OutboxRelay, pubsubPublisher, stockChangeEvent } from '../lib/outbox/index.ts';
import { percentile } from '../emulators/scenario/index.ts';
import type { StackClients, StackDescription } from '../emulators/stack/index.ts';

export interface OutboxBench {
  rows: number;
  relayMs: number;
  relayRowsPerSecond: number;
  updates: number;
  commitToPublishP50Ms: number | null;
  commitToPublishP95Ms: number | null;
  stockUpdateP50Ms: number | null;
  stockUpdateP95Ms: number | null;
  /** Updates whose publish did not make it within the fast path's bound (the sweep published them). */
  publishedBySweep: number;
}

export async function runOutboxBench(description: StackDescription, clients: StackClients, o: { rows: number; updates: number; say: (line: string) => void; sweep: () => Promise<unknown> }): Promise<OutboxBench> {
  // Relay throughput: a backlog in a collection of its own (the stack's sweep never sees it), on a topic of its own,
  // in the inventory stand-in's database (an outbox is the inventory service's data, never the pipeline's).
  const db = clients.inventoryFirestore;
  const backlog = new FirestoreOutbox(db, { outboxCollection: `outbox-bench-${randomUUID().slice(0, 8)}` });
  const topic = `outbox-bench-${randomUUID().slice(0, 8)}`;
  await clients.pubsub.createTopic(topic);
  o.say(`outbox: staging ${o.rows} pending rows...`);
  const now = Date.now();
  for (let i = 0; i < o.rows; i += 500) {
    const batch = db.batch();
    for (let j = i; j < Math.min(o.rows, i + 500); j++) {
      const { event } = stockChangeEvent({ productId: `bench-${j % 50}`, available: j }, { sequence: Math.floor(j / 50) }, now);
      const row = newRow(randomUUID(), event, now);
      batch.create(db.collection(backlog.outboxCollection).doc(row.eventId), { ...row, expireAt: null });
    }
    await batch.commit();
  }
  const relay = new OutboxRelay(backlog, pubsubPublisher(clients.pubsub, topic, { timeoutMs: 10_000 }), {
    leaseMs: 60_000,
    maxAttempts: 5,
    backoffMinMs: 1000,
    backoffMaxMs: 10_000,
    batchSize: 100,
    sentTtlMs: 86_400_000,
    log: new Logger({ service: 'bench' }, 'ERROR'),
  });
  const started = Date.now();
  const report = await relay.sweep(600_000);
  const relayMs = Date.now() - started;
  o.say(`outbox: relay published ${report.sent} of ${o.rows} rows in ${relayMs} ms`);

  // Commit to publish on the normal path: the stand-in's fast path.
  o.say(`outbox: ${o.updates} stock updates through the inventory stand-in...`);
  const productId = `bench-stock-${randomUUID().slice(0, 8)}`;
  const answers: number[] = [];
  const eventIds: string[] = [];
  for (let i = 0; i < o.updates; i++) {
    const t0 = Date.now();
    const res = await fetch(`${description.inventory}/v1/products/${productId}/stock`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ available: i % 3 }) });
    if (res.status !== 200) throw new Error(`inventory answered ${res.status}: ${await res.text()}`);
    answers.push(Date.now() - t0);
    eventIds.push(((await res.json()) as { eventId: string }).eventId);
  }
  const stand = new FirestoreOutbox(db);
  const deadline = Date.now() + 60_000;
  let rows = await Promise.all(eventIds.map((id) => stand.get(id)));
  while (rows.some((r) => r?.state !== 'sent') && Date.now() < deadline) {
    // What Cloud Scheduler would do: sweep up what the fast path left.
    await o.sweep();
    await new Promise((r) => setTimeout(r, 500));
    rows = await Promise.all(eventIds.map((id) => stand.get(id)));
  }
  const delays = rows.filter((r) => r?.publishedAtMs != null).map((r) => r!.publishedAtMs! - r!.stagedAtMs).sort((a, b) => a - b);
  answers.sort((a, b) => a - b);
  return {
    rows: o.rows,
    relayMs,
    relayRowsPerSecond: Math.round(report.sent / (relayMs / 1000)),
    updates: o.updates,
    commitToPublishP50Ms: percentile(delays, 50),
    commitToPublishP95Ms: percentile(delays, 95),
    stockUpdateP50Ms: percentile(answers, 50),
    stockUpdateP95Ms: percentile(answers, 95),
    publishedBySweep: rows.filter((r) => r?.publishedBy === 'sweep').length,
  };
}
