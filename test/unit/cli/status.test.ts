import { describe, expect, test } from 'vitest';
import { isSettled, type StatusReport } from '../../../cli/commands/status.ts';
import { sumRows, type FunnelRow } from '../../../cli/queries/funnel.ts';
import { latestOf, oldestOf } from '../../../cli/queries/status.ts';
import { CHANNELS, type Channel } from '../../../lib/model.ts';
import type { DeliverySummary } from '../../../cli/records.ts';
import { NotFoundError } from '../../../cli/errors.ts';
import { run, statusReport } from './fakes.ts';

const counts = (over: Partial<StatusReport['deliveries']>): StatusReport['deliveries'] => ({ sending: 0, sent: 0, failed: 0, rejected: 0, exhausted: 0, unsubscribed: 0, soldOutBeforeSend: 0, held: 0, total: 0, ...over });

describe('restock status', () => {
  test('an event is settled only when its fan-out is not running, no delivery is sending or failed, and none of its tasks is queued', () => {
    const done = { state: 'complete', recipients: 4 };
    expect(isSettled(done, counts({ sent: 3, exhausted: 1, total: 4 }), 0, 0)).toBe(true);
    expect(isSettled({ ...done, state: 'running' }, counts({ sent: 4, total: 4 }), 0, 0)).toBe(false);
    expect(isSettled(done, counts({ sent: 3, sending: 1, total: 4 }), 0, 0)).toBe(false);
    expect(isSettled(done, counts({ sent: 3, failed: 1, total: 4 }), 0, 0)).toBe(false);
    expect(isSettled(done, counts({ sent: 4, total: 4 }), 2, 0)).toBe(false);
    expect(isSettled(done, counts({ sent: 4, total: 4 }), null, 0)).toBe(false);
  });

  test('recipients without a delivery (they unsubscribed before it) do not keep an event unsettled once its queue is empty', () => {
    expect(isSettled({ state: 'complete', recipients: 40 }, counts({ sent: 38, total: 38 }), 0, 0)).toBe(true);
  });

  test('a fan-out with a chunk no delivery attempt ever claimed is not settled, even with nothing pending or queued (a misconfigured delivery function)', () => {
    expect(isSettled({ state: 'complete', recipients: 100 }, counts({}), 0, 1)).toBe(false);
    expect(isSettled({ state: 'complete', recipients: 100 }, counts({}), 0, null)).toBe(false);
    expect(isSettled({ state: 'failed', recipients: 100 }, counts({ sent: 40, total: 40 }), 0, 0)).toBe(true);
  });

  test('a fan-out that started before chunk receipts existed is judged by its ledger and the queue alone, as before receipts', () => {
    const older = { state: 'complete', recipients: 100, chunkReceipts: false };
    expect(isSettled(older, counts({ sent: 100, total: 100 }), 0, null)).toBe(true);
    expect(isSettled(older, counts({ sent: 99, failed: 1, total: 100 }), 0, null)).toBe(false);
    expect(isSettled(older, counts({ sent: 100, total: 100 }), 1, null)).toBe(false);
    expect(isSettled({ ...older, chunkReceipts: true }, counts({ sent: 100, total: 100 }), 0, null)).toBe(false);
  });

  test('human output says when an event was judged by the ledger alone (a fan-out older than chunk receipts)', async () => {
    const report = statusReport({ unaccountedChunks: null, accountedBy: 'ledger' });
    const { stdout } = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });
    expect(stdout).toContain('accounted by the ledger and the queue only: this fan-out started before chunk receipts existed');
    const { stdout: newer } = await run(['status', 'evt-1'], { ops: { readStatus: async () => statusReport() } });
    expect(newer).not.toContain('accounted by the ledger');
  });

  test('an ignored event or deliveries without a fan-out are settled once nothing is pending', () => {
    expect(isSettled({ state: 'ignored', recipients: 0 }, counts({}), null, null)).toBe(true);
    expect(isSettled(null, counts({ sent: 2, total: 2 }), null, null)).toBe(true);
    expect(isSettled(null, counts({ failed: 1, total: 1 }), null, null)).toBe(false);
  });

  test('human output shows the fan-out counters, deliveries by state, the oldest pending and the last errors', async () => {
    const report = statusReport({
      fanout: { ...statusReport().fanout!, state: 'running', pages: 3, chunks: 12, recipients: 1180 },
      deliveries: counts({ sending: 4, sent: 1170, failed: 1, exhausted: 5, total: 1180 }),
      oldestPending: { dedupKey: 'k', eventKey: 'evt-1', productId: 'sku-1', userId: 'u-17', channel: 'email', state: 'failed', attempts: 3, lastError: '503', sentAtMs: null, createdAtMs: 1_700_000_000_000 - 240_000, updatedAtMs: null },
      lastErrors: [{ dedupKey: 'k2', eventKey: 'evt-1', productId: 'sku-1', userId: 'u-3', channel: 'push', state: 'exhausted', attempts: 10, lastError: 'notifier answered 503', sentAtMs: null, createdAtMs: null, updatedAtMs: 1_700_000_000_000 }],
      settled: false,
    });
    const r = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fan-out running');
    expect(r.stdout).toContain('3 page(s), 12 chunk(s), 1180 recipient(s)');
    expect(r.stdout).toContain('deliveries 1180: sending 4  sent 1170  failed 1  rejected 0  exhausted 5');
    expect(r.stdout).toContain('oldest pending user u-17 email failed, 3 attempt(s)');
    expect(r.stdout).toContain('(4 min 0 s ago)');
    expect(r.stdout).toMatch(/u-3\s+push\s+exhausted\s+10 attempt\(s\).*notifier answered 503/);
    expect(r.stdout).toContain('settled no');
  });

  test('a restock in waves shows its settings, where the waves stand and one row per wave, in text and JSON', async () => {
    const t0 = 1_700_000_000_000;
    const waves = {
      multiplier: 2,
      intervalMs: 3_000,
      minAvailableToNotify: 1,
      phase: 'done' as const,
      index: 3,
      nextWaveAtMs: null,
      stopReason: 'sold-out',
      waves: [
        { index: 1, startedAtMs: t0, completedAtMs: t0 + 500, available: 10, taken: 20, delivered: 20 },
        { index: 2, startedAtMs: t0 + 3_000, completedAtMs: t0 + 3_400, available: 5, taken: 10, delivered: 9 },
      ],
    };
    const report = statusReport({ waves });
    const text = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });
    expect(text.stdout).toContain('waves 2 shopper(s) per unit, every 3.0 s, from 1 unit(s); ended before wave 3: sold-out');
    expect(text.stdout).toMatch(/wave 1\s+started .*\s+stock 10\s+took 20\s+delivered 20/);
    expect(text.stdout).toMatch(/wave 2\s+started .*\s+stock 5\s+took 10\s+delivered 9/);
    const json = await run(['status', 'evt-1', '--json'], { ops: { readStatus: async () => report } });
    expect(JSON.parse(json.stdout).waves).toEqual(waves);
    const plain = await run(['status', 'evt-1'], { ops: { readStatus: async () => statusReport() } });
    expect(plain.stdout).not.toContain('per unit');
  });

  test('held sends and held sends skipped at the stock check are counted, in text and JSON, and nothing is said without them', async () => {
    const sendWindows = { held: 7, skippedSoldOut: 3, skippedSuperseded: 1 };
    const report = statusReport({ sendWindows, deliveries: { ...counts({ sent: 10, held: 7, soldOutBeforeSend: 4 }), total: 21 } });
    const text = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });
    expect(text.stdout).toContain('send windows held 7  skippedSoldOut 3  skippedSuperseded 1');
    expect(text.stdout).toMatch(/held 7/);
    const json = await run(['status', 'evt-1', '--json'], { ops: { readStatus: async () => report } });
    expect(JSON.parse(json.stdout).sendWindows).toEqual(sendWindows);
    const plain = await run(['status', 'evt-1'], { ops: { readStatus: async () => statusReport() } });
    expect(plain.stdout).not.toContain('send windows');
  });

  test('a rejected event shows why it was rejected', async () => {
    const report = statusReport({ fanout: null, rejected: { reason: 'available: must not be negative', field: 'available', receivedAtMs: 1_700_000_000_000 }, deliveries: counts({}) });
    const r = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });
    expect(r.stdout).toContain('rejected at 2023-11-14T22:13:20.000Z: available: must not be negative (field available)');
  });

  test('--watch reads again until the event is settled, then prints the settled report once', async () => {
    const reports = [statusReport({ settled: false, deliveries: counts({ sending: 100, sent: 50, total: 150 }) }), statusReport({ settled: false }), statusReport()];
    let reads = 0;
    const r = await run(['status', 'evt-1', '--watch', '--json', '--interval', '100'], { ops: { readStatus: async () => reports[Math.min(reads++, 2)]! } });
    expect(r.code).toBe(0);
    expect(reads).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual(reports[2]);
  });

  test('--watch on an event published a moment ago waits for it to be recorded; without --watch, or past --timeout, it is not found', async () => {
    const notYet = async () => {
      throw new NotFoundError('no outbox row, fan-out, rejected event or delivery is recorded for event evt-1', 'evt-1');
    };
    let reads = 0;
    const watched = await run(['status', 'evt-1', '--watch', '--json', '--interval', '100'], { ops: { readStatus: async () => (reads++ < 2 ? notYet() : statusReport()) } });
    expect(watched.code).toBe(0);
    expect(reads).toBe(3);
    expect(JSON.parse(watched.stdout)).toEqual(statusReport());

    expect((await run(['status', 'evt-1', '--json'], { ops: { readStatus: notYet } })).code).toBe(1);
    let nowMs = 0;
    const late = await run(['status', 'evt-1', '--watch', '--timeout', '5'], { nowMs: () => (nowMs += 2000), ops: { readStatus: notYet } });
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/no outbox row, fan-out/);
  });

  test('--watch gives up after --timeout with exit 1, still printing the last report', async () => {
    let nowMs = 0;
    const r = await run(['status', 'evt-1', '--watch', '--json', '--timeout', '5'], {
      nowMs: () => (nowMs += 2000),
      ops: { readStatus: async () => statusReport({ settled: false }) },
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).settled).toBe(false);
    expect(r.stderr).toMatch(/not settled after 5 s/);
  });
});

