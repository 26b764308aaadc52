/**
 * The Spanner adapter keeps the same promises, on the Spanner emulator of the
 * Google Cloud CLI, publishing to the real Pub/Sub emulator: a committed
 * change the fast path never published is published by the sweep (10); a
 * rolled-back or invalid one never is (11); the fast path publishes at once;
 * two relays publish each row once; a row that can never be published fails at
 * once with its reason without blocking the rows behind it, and is redrivable.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '@google-cloud/spanner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OutboxRelay, OutboxValidationError, pubsubPublisher, type RelayOptions, type StockChange } from '../../../lib/outbox/index.ts';
import { SpannerOutbox } from '../../../lib/outbox/spanner.ts';
import { startSpannerEmulator, type SpannerEmulator } from '../../../emulators/stack/spanner.ts';
import { stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { Arrivals, relayOptions } from './support.ts';

let emulator: SpannerEmulator;
let database: Database;
let outbox: SpannerOutbox;
let arrivals: Arrivals;
let topic: string;

const options = (o: Partial<RelayOptions> = {}): RelayOptions => relayOptions('spanner', o);
const relay = (owner: string) => new OutboxRelay(outbox, pubsubPublisher(stack().pubsub, topic, { timeoutMs: 10_000 }), options({ owner }));

/** Stages a change in a read-write transaction and commits it. */
function commitChange(change: StockChange) {
  return database.runTransactionAsync(async (tx) => {
    const staged = await outbox.stageStockChange(tx, change);
    await tx.commit();
    return staged;
  });
}

beforeAll(async () => {
  emulator = await startSpannerEmulator();
  database = await emulator.database();
  outbox = new SpannerOutbox(database);
  topic = `outbox-spanner-${randomUUID().slice(0, 8)}`;
  await stack().pubsub.createTopic(topic);
  arrivals = await Arrivals.on(stack().pubsub, topic);
});

afterAll(async () => {
  await arrivals?.close();
  await database?.close();
  await emulator?.stop();
});

