/**
 * A fan-out that nears its time limit checkpoints and continues itself in a
 * follow-up Cloud Task instead of failing (docs/design.md "Scale"). The first
 * attempt runs in-process with a time budget of 1 ms, so it hands over after
 * its first page; the continuation is dispatched by the Cloud Tasks emulator
 * to the stack's `fanOutRestock`, which finishes from the checkpoint.
 */
import { describe, expect, test } from 'vitest';
import { handleFanout } from '../../../lib/fanout/handle.ts';
import type { ReceivedEvent } from '../../../lib/events/index.ts';
import { inventoryEvent, seedSubscribers, stack, waitFor } from '../../helpers/index.ts';
import { runtimeFor } from '../faults/support.ts';
import { expectNotifiedExactlyOnce, fanoutDoc, waitForDelivered } from './assertions.ts';

describe('a fan-out that runs out of time', () => {
  test('hands over to a continuation task from its checkpoint, and every subscriber is told exactly once', async () => {
    // Prepare
    const on = stack();
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 250, { on });
    const rt = runtimeFor(on, { RESTOCK_FANOUT_TIME_BUDGET_MS: '1', RESTOCK_PAGE_SIZE: '100', RESTOCK_CHECKPOINT_INTERVAL_MS: '0' });
    const received: ReceivedEvent = { kind: 'event', eventKey: `m-${event.productId}`, messageId: `m-${event.productId}`, attributes: {}, event: { ...event, type: 'inventory.updated', version: 1 } };

    // Act
    const outcome = await handleFanout(rt, received, rt.log);

    // Assess: the first attempt stopped after one page and released its lease...
    expect(outcome).toMatchObject({ kind: 'continued', pages: 1, recipients: 100 });
    // ...and the continuation, run by the real function, finished the job.
    const done = await waitFor(async () => {
      const doc = await fanoutDoc(received.eventKey, on);
      return doc?.state === 'complete' ? doc : undefined;
    }, { what: 'the continuation to complete the fan-out' });
    expect(done).toMatchObject({ recipients: 250, attempts: 2 });
    await waitForDelivered(event.productId, 250, { on });
    await expectNotifiedExactlyOnce(received.eventKey, event.productId, subs.map((s) => s.userId), { on });
  });
});