describe('the oldest pending delivery and the last errors, picked from a sample in document order (no timestamp index)', () => {
  const entry = (dedupKey: string, createdAtMs: number | null, updatedAtMs: number | null): DeliverySummary => ({
    dedupKey, eventKey: 'evt-1', productId: 'sku-1', userId: `u-${dedupKey}`, channel: 'email', state: 'failed', attempts: 1, lastError: null, sentAtMs: null, createdAtMs, updatedAtMs,
  });

  test('the oldest is the earliest created, whatever the document order, and an entry without a creation time comes last', () => {
    // Prepare: entries in hash (document id) order, not in time order.
    const sample = [entry('a', 300, 900), entry('b', null, 100), entry('c', 100, 200), entry('d', 200, 800)];
    // Act / assess
    expect(oldestOf(sample).map((e) => e.dedupKey)).toEqual(['c', 'd', 'a', 'b']);
    expect(oldestOf([])).toEqual([]);
  });

  test('the last errors are the most recently updated, newest first, at most the limit', () => {
    const sample = [entry('a', 1, 900), entry('b', 1, 100), entry('c', 1, null), entry('d', 1, 800)];
    expect(latestOf(sample, 2).map((e) => e.dedupKey)).toEqual(['a', 'd']);
    expect(latestOf(sample, 10).map((e) => e.dedupKey)).toEqual(['a', 'd', 'b', 'c']);
  });

  test('status says when they come from a sample (more entries in those states than it reads) and says nothing when they are exact', async () => {
    const pending = entry('p', 1_700_000_000_000 - 60_000, null);
    const sampled = statusReport({ oldestPending: pending, lastErrors: [entry('e', 1, 1_700_000_000_000)], sample: { size: 200, pendingExact: false, errorsExact: false } });
    const exact = statusReport({ oldestPending: pending, lastErrors: [entry('e', 1, 1_700_000_000_000)] });
    const a = await run(['status', 'evt-1'], { ops: { readStatus: async () => sampled } });
    const b = await run(['status', 'evt-1'], { ops: { readStatus: async () => exact } });
    expect(a.stdout).toContain('oldest pending (of 200 sampled) user u-p');
    expect(a.stdout).toContain('last errors (of 200 sampled)');
    expect(b.stdout).toContain('oldest pending user u-p');
    expect(b.stdout).not.toContain('sampled');
  });
  test('human output leaves out the funnel rows of channels the restock notified nobody on; --json keeps every channel', async () => {
    // Prepare: a restock told shoppers by email and push only.
    const zero = { notified: 0, clicked: 0, purchased: { direct: 0, assisted: 0 }, revenueMinor: {} };
    const email = { notified: 3, clicked: 1, purchased: { direct: 1, assisted: 1 }, revenueMinor: { EUR: 4999 } };
    const push = { notified: 2, clicked: 0, purchased: { direct: 0, assisted: 0 }, revenueMinor: {} };
    const byChannel: NonNullable<StatusReport['funnel']>['byChannel'] = { ...(Object.fromEntries(CHANNELS.map((c) => [c, zero])) as Record<Channel, FunnelRow>), email, push };
    const unused = CHANNELS.filter((c) => c !== 'email' && c !== 'push');
    const report = statusReport({ funnel: { total: sumRows([email, push]), byChannel, byWave: [{ wave: 1, ...zero }] } });

    // Act
    const human = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });
    const json = await run(['status', 'evt-1', '--json'], { ops: { readStatus: async () => report } });

    // Assess
    expect(unused.length).toBeGreaterThan(0);
    expect(human.stdout).toMatch(/email\s+notified 3\s+clicked 1\s+purchased 2 \(direct 1, assisted 1\)\s+revenue EUR 49\.99/);
    expect(human.stdout).toMatch(/push\s+notified 2\s+clicked 0/);
    expect(human.stdout).toMatch(/all\s+notified 5\s+clicked 1/);
    expect(human.stdout).toMatch(/wave 1\s+notified 0/);
    for (const c of unused) expect(human.stdout).not.toMatch(new RegExp(`^\\s+${c}\\s+notified`, 'm'));
    expect(JSON.parse(json.stdout).funnel.byChannel).toEqual(byChannel);
  });
});