describe('the Spanner outbox', () => {
  test('a committed change the fast path never published is published by the sweep, once, as of the change', async () => {
    // Prepare: two changes committed; the process "crashes" before publishing (no fast path).
    const productId = uniqueProductId('spanner-crash');
    await commitChange({ productId, available: 0, product: { name: 'Spanner boot' } });
    const { eventId } = await commitChange({ productId, available: 12 });
    expect(await outbox.get(eventId)).toMatchObject({ state: 'pending', attempts: 0, sequence: 2 });

    // Act
    await relay('sweeper').sweep(30_000);

    // Assess
    await waitFor(() => arrivals.count(eventId) >= 1, { what: 'the message on the topic' });
    expect(arrivals.count(eventId)).toBe(1);
    expect(arrivals.data(eventId)[0]).toMatchObject({ productId, available: 12, previousAvailable: 0, sequence: 2, product: { name: 'Spanner boot' } });
    expect(await outbox.get(eventId)).toMatchObject({ state: 'sent', publishedBy: 'sweep' });
  });

  test('the fast path publishes the change right after its commit', async () => {
    const productId = uniqueProductId('spanner-fast');
    const { eventId } = await commitChange({ productId, available: 3 });

    const report = await relay('inventory').publishNow([eventId], 10_000);

    expect(report.published).toBe(true);
    expect(await outbox.get(eventId)).toMatchObject({ state: 'sent', publishedBy: 'fast-path' });
    await waitFor(() => arrivals.count(eventId) === 1, { what: 'the message on the topic' });
  });

  test('a rolled-back change is never published, and an invalid one is refused naming the field before anything is written', async () => {
    // Prepare
    const productId = uniqueProductId('spanner-rollback');

    // Act
    const rolledBack = await database
      .runTransactionAsync(async (tx) => {
        await outbox.stageStockChange(tx, { productId, available: 5 });
        throw new Error('business rule refused the change');
      })
      .catch((err: unknown) => err);
    const invalid = await database
      .runTransactionAsync(async (tx) => {
        await outbox.stageStockChange(tx, { productId, available: 1.5 });
        await tx.commit();
      })
      .catch((err: unknown) => err);
    await relay('sweeper').sweep(30_000);

    // Assess
    expect((rolledBack as Error).message).toBe('business rule refused the change');
    expect(invalid).toBeInstanceOf(OutboxValidationError);
    expect(invalid).toMatchObject({ field: 'available', problem: 'must be a whole number' });
    const [rows] = await database.run({ sql: 'SELECT EventId FROM Outbox WHERE ProductId = @productId', params: { productId }, json: true });
    expect(rows).toEqual([]);
    const [items] = await database.run({ sql: 'SELECT ProductId FROM InventoryItems WHERE ProductId = @productId', params: { productId }, json: true });
    expect(items).toEqual([]);
    const published = arrivals.eventIds().flatMap((id) => arrivals.data(id)) as { productId: string }[];
    expect(published.filter((e) => e.productId === productId)).toEqual([]);
  });

  test('two relays sweeping at once publish every row exactly once', async () => {
    const productId = uniqueProductId('spanner-two');
    const eventIds: string[] = [];
    for (let available = 0; available < 24; available++) eventIds.push((await commitChange({ productId, available })).eventId);

    const [a, b] = await Promise.all([relay('a').sweep(60_000), relay('b').sweep(60_000)]);

    expect(a.sent + b.sent).toBe(24);
    await waitFor(() => eventIds.every((id) => arrivals.count(id) >= 1), { what: 'all 24 messages' });
    await new Promise((r) => setTimeout(r, 1000)); // a late duplicate would arrive now
    expect(eventIds.map((id) => arrivals.count(id))).toEqual(eventIds.map(() => 1));
  });

  test('a row edited into something unpublishable fails at once with its reason, the row behind it is published, and it can be redriven', async () => {
    // Prepare: two pending rows; the first is edited by hand into an event for another product.
    const productId = uniqueProductId('spanner-poison');
    const poisoned = await commitChange({ productId, available: 1 });
    const behind = await commitChange({ productId, available: 2 });
    await database.runTransactionAsync(async (tx) => {
      tx.update('Outbox', [{ EventId: poisoned.eventId, Event: JSON.stringify({ ...poisoned.event, productId: 'someone-else' }) }]);
      await tx.commit();
    });

    // Act
    const report = await relay('sweeper').sweep(30_000);

    // Assess
    expect(report.failed).toBeGreaterThanOrEqual(1);
    const failed = await outbox.get(poisoned.eventId);
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
    expect(failed!.lastError).toMatch(/^unpublishable: event\.productId/);
    expect(await outbox.get(behind.eventId)).toMatchObject({ state: 'sent' });
    expect(arrivals.count(poisoned.eventId)).toBe(0);
    expect(await outbox.failedIds(100)).toContain(poisoned.eventId);

    // Act: repaired by hand, then redriven.
    await database.runTransactionAsync(async (tx) => {
      tx.update('Outbox', [{ EventId: poisoned.eventId, Event: JSON.stringify(poisoned.event) }]);
      await tx.commit();
    });
    expect(await outbox.redrive([poisoned.eventId, behind.eventId, 'no-such-event'], Date.now())).toEqual([
      { eventId: poisoned.eventId, outcome: 'redriven' },
      { eventId: behind.eventId, outcome: 'not-redrivable', state: 'sent' },
      { eventId: 'no-such-event', outcome: 'not-found' },
    ]);
    await relay('sweeper').sweep(30_000);

    // Assess
    expect(await outbox.get(poisoned.eventId)).toMatchObject({ state: 'sent', attempts: 0 });
    await waitFor(() => arrivals.count(poisoned.eventId) === 1, { what: 'the redriven row on the topic' });
  });
});
