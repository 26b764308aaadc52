/**
 * Issue 18, "the metrics read back locally after a demo": a restock runs on
 * the real stack (subscription API, inventory stand-in and its outbox, Pub/Sub,
 * fan-out, the Cloud Tasks emulator, delivery, the sink), and the OpenTelemetry
 * metrics the function processes exported to their files (RESTOCK_METRICS_EXPORTER=file)
 * say what the sink saw: as many notifications counted sent per channel as the
 * sink delivered, as many rejected as it rejected, one completed fan-out, a
 * queue lag for every delivery attempt, and the outbox lag of both stock changes;
 * then shoppers follow links and order, and the clicks and orders counted are
 * the funnel's.
 *
 * The stack is this file's own: the shared one serves other files at the same
 * time, and its counters would count their notifications too.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INSTRUMENTS, lastSnapshot, total, type MetricSnapshot } from '../../../lib/metrics/index.ts';
import { clientsFor, REPO_ROOT, startStack, type Stack } from '../../../emulators/stack/index.ts';
import { publishAndFollow, seedAudience, setSinkFaults } from '../../../emulators/scenario/index.ts';
import { clickAndBuy } from '../../../emulators/scenario/funnel.ts';
import { SinkClient, waitFor } from '../../helpers/index.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ dir: join(REPO_ROOT, '.local', 'test-stacks', `metrics-${process.pid}`) });
});

afterAll(async () => {
  await stack?.stop();
});

const snapshotOf = (service: string): Promise<MetricSnapshot | undefined> => lastSnapshot(join(stack.description.metricsDir, `${service}.jsonl`));

describe('metrics exported by the functions, read back after a restock', () => {
  test('count the notifications the sink received, per channel and outcome, and the fan-out, queue and outbox behind them', async () => {
    // Prepare: 240 shoppers on two channels, a tenth of the items rejected by the notification service.
    const clients = clientsFor(stack.description);
    const sink = new SinkClient(stack.description.sink);
    try {
      const audience = await seedAudience(clients, {
        subscribers: 240,
        channels: ['email', 'push'],
        api: { url: stack.description.functions.restockSubscriptions, clients: 8 },
      });
      await setSinkFaults(stack.description.sink, { productId: audience.productId, rejectRate: 0.1 });

      // Act: restock through the inventory service, as the demo does, and wait for every notification.
      const run = await publishAndFollow(stack.description, clients, audience, { via: 'inventory', timeoutMs: 100_000, settleMs: 500 });
      // (Not `ok`: the rejected ones are, on purpose, not notified.)
      expect(run.notified + run.rejected).toBe(480);
      expect(run.duplicates).toBe(0);
      const seen = await sink.stats(audience.productId);
      const perChannel = await sink.notifications(audience.productId);

      // Assess: the functions export once a second; wait until delivery's counters have caught up.
      const delivery = await waitFor(
        async () => {
          const s = await snapshotOf('deliverRestockBatch');
          return total(s, INSTRUMENTS.notifications, { outcome: 'sent' }) + total(s, INSTRUMENTS.notifications, { outcome: 'rejected' }) === 480 ? s : undefined;
        },
        { what: 'deliverRestockBatch to have exported 480 settled notifications', timeoutMs: 30_000 },
      );
      expect(seen.uniqueKeys).toBe(480);
      expect(total(delivery, INSTRUMENTS.notifications, { outcome: 'sent' })).toBe(seen.delivered);
      expect(total(delivery, INSTRUMENTS.notifications, { outcome: 'rejected' })).toBe(seen.rejected);
      expect(seen.rejected).toBeGreaterThan(0);
      for (const channel of ['email', 'push']) {
        const delivered = new Set(perChannel.filter((n) => n.channel === channel && n.status === 'sent').map((n) => n.idempotencyKey)).size;
        expect(total(delivery, INSTRUMENTS.notifications, { channel, outcome: 'sent' }), channel).toBe(delivered);
      }
      expect(total(delivery, INSTRUMENTS.notifications, { outcome: 'exhausted' })).toBe(0);
      // Every delivery attempt was dispatched by the Cloud Tasks emulator with its ETA, and timed.
      const attempts = total(delivery, INSTRUMENTS.chunkDuration);
      expect(attempts).toBeGreaterThanOrEqual(run.tasks!);
      expect(total(delivery, INSTRUMENTS.queueLag, { task: 'delivery' })).toBe(attempts);

      const fanout = await waitFor(async () => {
        const s = await snapshotOf('fanOutRestock');
        return total(s, INSTRUMENTS.fanoutDuration, { outcome: 'completed' }) === 1 ? s : undefined;
      }, { what: 'fanOutRestock to have exported its completed fan-out' });
      expect(total(fanout, INSTRUMENTS.events, { outcome: 'completed' })).toBe(1);

      // Two stock changes went through the outbox (sold out, then restocked), each row published once,
      // by the inventory service's fast path or by the sweep, and each timed from its commit.
      await waitFor(async () => {
        const published = total(await snapshotOf('inventory'), INSTRUMENTS.outboxLag) + total(await snapshotOf('relayOutbox'), INSTRUMENTS.outboxLag);
        return published === 2;
      }, { what: 'the outbox lag of the two stock changes to be exported' });

      // Then the shoppers act (as the demo's --click-rate / --buy-rate play them): a quarter follow their link, 30 % order,
      // and the API and applyShopperActions count what a restock sold, each first click and each order once.
      const acted = await clickAndBuy(stack.description, clients, {
        productId: audience.productId,
        eventKey: run.eventKey,
        clickRate: 0.25,
        buyRate: 0.3,
        prefetchSeconds: 5,
        timeoutMs: 60_000,
      });
      expect(acted.followed).toBeGreaterThan(0);
      const clicks = await waitFor(async () => {
        const s = await snapshotOf('applyShopperActions');
        return total(s, INSTRUMENTS.clicks) === acted.followed ? s : undefined;
      }, { what: `applyShopperActions to have exported ${acted.followed} clicks` });
      expect(total(clicks, INSTRUMENTS.clicks, { channel: 'email' }) + total(clicks, INSTRUMENTS.clicks, { channel: 'push' })).toBe(acted.followed);
      const orders = await waitFor(async () => {
        const s = await snapshotOf('restockSubscriptions');
        return total(s, INSTRUMENTS.conversions) === acted.ordered ? s : undefined;
      }, { what: `restockSubscriptions to have exported ${acted.ordered} orders` });
      expect(total(orders, INSTRUMENTS.conversions, { attribution: 'direct' })).toBe(acted.funnel.total.purchased.direct);
      expect(total(orders, INSTRUMENTS.conversions, { attribution: 'assisted' })).toBe(acted.funnel.total.purchased.assisted);
      expect(total(orders, INSTRUMENTS.revenue, { currency: 'EUR' })).toBe(acted.funnel.total.revenueMinor.EUR);
    } finally {
      await clients.close();
    }
  });
});
