import { describe, expect, test } from 'vitest';
import { formatTable, summarize, type Measurements } from '../../../bench/report.ts';
import { execFileSync } from 'node:child_process';
import { FANOUT_HEAP_AS_DEPLOYED, parseStatusMb } from '../../../bench/rss.ts';
import { loadTerraform } from '../terraform/hcl.ts';
import { variableValue } from '../../../sim/production/hcl-expression.ts';
import { parseStat } from '../../../bench/cpu.ts';
import type { PagingRun } from '../../../bench/ranges.ts';
import { diffCounts, sumCounts, totalRpcs } from '../../../bench/rpc-counter.ts';

function measurements(overrides: Partial<Measurements> = {}): Measurements {
  return {
    subscribers: 50_000,
    loadAverage: [1.5, 1.2, 1],
    sinkLatencyMs: 50,
    pipeline: {
      elapsedMs: 20_000,
      firstNotificationMs: 900,
      p50LatencyMs: 10_000,
      p95LatencyMs: 19_000,
      notified: 50_000,
      duplicates: 0,
      missing: 0,
      tasks: 500,
      rpcs: { batchGetDocuments: 502, commit: 1_004, runQuery: 50 },
    },
    naive: { elapsedMs: 300_000, sent: 50_000, rpcs: { commit: 100_000, runQuery: 1 } },
    floor: { elapsedMs: 16_000, firstClaimMs: 700, rpcs: { batchGetDocuments: 502, commit: 1_002, runQuery: 51 } },
    cpuSeconds: { pipeline: { firestore: 40, deliverRestockBatch: 20, sink: 0.01 }, naive: { firestore: 90, bench: 30 }, floor: { firestore: 30, bench: 10 } },
    fanoutPeakRssMb: 190,
    fanoutPeakRssMbTenth: 180,
    tenth: { subscribers: 5_000, elapsedMs: 3_000, firstNotificationMs: 400, ok: true },
    latency: { subscribers: 10_000, rttMs: 10, sinkLatencyMs: 100, pipelineMs: 5_000, firstNotificationMs: 400, duplicates: 0, missing: 0, naiveMs: 250_000, naiveSent: 10_000, cpuSeconds: { pipeline: { firestore: 4 }, naive: { firestore: 20 } } },
    ...overrides,
  };
}

describe('bench report', () => {
  test('derives the figures from the measurements: speedupVsNaive from the latency phase, the rest from loopback', () => {
    // Prepare
    const m = measurements();

    // Act
    const r = summarize(m);

    // Assess
    expect(r).toMatchObject({
      subscribers: 50_000,
      pipelineMs: 20_000,
      naiveMs: 300_000,
      floorMs: 16_000,
      speedupVsNaive: 50,
      loopbackSpeedupVsNaive: 15,
      ratioToFloor: 1.25,
      firstNotificationMs: 900,
      floorFirstClaimMs: 700,
      tenthFirstNotificationMs: 400,
      notificationsPerSecond: 2_500,
      firestoreRpcsPerNotification: 0.0311,
      latency: { rttMs: 10, pipelineMs: 5_000, naiveMs: 250_000 },
      naiveRpcsPerNotification: 2,
      fanoutPeakRssMb: 190,
      fanoutPeakRssMbTenth: 180,
      fanoutRssGrowth: 1.056,
    });
    expect(Object.values(r.targets).every(Boolean)).toBe(true);
  });

  test('a figure past its target is marked missed, in the JSON and in the table', () => {
    // Prepare
    const m = measurements({ floor: { elapsedMs: 10_000, firstClaimMs: 700, rpcs: {} }, fanoutPeakRssMb: 300 });

    // Act
    const r = summarize(m);
    const table = formatTable(r);

    // Assess
    expect(r.targets.ratioToFloor).toBe(false);
    expect(r.targets.fanoutMemoryFlat).toBe(false);
    expect(r.targets.speedupVsNaive).toBe(true);
    expect(table).toMatch(/ratio to floor\s+2x\s+<= 1.25x: MISSED/);
    expect(table).toMatch(/speedupVsNaive\s+50x\s+>= 20x: ok/);
    expect(table).toMatch(/fan-out peak RSS.*MISSED \(1.667x\)/);
    expect(table).toMatch(/CPU seconds, pipeline: firestore 40.0, deliverRestockBatch 20.0$/m);
  });

  test('a first notification past 1 s is missed whatever its storage floor, which is printed beside it with the N/10 figure', () => {
    // Prepare: the emulator's first page alone takes longer than the target
    const m = measurements({ pipeline: { ...measurements().pipeline, firstNotificationMs: 1_300 }, floor: { ...measurements().floor, firstClaimMs: 1_100 } });

    // Act
    const r = summarize(m);
    const table = formatTable(r);

    // Assess
    expect(r.targets.firstNotification).toBe(false);
    expect(r.floorFirstClaimMs).toBe(1_100);
    expect(table).toMatch(/first notification after publish\s+1.30 s\s+<= 1.00 s: MISSED/);
    expect(table).toMatch(/its storage floor \(first chunk claimed\)\s+1.10 s$/m);
    expect(table).toMatch(/at N\/10\s+0.40 s$/m);
  });

  test('a duplicate or a missing recipient, at N or at N/10, fails exactly-once', () => {
    const dup = summarize(measurements({ pipeline: { ...measurements().pipeline, duplicates: 1 } }));
    const tenthFailed = summarize(measurements({ tenth: { ...measurements().tenth, ok: false } }));

    expect(dup.targets.exactlyOnce).toBe(false);
    expect(tenthFailed.targets.exactlyOnce).toBe(false);
  });

  test('a speedup under 20 under latency, or a latency phase that did not run, misses the speedup target; a duplicate under latency fails exactly-once', () => {
    const latency = measurements().latency!;
    const slow = summarize(measurements({ latency: { ...latency, naiveMs: 90_000 } }));
    const skipped = summarize(measurements({ latency: undefined }));
    const dup = summarize(measurements({ latency: { ...latency, duplicates: 1 } }));

    expect(slow.speedupVsNaive).toBe(18);
    expect(slow.targets.speedupVsNaive).toBe(false);
    expect(formatTable(slow)).toMatch(/speedupVsNaive\s+18x\s+>= 20x: MISSED/);
    expect(skipped.speedupVsNaive).toBeNull();
    expect(skipped.targets.speedupVsNaive).toBe(false);
    expect(formatTable(skipped)).toContain('under latency: not run');
    expect(dup.targets.exactlyOnce).toBe(false);
  });
});

