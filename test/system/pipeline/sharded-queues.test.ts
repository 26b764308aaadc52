/**
 * Delivery spread over three queues, continuations in a queue of their own
 * (docs/queues.md), on a stack of its own started with three delivery
 * queues: a restock published to Pub/Sub reaches every shopper exactly once,
 * its chunks pass through every delivery queue, its continuations only
 * through the continuation queue, and the CLI's queue views see all four.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EMULATOR_PATH } from '../../../emulators/cloud-tasks/rest-front.ts';
import type { EmulatorStats } from '../../../emulators/cloud-tasks/model.ts';
import { shellEnv } from '../../../emulators/stack/index.ts';
import type { QueueView } from '../../../cli/commands/queues.ts';
import { accessFor, inventoryEvent, publish, seedSubscribers, startStack, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { restock, restockJson } from '../../helpers/cli.ts';
import { expectNotifiedExactlyOnce, fanoutDoc, ledgerStates, waitForDelivered } from '../../integration/pipeline/assertions.ts';

const SHOPPERS = 600;
const CHUNK = 20;
const PAGE = 100;

let stack: Stack;
let on: StackAccess;

beforeAll(async () => {
  stack = await startStack({
    deliveryQueueCount: 3,
    env: {
      RESTOCK_PAGE_SIZE: String(PAGE),
      RESTOCK_CHUNK_SIZE: String(CHUNK),
      // A 1 ms budget hands over after every page: each later page is paged by a continuation task.
      RESTOCK_FANOUT_TIME_BUDGET_MS: '1',
      RESTOCK_CHECKPOINT_INTERVAL_MS: '0',
    },
  });
  on = accessFor(stack.description);
});

afterAll(async () => {
  await on?.close();
  await stack?.stop();
});

async function queueStats(): Promise<Map<string, EmulatorStats['queues'][number]>> {
  const res = await fetch(`http://${stack.description.tasks}${EMULATOR_PATH}/stats`);
  const stats = (await res.json()) as EmulatorStats;
  return new Map(stats.queues.map((q) => [q.name, q]));
}

/** The CLI pointed at this stack, with its settings (the queue count among them) as `npm start` prints them. */
const target = () => ({ stack: stack.description, env: shellEnv(stack.description) });

describe('three delivery queues and a continuation queue', () => {
  test('every shopper is told exactly once, chunks pass through all three delivery queues and continuations through their own queue only', async () => {
    // Prepare
    const { deliveryQueues, continuationQueue } = stack.description;
    expect(deliveryQueues).toHaveLength(3);
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, SHOPPERS, { on });
    const eventId = `sharded-${event.productId}`;

    // Act
    await publish(event, { eventId }, on);
    await waitForDelivered(event.productId, SHOPPERS, { on, timeoutMs: 180_000 });

    // Assess: exactly once, every ledger entry sent...
    await expectNotifiedExactlyOnce(eventId, event.productId, subs.map((s) => s.userId), { on });
    await waitFor(async () => (await ledgerStates(eventId, on)).sent === SHOPPERS, { what: `ledger: ${SHOPPERS} sent`, timeoutMs: 60_000 });
    const fanout = await waitFor(async () => {
      const doc = await fanoutDoc(eventId, on);
      return doc?.state === 'complete' ? doc : undefined;
    }, { what: 'the fan-out to complete' });
    expect(fanout).toMatchObject({ recipients: SHOPPERS, chunks: SHOPPERS / CHUNK });
    expect(fanout!.attempts).toBeGreaterThan(1); // continuations really ran
    // ...each delivery queue ran some of the chunks and together exactly all of them; the continuations ran in their own queue.
    const stats = await waitFor(async () => {
      const s = await queueStats();
      const ran = deliveryQueues.reduce((sum, q) => sum + (s.get(q)?.counters.succeeded ?? 0), 0);
      return ran === SHOPPERS / CHUNK ? s : undefined;
    }, { what: 'every chunk task to finish' });
    for (const q of deliveryQueues) expect(stats.get(q)!.counters.succeeded, q).toBeGreaterThan(0);
    expect(stats.get(continuationQueue)!.counters.succeeded).toBe(fanout!.attempts - 1);
  }, 240_000);

  test('restock queues lists all four and pauses or resumes them by name or all at once; status counts an event\u2019s tasks across every delivery queue', async () => {
    // Prepare: every queue paused through the CLI.
    const listed = await restockJson<{ queues: QueueView[] }>(['queues'], target());
    expect(listed.queues.map((q) => [q.id, q.role])).toEqual([
      ['restock-deliveries', 'delivery'],
      ['restock-deliveries-1', 'delivery'],
      ['restock-deliveries-2', 'delivery'],
      ['restock-continuations', 'continuation'],
    ]);
    const paused = await restock(['queues', 'pause', '--all', '--yes', '--json'], target());
    expect(paused.code, paused.stderr).toBe(0);
    expect((JSON.parse(paused.stdout) as { queues: QueueView[] }).queues.map((q) => q.state)).toEqual(['PAUSED', 'PAUSED', 'PAUSED', 'PAUSED']);
    const event = inventoryEvent();
    await seedSubscribers(event.productId, 200, { on });
    const eventId = `paused-${event.productId}`;

    // Act: only the continuation queue resumes, so the fan-out completes while its ten chunks wait in the paused delivery queues.
    await publish(event, { eventId }, on);
    const resumedOne = await restock(['queues', 'resume', 'restock-continuations', '--json'], target());
    expect(resumedOne.code, resumedOne.stderr).toBe(0);
    await waitFor(async () => (await fanoutDoc(eventId, on))?.state === 'complete', { what: 'the fan-out to complete', timeoutMs: 90_000 });

    // Assess: the queue view counts the chunks per queue, spread over more than one; status counts the event's across all of them.
    const { queues } = await restockJson<{ queues: QueueView[] }>(['queues'], target());
    const delivery = queues.filter((q) => q.role === 'delivery');
    expect(delivery.reduce((sum, q) => sum + (q.tasks ?? 0), 0)).toBe(200 / CHUNK);
    expect(delivery.filter((q) => (q.tasks ?? 0) > 0).length).toBeGreaterThan(1);
    expect(queues.map((q) => q.state)).toEqual(['PAUSED', 'PAUSED', 'PAUSED', 'RUNNING']);
    const waiting = await restockJson<{ queuedTasks: number | null; settled: boolean }>(['status', eventId], target());
    expect(waiting).toMatchObject({ queuedTasks: 200 / CHUNK, settled: false });
    // ...and resume --all lets every shopper be told.
    const resumed = await restock(['queues', 'resume', '--all', '--json'], target());
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as { queues: QueueView[] }).queues.map((q) => q.state)).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'RUNNING']);
    await waitForDelivered(event.productId, 200, { on, timeoutMs: 180_000 });
    const settled = await waitFor(async () => {
      const s = await restockJson<{ queuedTasks: number | null; settled: boolean }>(['status', eventId], target());
      return s.settled ? s : undefined;
    }, { what: 'the event to settle', timeoutMs: 90_000 });
    expect(settled.queuedTasks).toBe(0);
  }, 300_000);
});
