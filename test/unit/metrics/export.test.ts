/**
 * Exporting: what the instruments record reaches the local file as the
 * snapshot `lastSnapshot`/`total` read back, and an exporter that fails or
 * hangs never fails (or holds for long) the request that flushes it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { describe, expect, test } from 'vitest';
import { JsonLinesFileExporter } from '../../../lib/metrics/file-exporter.ts';
import { INSTRUMENTS, lastSnapshot, total } from '../../../lib/metrics/index.ts';
import { GuardedExporter, resourceOf, startOtelMetrics } from '../../../lib/metrics/otel.ts';

/** A clock the test moves. */
function clock(startMs = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A process's metrics exporting to `<dir>/<service>.jsonl` as `instance`, on the test's clock; an export failure fails the test. */
function fileMetrics(dir: string, service: string, now: () => number, instance?: string) {
  return startOtelMetrics({
    exporter: new JsonLinesFileExporter(dir, service, instance),
    resource: resourceOf({ 'service.name': service }),
    exportIntervalMs: 60_000,
    minGapMs: 0,
    onFailure: (err) => {
      throw err;
    },
    now,
  });
}

function exporterThat(behaviour: 'fails' | 'throws' | 'hangs', calls: { n: number }): PushMetricExporter {
  return {
    export(_metrics: ResourceMetrics, done: (r: ExportResult) => void) {
      calls.n++;
      if (behaviour === 'throws') throw new Error('exporter bug');
      if (behaviour === 'fails') done({ code: ExportResultCode.FAILED, error: new Error('PERMISSION_DENIED') });
      // 'hangs': never calls back.
    },
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    forceFlush: async () => {},
    shutdown: async () => {},
  };
}

describe('the file exporter', () => {
  test('writes what was recorded, by label, as the last snapshot of <dir>/<service>.jsonl', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'restock-metrics-'));
    const t = clock();
    const m = fileMetrics(dir, 'deliverRestockBatch', t.now);

    // Act
    m.recorder.notifications('email', 'sent', 98);
    m.recorder.notifications('email', 'retried', 2);
    m.recorder.notifications('push', 'sent', 5);
    m.recorder.chunkDelivered(120, false);
    m.recorder.chunkDelivered(80, true);
    t.advance(60_000);
    await m.flushIfDue();
    await m.shutdown();

    // Assess
    const snapshot = await lastSnapshot(join(dir, 'deliverRestockBatch.jsonl'));
    expect(snapshot?.service).toBe('deliverRestockBatch');
    expect(total(snapshot, INSTRUMENTS.notifications, { outcome: 'sent' })).toBe(103);
    expect(total(snapshot, INSTRUMENTS.notifications, { channel: 'email' })).toBe(100);
    expect(total(snapshot, INSTRUMENTS.notifications, { outcome: 'retried' })).toBe(2);
    expect(total(snapshot, INSTRUMENTS.chunkDuration)).toBe(2);
    expect(total(snapshot, INSTRUMENTS.chunkDuration, { settled: 'true' })).toBe(1);
    expect(snapshot?.metrics[INSTRUMENTS.chunkDuration]?.unit).toBe('ms');
  });

  test('clicks by channel, orders by attribution and channel, revenue by currency and attribution (what a restock sold, docs/funnel.md)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'restock-metrics-'));
    const t = clock();
    const m = fileMetrics(dir, 'restockSubscriptions', t.now);

    m.recorder.clickRecorded('email');
    m.recorder.clickRecorded('email');
    m.recorder.clickRecorded('push');
    m.recorder.orderRecorded({ attribution: 'direct', channel: 'email', currency: 'EUR', valueMinor: 4999 });
    m.recorder.orderRecorded({ attribution: 'assisted', channel: 'push', currency: 'EUR', valueMinor: 1000 });
    m.recorder.orderRecorded({ attribution: 'unattributed', channel: undefined, currency: 'JPY', valueMinor: 3000 });
    t.advance(60_000);
    await m.flushIfDue();
    await m.shutdown();

    const snapshot = await lastSnapshot(join(dir, 'restockSubscriptions.jsonl'));
    expect(total(snapshot, INSTRUMENTS.clicks, { channel: 'email' })).toBe(2);
    expect(total(snapshot, INSTRUMENTS.clicks)).toBe(3);
    expect(total(snapshot, INSTRUMENTS.conversions, { attribution: 'direct', channel: 'email' })).toBe(1);
    expect(total(snapshot, INSTRUMENTS.conversions, { attribution: 'unattributed', channel: 'none' })).toBe(1);
    expect(total(snapshot, INSTRUMENTS.revenue, { currency: 'EUR' })).toBe(5999);
    expect(total(snapshot, INSTRUMENTS.revenue, { currency: 'JPY', attribution: 'unattributed' })).toBe(3000);
  });

  test("processes of one service (the API's instances) write one file, and it reads as their sum, each process's last line counted once", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'restock-metrics-'));
    const t = clock();
    const [a, b] = [fileMetrics(dir, 'restockSubscriptions', t.now, '101'), fileMetrics(dir, 'restockSubscriptions', t.now, '102')];

    a.recorder.clickRecorded('email');
    b.recorder.clickRecorded('email');
    b.recorder.clickRecorded('push');
    a.recorder.chunkDelivered(100, true);
    b.recorder.chunkDelivered(300, true);
    t.advance(60_000);
    await Promise.all([a.flushIfDue(), b.flushIfDue()]);
    // A later line of one process replaces its earlier one, not adds to it.
    a.recorder.clickRecorded('email');
    t.advance(60_000);
    await a.flushIfDue();
    await Promise.all([a.shutdown(), b.shutdown()]);

    const snapshot = await lastSnapshot(join(dir, 'restockSubscriptions.jsonl'));
    expect(total(snapshot, INSTRUMENTS.clicks, { channel: 'email' })).toBe(3);
    expect(total(snapshot, INSTRUMENTS.clicks)).toBe(4);
    expect(total(snapshot, INSTRUMENTS.chunkDuration, { settled: 'true' })).toBe(2);
    const chunk = snapshot?.metrics[INSTRUMENTS.chunkDuration]?.points[0];
    expect(chunk && 'sum' in chunk ? [chunk.sum, chunk.min, chunk.max] : undefined).toEqual([400, 100, 300]);
  });

  test('a missing file reads as no snapshot, and its totals as 0', async () => {
    const snapshot = await lastSnapshot(join(tmpdir(), 'no-such-dir-restock', 'x.jsonl'));
    expect(snapshot).toBeUndefined();
    expect(total(snapshot, INSTRUMENTS.notifications)).toBe(0);
  });
});

