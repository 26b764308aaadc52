import { describe, expect, test } from 'vitest';
import { Logger } from '../../../lib/log.ts';
import { newRow, OutboxRelay, stockChangeEvent, type Publisher, type RelayOptions } from '../../../lib/outbox/index.ts';
import { MemoryOutboxStore } from './memory-store.ts';

const NOW = 1_800_000_000_000;
const options = (o: Partial<RelayOptions> = {}): RelayOptions => ({
  leaseMs: 10_000,
  maxAttempts: 3,
  backoffMinMs: 1000,
  backoffMaxMs: 5000,
  sentTtlMs: 60_000,
  batchSize: 10,
  log: new Logger({}, 'ERROR', () => {}),
  now: () => NOW,
  ...o,
});

function rowFor(eventId: string, sequence: number) {
  const { event } = stockChangeEvent({ productId: 'sku-1', available: sequence }, { sequence: sequence - 1 }, NOW);
  return newRow(eventId, event, NOW);
}

/** Records what it published; fails for the ids in `failing`. */
function recordingPublisher(failing = new Set<string>()): Publisher & { published: string[] } {
  const published: string[] = [];
  return {
    published,
    async publish(m) {
      if (failing.has(m.attributes.eventId!)) throw new Error('UNAVAILABLE');
      published.push(m.attributes.eventId!);
      return `m-${published.length}`;
    },
  };
}

describe('the relay', () => {
  test('fails an unpublishable row at once with its reason and still publishes the rows behind it', async () => {
    // Prepare
    const store = new MemoryOutboxStore();
    store.add({ ...rowFor('bad', 1), event: { garbage: true } });
    store.add(rowFor('good-1', 2));
    store.add(rowFor('good-2', 3));
    const publisher = recordingPublisher();

    // Act
    const report = await new OutboxRelay(store, publisher, options()).sweep(60_000);

    // Assess
    expect(report).toMatchObject({ claimed: 3, sent: 2, failed: 1, retried: 0 });
    expect(publisher.published).toEqual(['good-1', 'good-2']);
    expect(await store.get('bad')).toMatchObject({ state: 'failed', attempts: 1, lastError: expect.stringMatching(/^unpublishable: /) });
  });

  test('retries a failing publish after its back-off and makes it failed after the last attempt', async () => {
    // Prepare
    const store = new MemoryOutboxStore();
    store.add(rowFor('flaky', 1));
    let now = NOW;
    const relay = new OutboxRelay(store, recordingPublisher(new Set(['flaky'])), options({ now: () => now }));

    // Act + assess: each sweep tries once, then the row waits for its back-off.
    await relay.sweep(60_000);
    expect(await store.get('flaky')).toMatchObject({ state: 'pending', attempts: 1, nextAttemptAtMs: NOW + 1000, leaseOwner: null });
    expect((await relay.sweep(60_000)).claimed).toBe(0);
    now += 1000;
    await relay.sweep(60_000);
    now += 2000;
    await relay.sweep(60_000);
    expect(await store.get('flaky')).toMatchObject({ state: 'failed', attempts: 3, lastError: expect.stringMatching(/^gave up after 3 attempts/) });
  });

  test('the fast path answers within its bound when Pub/Sub never answers, leaving the row leased for the sweep', async () => {
    // Prepare
    const store = new MemoryOutboxStore();
    store.add(rowFor('stuck', 1));
    const hanging: Publisher = { publish: () => new Promise<string>(() => {}) };

    // Act
    const report = await new OutboxRelay(store, hanging, options({ now: Date.now })).publishNow(['stuck'], 20);

    // Assess
    expect(report.published).toBe(false);
    expect(await store.get('stuck')).toMatchObject({ state: 'pending', attempts: 0, leaseOwner: expect.any(String) });
  });

  test('the fast path leaves a row another relay holds alone', async () => {
    const store = new MemoryOutboxStore();
    store.add({ ...rowFor('held', 1), leaseOwner: 'sweeper', leaseExpiresAtMs: NOW + 5000 });
    const publisher = recordingPublisher();

    const report = await new OutboxRelay(store, publisher, options()).publishNow(['held'], 1000);

    expect(report.published).toBe(false);
    expect(publisher.published).toEqual([]);
  });
});
