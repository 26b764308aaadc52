/**
 * Promise 12: a stock update never fails because Pub/Sub is down and never
 * waits on it longer than the configured bound. With the Pub/Sub emulator
 * stopped, stock updates still answer 200 while their fast-path publish is
 * still trying (the answer did not wait for it); the rows wait; once Pub/Sub is
 * back, the sweep publishes every one and the pipeline receives each.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { accessFor, startStack, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { outboxRow, putStock } from '../../integration/outbox/support.ts';

let stack: Stack;
let on: StackAccess;

beforeAll(async () => {
  stack = await startStack({
    // A publish attempt far longer than the wait bound: an answer given while the attempt is
    // still running proves the update did not wait for Pub/Sub.
    env: { RESTOCK_OUTBOX_PUBLISH_WAIT_MS: '250', RESTOCK_OUTBOX_PUBLISH_TIMEOUT_MS: '6000', RESTOCK_OUTBOX_LEASE_MS: '30000' },
  });
  on = accessFor(stack.description);
});

afterAll(async () => {
  await on?.close();
  await stack?.stop();
});

describe('Pub/Sub down while stock changes', () => {
  test('stock updates answer without waiting for it, the rows wait, then every one is published and none is lost', async () => {
    // Prepare: Pub/Sub is gone.
    const productId = `outage-${randomUUID().slice(0, 8)}`;
    stack.kill('pubsub', 'SIGKILL');
    await waitFor(() => !stack.isRunning('pubsub'), { what: 'the Pub/Sub emulator to stop' });

    // Act: five stock changes during the outage.
    const answers = [];
    for (let available = 0; available < 5; available++) answers.push(await putStock(stack.description.inventory, productId, { available }));
    const rowsAtAnswer = await Promise.all(answers.map((a) => outboxRow(on.inventoryFirestore, a.body.eventId!)));

    // Assess: every update succeeded and was not published; each row's fast-path attempt was still
    // under way (leased, no attempt counted yet) when the answer came.
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.body.published)).toEqual([false, false, false, false, false]);
    expect(answers.map((a) => a.body.sequence)).toEqual([1, 2, 3, 4, 5]);
    for (const row of rowsAtAnswer) expect(row).toMatchObject({ state: 'pending', attempts: 0, publishedAtMs: null });
    expect(rowsAtAnswer.every((r) => r!.leaseOwner !== null)).toBe(true);

    // Assess: each fast-path attempt gives up while Pub/Sub is down, is counted, and leaves its row
    // pending. (Waiting for this also keeps the attempts out of the moment the restarted emulator
    // has its topic but not yet its subscription, where a publish is acked and dropped.)
    const eventIds = answers.map((a) => a.body.eventId!);
    const failedOnce = await waitFor(
      async () => {
        const all = await Promise.all(eventIds.map((id) => outboxRow(on.inventoryFirestore, id)));
        return all.every((r) => r !== undefined && r.attempts >= 1) ? all : undefined;
      },
      { timeoutMs: 60_000, what: 'every fast-path attempt to fail while Pub/Sub is down' },
    );
    for (const row of failedOnce) expect(row).toMatchObject({ state: 'pending', publishedAtMs: null });

    // Act: Pub/Sub comes back (topic and subscriptions recreated); the sweep runs every 2 s.
    await stack.restart('pubsub');

    // Assess: every row sent, and the pipeline received every event under its eventId.
    const rows = await waitFor(
      async () => {
        const all = await Promise.all(eventIds.map((id) => outboxRow(on.inventoryFirestore, id)));
        return all.every((r) => r?.state === 'sent') ? all : undefined;
      },
      { timeoutMs: 90_000, what: 'every row to be sent after the outage' },
    );
    expect(rows.map((r) => r!.sequence)).toEqual([1, 2, 3, 4, 5]);
    for (const id of eventIds) {
      await waitFor(async () => (await on.firestore.collection(COLLECTIONS.fanouts).doc(id).get()).exists, {
        timeoutMs: 30_000,
        what: `fanOutRestock to receive ${id}`,
      });
    }
  });
});