describe('bench report: key ranges', () => {
  const run = (over: Partial<PagingRun>): PagingRun => ({
    ranges: 1,
    pagingMs: 60_000,
    firstTaskMs: 300,
    pages: 200,
    tasks: 2_000,
    queuedTasks: 2_000,
    recipients: 200_000,
    plannedMs: null,
    perRange: [],
    cpu: { firestore: 50, fanOutRestock: 20 },
    ...over,
  });

  test('carries the key-range phase into the JSON and prints both runs, K and the speedup side by side', () => {
    // Prepare
    const ranges = {
      subscribers: 200_000,
      seedMs: 40_000,
      single: run({}),
      split: run({ ranges: 4, pagingMs: 25_000, plannedMs: 900, perRange: [{ index: 0, recipients: 49_900, pages: 50, startMs: 950, ms: 20_000, state: 'complete' }] }),
      speedup: 2.4,
    };

    // Act
    const r = summarize(measurements({ ranges }));
    const table = formatTable(r);

    // Assess
    expect(r.ranges).toEqual(ranges);
    expect(table).toMatch(/Key ranges: .*200,000 subscribers each/);
    expect(table).toMatch(/K = 1\s+60.00 s\s+\(2,000 tasks, 200 pages/);
    expect(table).toMatch(/K = 4\s+25.00 s/);
    expect(table).toMatch(/speedup\s+2.4x\s+\(K = 4; split planned after 0.90 s; .*0: 49,900 from 0.95 s for 20.00 s/);
  });

  test('without the phase, the table has no key-range lines and the JSON no ranges', () => {
    const r = summarize(measurements());

    expect(r.ranges).toBeUndefined();
    expect(formatTable(r)).not.toContain('Key ranges');
  });
});

describe('bench helpers', () => {
  test('reads the process group and CPU ticks from /proc/<pid>/stat text, whatever the command name holds', () => {
    const stat = '4242 (node (tsx) x) S 1 4200 4200 0 -1 4194304 100 0 0 0 250 75 0 0 20 0 11 0';

    expect(parseStat(stat)).toEqual({ pgrp: 4200, ticks: 325 });
    expect(parseStat('garbage')).toBeUndefined();
  });

  test("the bench's fan-out heap is the one Node gives itself in terraform's default fanOutRestock memory (function_config)", { timeout: 30_000 }, async () => {
    // Prepare
    const tf = await loadTerraform();
    const script = "process.stdout.write(String(require('v8').getHeapStatistics().heap_size_limit / 1048576))";

    // Act
    const limitMb = Number(execFileSync(process.execPath, [...FANOUT_HEAP_AS_DEPLOYED.nodeOptions.split(' '), '-e', script], { encoding: 'utf8' }));

    // Assess: 259 MiB is what Node 20 and 24 report inside a 512 MiB memory cgroup (bench/rss.ts)
    expect((variableValue(tf.variable.function_config) as { fanOutRestock: { memory: string } }).fanOutRestock.memory).toBe(FANOUT_HEAP_AS_DEPLOYED.memory);
    expect(FANOUT_HEAP_AS_DEPLOYED.memory).toBe('512Mi');
    expect(limitMb).toBeCloseTo(259, 0);
  });

  test('reads VmRSS and VmHWM from /proc/<pid>/status text, in MiB', () => {
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';

    expect(parseStatusMb(status, 'VmHWM')).toBe(200);
    expect(parseStatusMb(status, 'VmRSS')).toBe(100);
    expect(parseStatusMb('Name:\tnode\n', 'VmRSS')).toBeUndefined();
  });

  test('RPC counts add up per method and subtract a snapshot taken before', () => {
    const before = { commit: 3, runQuery: 1 };
    const after = sumCounts([{ commit: 5, runQuery: 1 }, { commit: 2, batchGetDocuments: 4 }]);

    expect(after).toEqual({ commit: 7, runQuery: 1, batchGetDocuments: 4 });
    expect(diffCounts(after, before)).toEqual({ commit: 4, batchGetDocuments: 4 });
    expect(totalRpcs(diffCounts(after, before))).toBe(8);
  });
});
