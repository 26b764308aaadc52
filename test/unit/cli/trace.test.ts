/**
 * `restock trace`'s rendering of one shopper's deliveries: each channel's
 * state and attempts, and, for a restock told in waves, the wave that claimed
 * it (docs/waves.md) — the answer to "why was I told an hour after my friend".
 */
import { describe, expect, test } from 'vitest';
import type { TraceReport } from '../../../cli/commands/trace.ts';
import type { DeliverySummary } from '../../../cli/records.ts';
import { run } from './fakes.ts';

const NOW = 1_700_000_000_000;

function delivery(overrides: Partial<DeliverySummary>): DeliverySummary {
  return {
    dedupKey: 'k',
    eventKey: 'evt-1',
    productId: 'sku-1',
    userId: 'u-1',
    channel: 'email',
    state: 'sent',
    attempts: 1,
    lastError: null,
    sentAtMs: NOW,
    createdAtMs: NOW - 1_000,
    updatedAtMs: NOW,
    ...overrides,
  };
}

function report(deliveries: DeliverySummary[]): TraceReport {
  return { userId: 'u-1', productId: 'sku-1', subscriptions: [], events: [{ eventKey: 'evt-1', fanout: null, deliveries, outbox: null }], outboxUnreadable: null };
}

describe('restock trace', () => {
  test('a delivery claimed by a wave says which wave, beside its state and attempts', async () => {
    const r = await run(['trace', '--user', 'u-1', '--product', 'sku-1'], {
      ops: { readTrace: async () => report([delivery({ channel: 'email', wave: 3 }), delivery({ channel: 'push', state: 'failed', attempts: 2, sentAtMs: null, lastError: 'UNAVAILABLE', wave: 3 })]) },
    });

    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const email = lines.find((l) => l.trimStart().startsWith('email'));
    const push = lines.find((l) => l.trimStart().startsWith('push'));
    expect(email).toMatch(/email\s+sent\s+1 attempt\(s\)\s+sent 2023-11-14T22:13:20\.000Z\s+wave 3/);
    expect(push).toMatch(/push\s+failed\s+2 attempt\(s\)\s+updated 2023-11-14T22:13:20\.000Z\s+wave 3\s+UNAVAILABLE/);
  });

  test('a delivery of a restock told all at once names no wave, and --json leaves the field out', async () => {
    const r = await run(['trace', '--user', 'u-1', '--product', 'sku-1'], { ops: { readTrace: async () => report([delivery({})]) } });
    const json = await run(['trace', '--user', 'u-1', '--product', 'sku-1', '--json'], { ops: { readTrace: async () => report([delivery({})]) } });

    expect(r.stdout).not.toContain('wave');
    expect(JSON.parse(json.stdout).events[0].deliveries[0]).not.toHaveProperty('wave');
  });

  test('a held delivery says until when; a held send skipped at the opening says why (send windows, docs/send-windows.md)', async () => {
    const opensAt = NOW + 3_600_000;
    const r = await run(['trace', '--user', 'u-1', '--product', 'sku-1'], {
      ops: {
        readTrace: async () =>
          report([
            delivery({ channel: 'email', state: 'held', sentAtMs: null, heldUntilMs: opensAt }),
            delivery({ channel: 'push', state: 'soldOutBeforeSend', sentAtMs: null, heldUntilMs: opensAt, skipped: 'sold-out' }),
          ]),
      },
    });

    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.trimStart().startsWith('email'))).toMatch(/email\s+held\s+.*held until 2023-11-14T23:13:20\.000Z/);
    expect(lines.find((l) => l.trimStart().startsWith('push'))).toMatch(/push\s+soldOutBeforeSend\s+.*held until 2023-11-14T23:13:20\.000Z, skipped: sold-out/);
  });

  test("a subscription shows the shopper's time zone, or that the default zone applies", async () => {
    const subscriptions = [
      { productId: 'sku-1', channels: ['email' as const], locale: 'ja', timeZone: 'Asia/Tokyo', createdAtMs: NOW, consent: null },
      { productId: 'sku-2', channels: ['push' as const], locale: null, timeZone: null, createdAtMs: NOW, consent: null },
    ];
    const r = await run(['trace', '--user', 'u-1'], { ops: { readTrace: async () => ({ ...report([]), productId: null, subscriptions, events: [] }) } });

    const lines = r.stdout.split('\n');
    expect(lines.find((l) => l.includes('sku-1'))).toMatch(/sku-1\s+email\s+ja\s+Asia\/Tokyo\s+since/);
    expect(lines.find((l) => l.includes('sku-2'))).toMatch(/sku-2\s+push\s+-\s+default zone\s+since/);
  });
});
