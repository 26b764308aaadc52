/**
 * docs/design.md promise 3 under a real crash: the fan-out process is SIGKILLed
 * after it enqueued some chunks; before the redelivery, earlier deliveries
 * remove subscribers (shifting every page boundary), one shopper
 * unsubscribes and a new one subscribes. The retried fan-out must not skip
 * anyone present at the first attempt, and nobody is told twice.
 *
 * Runs on its own stack: the queue is paused so the test decides which chunks
 * run before the crash, and the fan-out is slowed to one small page at a time
 * so it can be killed mid-way.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { protos } from '@google-cloud/tasks';
import { COLLECTIONS, type SubscriptionDoc } from '../../../lib/model.ts';
import { accessFor, inventoryEvent, pushDirect, seedSubscribers, startStack, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { expectNotifiedExactlyOnce, fanoutDoc, waitForDelivered } from '../../integration/pipeline/assertions.ts';

let stack: Stack;
let on: StackAccess;

beforeAll(async () => {
  stack = await startStack({
    env: {
      RESTOCK_PAGE_SIZE: '10',
      RESTOCK_CHUNK_SIZE: '10',
      RESTOCK_ENQUEUE_CONCURRENCY: '1',
      // No checkpoint before the crash: the retry re-pages from the first subscriber, so the
      // deliveries in between shift every chunk boundary (the case index-named chunks get wrong).
      RESTOCK_CHECKPOINT_INTERVAL_MS: '600000',
      RESTOCK_FANOUT_LEASE_MS: '4000',
    },
  });
  on = accessFor(stack.description);
});

afterAll(async () => {
  await on?.close();
  await stack?.stop();
});

type Task = protos.google.cloud.tasks.v2.ITask;

async function queuedTasks(): Promise<Task[]> {
  const [tasks] = await on.tasks!.listTasks({ parent: stack.description.queue, responseView: 'FULL', pageSize: 1000 });
  return tasks;
}

function membersOf(task: Task): string[] {
  const body = task.httpRequest?.body;
  return JSON.parse(Buffer.from(body as Uint8Array).toString('utf8')).userIds;
}

describe('a fan-out killed mid-way and retried after the audience changed', () => {
  test('skips nobody present at the first attempt and notifies nobody twice', async () => {
    // Prepare: 400 subscribers u000..u399, and a paused queue.
    const event = inventoryEvent();
    const productId = event.productId;
    const subs = await seedSubscribers(productId, 400, { on });
    const queue = stack.description.queue;
    await on.tasks!.pauseQueue({ name: queue });
    const message = { data: event, messageId: `m-${productId}` };
    const fanOut = stack.description.functions.fanOutRestock;

    // Act 1: the first attempt enqueues some chunks, then its process is SIGKILLed.
    const firstAttempt = pushDirect(fanOut, message).catch((err: Error) => err);
    await waitFor(async () => (await queuedTasks()).length >= 8, { timeoutMs: 60_000, what: '8 chunks enqueued' });
    stack.kill('fanOutRestock', 'SIGKILL');
    expect(await firstAttempt).toBeInstanceOf(Error); // the push never got an answer: Pub/Sub will redeliver
    const enqueuedBeforeCrash = await queuedTasks();
    expect(enqueuedBeforeCrash.length).toBeLessThan(40); // it really died mid-way

    // Act 2: earlier deliveries run (the first three chunks), removing their subscribers...
    const firstChunks = enqueuedBeforeCrash.slice(0, 3);
    for (const t of firstChunks) await on.tasks!.runTask({ name: t.name! });
    const deliveredEarly = firstChunks.flatMap(membersOf);
    await waitForDelivered(productId, deliveredEarly.length, { on, settleMs: 0 });
    // ...one shopper unsubscribes and a new one subscribes.
    const subsRef = on.firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions);
    const leaver = subs[250]!.userId;
    await subsRef.doc(leaver).delete();
    const newcomer: SubscriptionDoc = { userId: 'user-999', productId, channels: { email: 'user-999@example.com' }, createdAtMs: Date.now(), updatedAtMs: Date.now() };
    await subsRef.doc(newcomer.userId).set(newcomer);

    // Act 3: the function comes back and Pub/Sub redelivers until acknowledged.
    await stack.restart('fanOutRestock');
    const retried = await waitFor(
      async () => {
        const res = await pushDirect(fanOut, message);
        return res.status === 200 ? res.json() : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the redelivery to be acknowledged' },
    );
    await on.tasks!.resumeQueue({ name: queue });

    // Assess
    expect(retried).toMatchObject({ outcome: 'completed' });
    expect((await fanoutDoc(message.messageId, on))!.attempts).toBe(2);
    const tasksAfterRetry = await queuedTasks();
    // Chunks whose members did not change kept their names (no duplicate task); the shifted ones are new.
    expect(tasksAfterRetry.length).toBeGreaterThan(enqueuedBeforeCrash.length - firstChunks.length);
    const expected = [...subs.map((s) => s.userId).filter((u) => u !== leaver), newcomer.userId];
    await waitForDelivered(productId, expected.length, { on, settleMs: 1500 });
    await expectNotifiedExactlyOnce(message.messageId, productId, expected, { on });
    expect((await on.sink.stats(productId)).delivered).toBe(expected.length);
  });
});
