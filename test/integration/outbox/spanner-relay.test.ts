/**
 * The relay function on the Spanner backend: `relayOutbox`, served by
 * functions-framework over HTTP as in production, with
 * RESTOCK_OUTBOX_BACKEND=spanner and the instance and database of the Spanner
 * emulator, sweeps a stock change staged in Spanner to Pub/Sub, and the
 * pipeline fans it out. Without its instance it refuses to start, naming the
 * setting. The CLI's `restock outbox` and `status` read the same Spanner outbox.
 */
import type { Database } from '@google-cloud/spanner';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { SpannerOutbox } from '../../../lib/outbox/spanner.ts';
import { startSpannerEmulator, type SpannerEmulator } from '../../../emulators/stack/spanner.ts';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { startExpectingExit, startFunction, type FunctionProcess } from '../../helpers/function-process.ts';
import { restockJson } from '../../helpers/cli.ts';
import { Arrivals } from './support.ts';

let emulator: SpannerEmulator;
let database: Database;
let relay: FunctionProcess;
let arrivals: Arrivals;

/** `projects/p/instances/i/databases/d` → its parts. */
function idsOf(db: Database): { instance: string; database: string } {
  const [, , , instance, , name] = db.formattedName_.split('/');
  return { instance: instance!, database: name! };
}

beforeAll(async () => {
  emulator = await startSpannerEmulator();
  database = await emulator.database();
  const { instance, database: databaseId } = idsOf(database);
  relay = await startFunction('relayOutbox', {
    RESTOCK_OUTBOX_BACKEND: 'spanner',
    RESTOCK_OUTBOX_SPANNER_INSTANCE: instance,
    RESTOCK_OUTBOX_SPANNER_DATABASE: databaseId,
    SPANNER_EMULATOR_HOST: emulator.host,
  });
  arrivals = await Arrivals.on(stack().pubsub, stack().description.topic);
}, 180_000);

afterAll(async () => {
  relay?.stop();
  await arrivals?.close();
  await database?.close();
  await emulator?.stop();
});

describe('relayOutbox on Spanner', () => {
  test('publishes a stock change staged in a Spanner transaction to Pub/Sub, and the pipeline fans it out', async () => {
    // Prepare: a sold-out product with a waiting shopper; the change commits in Spanner and nothing publishes it.
    const productId = uniqueProductId('spanner-relay');
    await seedSubscribers(productId, 1, { product: { available: 0, sequence: 0 } });
    const outbox = new SpannerOutbox(database);
    const staged = await database.runTransactionAsync(async (tx) => {
      const s = await outbox.stageStockChange(tx, { productId, available: 9, product: { name: 'Spanner relay boot' } });
      await tx.commit();
      return s;
    });

    // Act: the scheduler's call.
    const res = await fetch(relay.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    // Assess: the relay answered what it did, the row is sent, the message carries the eventId and the event as of the change.
    expect(res.status).toBe(200);
    // (A first publish that times out on a cold client is retried within the same sweep: claimed may be 2.)
    expect(await res.json()).toMatchObject({ sent: 1, failed: 0, pendingRows: 0, failedRows: 0 });
    expect(await outbox.get(staged.eventId)).toMatchObject({ state: 'sent', publishedBy: 'sweep', attempts: 0 });
    await waitFor(() => arrivals.count(staged.eventId) >= 1, { what: 'the message on the topic' });
    expect(arrivals.data(staged.eventId)[0]).toMatchObject({ type: 'inventory.updated', productId, available: 9, sequence: 1, product: { name: 'Spanner relay boot' } });
    await waitFor(async () => (await stack().sink.stats(productId)).delivered === 1, { what: 'the shopper told', timeoutMs: 60_000 });
    expect(await stack().sink.stats(productId)).toMatchObject({ delivered: 1, duplicateKeys: 0 });
    // The fan-out records itself complete after enqueueing its one chunk, which may be told first.
    await waitFor(async () => (await stack().firestore.collection(COLLECTIONS.fanouts).doc(staged.eventId).get()).get('state') === 'complete', { what: 'the fan-out complete' });
  });

  test('restock outbox status, list and redrive, and restock status, work on the Spanner outbox', async () => {
    // Prepare: a row that failed (as after its attempts ran out) in the Spanner outbox.
    const { instance, database: databaseId } = idsOf(database);
    const env = { RESTOCK_OUTBOX_BACKEND: 'spanner', RESTOCK_OUTBOX_SPANNER_INSTANCE: instance, RESTOCK_OUTBOX_SPANNER_DATABASE: databaseId, SPANNER_EMULATOR_HOST: emulator.host };
    const outbox = new SpannerOutbox(database);
    const staged = await database.runTransactionAsync(async (tx) => {
      const s = await outbox.stageStockChange(tx, { productId: uniqueProductId('spanner-cli'), available: 2 });
      await tx.commit();
      return s;
    });
    await database.runTransactionAsync(async (tx) => {
      tx.update('Outbox', [{ EventId: staged.eventId, State: 'failed', Attempts: 20, LastError: 'gave up after 20 attempts: UNAVAILABLE' }]);
      await tx.commit();
    });
    const on = { stack: stack().description, env };

    // Act
    const status = await restockJson<{ failed: number }>(['outbox', 'status'], on);
    const listed = await restockJson<{ rows: { eventId: string; lastError: string }[] }>(['outbox', 'list', '--state', 'failed'], on);
    const redriven = await restockJson<{ results: unknown[] }>(['outbox', 'redrive', staged.eventId], on);
    const eventStatus = await restockJson<{ outbox: { state: string; attempts: number } | null }>(['status', staged.eventId], on);

    // Assess
    expect(status.failed).toBeGreaterThanOrEqual(1);
    expect(listed.rows).toContainEqual(expect.objectContaining({ eventId: staged.eventId, lastError: 'gave up after 20 attempts: UNAVAILABLE' }));
    expect(redriven.results).toEqual([{ eventId: staged.eventId, outcome: 'redriven' }]);
    expect(eventStatus.outbox).toMatchObject({ state: 'pending', attempts: 0 });
    expect(await outbox.get(staged.eventId)).toMatchObject({ state: 'pending', attempts: 0 });
  }, 400_000); // four CLI processes, each starting Node and its clients

  test('refuses to start on Spanner without its instance, naming the setting', async () => {
    const ended = await startExpectingExit('relayOutbox', {
      ...stack().description.env,
      RESTOCK_OUTBOX_BACKEND: 'spanner',
      RESTOCK_OUTBOX_SPANNER_DATABASE: 'inventory',
      SPANNER_EMULATOR_HOST: emulator.host,
    });

    expect(ended.stillRunning).toBe(false);
    expect(ended.code).not.toBe(0);
    expect(ended.output).toContain('RESTOCK_OUTBOX_SPANNER_INSTANCE: is required with RESTOCK_OUTBOX_BACKEND=spanner');
  });
});
