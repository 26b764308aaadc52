/**
 * `restock trace` answers "where is my notification?" from the stock change
 * on: an event that came through the inventory service's outbox shows its
 * row (state, attempts, staged and sent times, the last error) next to its
 * fan-out and the shopper's deliveries, as JSON and as text.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import type { TraceReport } from '../../../cli/commands/trace.ts';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { restock, restockJson } from '../../helpers/cli.ts';
import { putStock } from './support.ts';

describe('restock trace of a restock that started as a stock change', () => {
  const s = stack();
  const productId = uniqueProductId('trace-outbox');
  let eventId: string;

  beforeAll(async () => {
    // The product is sold out for the pipeline; user-0 waits; the inventory service restocks it.
    await seedSubscribers(productId, 1, { product: { available: 0, sequence: 0 } });
    const answer = await putStock(s.description.inventory, productId, { available: 8, name: 'Traced boot' });
    expect(answer.status).toBe(200);
    eventId = answer.body.eventId!;
    await waitFor(async () => (await s.sink.stats(productId)).delivered === 1, { what: 'the notification', timeoutMs: 60_000 });
  });

  test('--json carries the outbox row of the event: sent, its attempts, its staged and sent times', async () => {
    const report = await waitFor(async () => {
      const r = await restockJson<TraceReport>(['trace', '--user', 'user-0', '--product', productId], { stack: s.description });
      return r.events.find((e) => e.eventKey === eventId && e.deliveries[0]?.state === 'sent' && e.fanout?.state === 'complete');
    }, { what: 'the delivery in the trace' });

    expect(report.outbox).toMatchObject({ eventId, productId, state: 'sent', attempts: 0, sequence: 1, lastError: null, stagedAtMs: expect.any(Number), publishedAtMs: expect.any(Number) });
    expect(report.outbox!.publishedAtMs!).toBeGreaterThanOrEqual(report.outbox!.stagedAtMs);
    expect(report.fanout?.state).toBe('complete');
  });

  test('the text names the outbox row under its event, with its state and how it was published', async () => {
    const r = await restock(['trace', '--user', 'user-0', '--product', productId], { stack: s.description });

    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes(eventId));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(lines[at + 1]).toMatch(/^\s+outbox sent, sequence 1, 0 failed attempt\(s\), staged \S+.*published by (fast-path|sweep) \S+/);
  });

  test('an event that did not come through the outbox has no row', async () => {
    const other = uniqueProductId('trace-direct');
    await seedSubscribers(other, 1, { product: { available: 0, sequence: 0 } });
    const published = await restockJson<{ eventId: string }>(['publish', '--product', other, '--available', '3', '--previous', '0'], { stack: s.description });
    await waitFor(async () => (await s.sink.stats(other)).delivered === 1, { what: 'the direct notification', timeoutMs: 60_000 });

    const report = await restockJson<TraceReport>(['trace', '--user', 'user-0', '--product', other], { stack: s.description });

    expect(report.events.find((e) => e.eventKey === published.eventId)).toMatchObject({ outbox: null });
  });
});
