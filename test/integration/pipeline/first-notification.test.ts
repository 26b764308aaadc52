/**
 * docs/design.md promise 9: delivery of the first chunk starts while the fan-out
 * is still paging. The fan-out runs in-process with small pages so it takes
 * a while; the first notification must reach the sink before it completes.
 */
import { describe, expect, test } from 'vitest';
import { handleFanout } from '../../../lib/fanout/handle.ts';
import type { ReceivedEvent } from '../../../lib/events/index.ts';
import { inventoryEvent, seedSubscribers, stack } from '../../helpers/index.ts';
import { runtimeFor } from '../faults/support.ts';
import { fanoutDoc, waitForDelivered } from './assertions.ts';

describe('the first notification', () => {
  test('reaches the sink before the fan-out has finished paging', async () => {
    // Prepare: 1,000 subscribers read 40 at a time, one task in flight at once: a long fan-out.
    const on = stack();
    const event = inventoryEvent();
    await seedSubscribers(event.productId, 1000, { on });
    const rt = runtimeFor(on, { RESTOCK_PAGE_SIZE: '40', RESTOCK_CHUNK_SIZE: '20', RESTOCK_ENQUEUE_CONCURRENCY: '1' });
    const eventKey = `m-${event.productId}`;
    const received: ReceivedEvent = { kind: 'event', eventKey, messageId: eventKey, attributes: {}, event: { ...event, type: 'inventory.updated', version: 1 } };

    // Act
    const outcome = await handleFanout(rt, received, rt.log);
    const stats = await waitForDelivered(event.productId, 1000, { on, settleMs: 0 });

    // Assess
    // The first page is one chunk (20 ids), so its task exists before a whole page is read; then pages of 40:
    // 20 + 24 x 40 + 20 = 26 pages (25 if the first page were a whole one).
    expect(outcome).toMatchObject({ kind: 'completed', recipients: 1000, chunks: 50, pages: 26 });
    const doc = await fanoutDoc(eventKey, on);
    expect(stats.firstDeliveredAtMs).not.toBeNull();
    expect(stats.firstDeliveredAtMs!, 'first notification before the fan-out completed').toBeLessThan(doc!.completedAtMs!);
  });
});
