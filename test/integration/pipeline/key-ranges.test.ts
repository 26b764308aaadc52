/**
 * A large audience is paged as K key ranges in parallel (docs/how-it-works.md
 * "Key ranges"): the first attempt runs in-process with a range target small
 * enough to split 600 shoppers into 4 ranges; ranges 1..3 are continuation
 * tasks the Cloud Tasks emulator dispatches to the stack's `fanOutRestock`.
 * Range 0, paged in-process, is killed mid-way by an injected queue fault;
 * the redelivered event restarts it from its checkpoint. Every shopper is
 * told exactly once (counted at the sink), the fan-out completes with the
 * head's and the ranges' counters added up, and `restock status --json`
 * shows the ranges.
 */
import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { handleFanout } from '../../../lib/fanout/handle.ts';
import type { ReceivedEvent } from '../../../lib/events/index.ts';
import type { StatusReport } from '../../../cli/queries/status.ts';
import { inventoryEvent, seedSubscribers, stack, waitFor } from '../../helpers/index.ts';
import { runtimeFor } from '../faults/support.ts';
import { restockJson } from '../../helpers/cli.ts';
import { expectNotifiedExactlyOnce, fanoutDoc, waitForDelivered } from './assertions.ts';

/** A tasks client whose delivery-task creates fail (UNAVAILABLE, transient) from the `failFrom`-th on, until `heal()`. */
function failingTasks(real: CloudTasksClient, failFrom: number): { client: CloudTasksClient; heal: () => void; failed: () => number } {
  let creates = 0;
  let failures = 0;
  let healed = false;
  const client = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'createTask') return Reflect.get(target, prop, receiver);
      return async (request: { task?: { httpRequest?: { headers?: Record<string, string> } } }, ...rest: unknown[]) => {
        const isDelivery = request.task?.httpRequest?.headers?.['ce-type'] === undefined;
        if (isDelivery && !healed && ++creates >= failFrom) {
          failures++;
          throw Object.assign(new Error('injected: queue unavailable'), { code: status.UNAVAILABLE });
        }
        return (target.createTask as (...a: unknown[]) => unknown).call(target, request, ...rest);
      };
    },
  });
  return {
    client,
    heal: () => {
      healed = true;
    },
    failed: () => failures,
  };
}

describe('a fan-out split into key ranges', () => {
  test('pages its ranges in parallel, survives a range killed mid-way and redelivered, tells everyone exactly once, and status shows every range', { timeout: 240_000 }, async () => {
    // Prepare: 600 shoppers, pages of 50, a range target of 150: after the first chunk, 4 ranges.
    const on = stack();
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 600, { on });
    const rt = runtimeFor(on, {
      RESTOCK_PAGE_SIZE: '50',
      RESTOCK_CHUNK_SIZE: '25',
      RESTOCK_CHECKPOINT_INTERVAL_MS: '0',
      RESTOCK_FANOUT_RANGE_TARGET: '150',
      RESTOCK_FANOUT_MAX_RANGES: '4',
    });
    // Range 0 runs here; its delivery tasks start failing after the first chunk and three more (range 0's second page).
    const faulty = failingTasks(on.tasks!, 5);
    const received: ReceivedEvent = { kind: 'event', eventKey: `ranges-${event.productId}`, messageId: `ranges-${event.productId}`, attributes: {}, event: { ...event, type: 'inventory.updated', version: 1 } };

    // Act: the first delivery of the event splits and dies in range 0 (the sender retries, as Pub/Sub would)...
    await expect(handleFanout({ ...rt, tasks: faulty.client }, received, rt.log)).rejects.toMatchObject({ name: 'EnqueueError' });
    expect(faulty.failed()).toBeGreaterThan(0);
    const split = await fanoutDoc(received.eventKey, on);
    expect(split).toMatchObject({ state: 'running', ranges: { count: 4 } });
    // ...and its redelivery finds the ranges and restarts every unfinished one.
    faulty.heal();
    const again = await handleFanout(rt, received, rt.log);

    // Assess: the redelivery acknowledged, the ranges finished the fan-out with every recipient counted once...
    expect(again).toMatchObject({ kind: 'continued' });
    const done = await waitFor(
      async () => {
        const doc = await fanoutDoc(received.eventKey, on);
        return doc?.state === 'complete' ? doc : undefined;
      },
      { what: 'the last range to complete the fan-out', timeoutMs: 120_000 },
    );
    expect(done).toMatchObject({ state: 'complete', ranges: { count: 4 } });
    // ...every shopper was told exactly once, the killed range's included...
    await waitForDelivered(event.productId, 600, { on, timeoutMs: 120_000 });
    await expectNotifiedExactlyOnce(received.eventKey, event.productId, subs.map((s) => s.userId), { on });
    // ...and status shows the four ranges, complete, the fan-out's counters the head's (one chunk of 25) plus theirs.
    const report = await restockJson<StatusReport>(['status', received.eventKey], { stack: on.description });
    expect(report.ranges.map((r) => [r.index, r.state])).toEqual([
      [0, 'complete'],
      [1, 'complete'],
      [2, 'complete'],
      [3, 'complete'],
    ]);
    expect(report.ranges[0]!.attempts).toBe(2);
    const ranged = report.ranges.reduce((s, r) => s + r.recipients, 0);
    expect(report.fanout).toMatchObject({ state: 'complete', recipients: 25 + ranged });
    // Counters count what each chain read: the chunk the killed attempt enqueued past its last checkpoint
    // (25 shoppers) is counted again only if its one-shot subscriptions were still there when range 0
    // resumed. Whether it was delivered first is a race; every shopper being told once is not.
    expect([575, 600]).toContain(report.fanout!.recipients);
  });
});