describe('an exporter that fails', () => {
  test.each(['fails', 'throws'] as const)('that %s is reported, and the flush a request awaits still resolves', async (behaviour) => {
    // Prepare
    const calls = { n: 0 };
    const failures: (Error | undefined)[] = [];
    const t = clock();
    const m = startOtelMetrics({
      exporter: exporterThat(behaviour, calls),
      resource: resourceOf({}),
      exportIntervalMs: 60_000,
      minGapMs: 0,
      onFailure: (err) => failures.push(err),
      now: t.now,
    });
    m.recorder.eventHandled('completed');

    // Act
    t.advance(60_000);
    await m.flushIfDue();

    // Assess
    expect(calls.n).toBe(1);
    expect(failures.length).toBeGreaterThanOrEqual(1);
    await m.shutdown();
  });

  test('that hangs holds a flushing request only for the bounded wait, then lets it answer', async () => {
    const calls = { n: 0 };
    const t = clock();
    const m = startOtelMetrics({ exporter: exporterThat('hangs', calls), resource: resourceOf({}), exportIntervalMs: 60_000, minGapMs: 0, onFailure: () => {}, now: t.now });
    m.recorder.eventHandled('completed');
    t.advance(60_000);

    await expect(m.flushIfDue()).resolves.toBeUndefined();
    expect(calls.n).toBe(1);
  });
});

describe('flushing at the end of requests', () => {
  test('exports only once an interval has passed since the last export', async () => {
    const calls = { n: 0 };
    const t = clock();
    const m = startOtelMetrics({ exporter: exporterThat('fails', calls), resource: resourceOf({}), exportIntervalMs: 60_000, minGapMs: 0, onFailure: () => {}, now: t.now });
    m.recorder.eventHandled('completed');

    await m.flushIfDue();
    t.advance(59_000);
    await m.flushIfDue();
    expect(calls.n).toBe(0);

    t.advance(1_000);
    await m.flushIfDue();
    await m.flushIfDue();
    expect(calls.n).toBe(1);
    await m.shutdown();
  });

  test('skips exports closer together than the backend accepts (Cloud Monitoring: 5 s a series), without reporting a failure', () => {
    // Prepare
    const calls = { n: 0 };
    const failures: unknown[] = [];
    const t = clock();
    const inner: PushMetricExporter = { ...exporterThat('fails', calls), export: (_m, done) => {
        calls.n++;
        done({ code: ExportResultCode.SUCCESS });
      },
    };
    const guarded = new GuardedExporter(inner, 5_000, (e) => failures.push(e), t.now);
    const results: ExportResult[] = [];
    const batch = {} as ResourceMetrics;

    // Act
    guarded.export(batch, (r) => results.push(r));
    t.advance(4_999);
    guarded.export(batch, (r) => results.push(r));
    t.advance(1);
    guarded.export(batch, (r) => results.push(r));

    // Assess
    expect(calls.n).toBe(2);
    expect(results.map((r) => r.code)).toEqual([ExportResultCode.SUCCESS, ExportResultCode.SUCCESS, ExportResultCode.SUCCESS]);
    expect(failures).toEqual([]);
  });
});
