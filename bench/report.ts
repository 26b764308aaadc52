/**
 * The benchmark's figures: derived from the raw measurements, checked against
 * the targets of issues 8 and 15, and printed as a table. Pure.
 */
import type { OutboxBench } from './outbox.ts';
import type { LatencyBench } from './latency.ts';
import type { RangesBench } from './ranges.ts';
import type { CpuSeconds } from './cpu.ts';
import type { RpcCounts } from './rpc-counter.ts';

/** What one bench run measured. */
export interface Measurements {
  subscribers: number;
  loadAverage: [number, number, number];
  sinkLatencyMs: number;
  pipeline: {
    elapsedMs: number;
    firstNotificationMs: number | null;
    p50LatencyMs: number | null;
    p95LatencyMs: number | null;
    notified: number;
    duplicates: number;
    missing: number;
    tasks: number | null;
    rpcs: RpcCounts;
  };
  naive: { elapsedMs: number; sent: number; rpcs: RpcCounts };
  /** `firstClaimMs`: the floor's first chunk claimed, the storage work before a first notification can go out. */
  floor: { elapsedMs: number; firstClaimMs: number; rpcs: RpcCounts };
  /** CPU seconds per stack component (and `bench`, this process) during each phase: where the time went. */
  cpuSeconds: { pipeline: CpuSeconds; naive: CpuSeconds; floor: CpuSeconds };
  fanoutPeakRssMb: number;
  fanoutPeakRssMbTenth: number;
  tenth: { subscribers: number; elapsedMs: number; firstNotificationMs: number | null; ok: boolean };
  /** The outbox phase (bench/outbox.ts), when it ran. */
  outbox?: OutboxBench;
  /** The latency phase (bench/latency.ts), when it ran. */
  latency?: LatencyBench;
  /** The key-range phase (bench/ranges.ts), when it ran. */
  ranges?: RangesBench;
}

/** The JSON line of `npm run bench -- --json`. */
export interface BenchResult {
  subscribers: number;
  pipelineMs: number;
  naiveMs: number;
  floorMs: number;
  /** The pipeline against the naive design under latency (the latency phase); null when it did not run. */
  speedupVsNaive: number | null;
  /** The same on loopback, where Firestore calls are nearly free (no target: it flatters the naive design). */
  loopbackSpeedupVsNaive: number;
  latency?: LatencyBench;
  /** Paging with K key ranges against K = 1 (the key-range phase); absent when it did not run. */
  ranges?: RangesBench;
  ratioToFloor: number;
  firstNotificationMs: number | null;
  /**
   * The storage floor's first chunk claimed: what the emulator makes the first
   * notification wait for at N, whatever the pipeline does (mostly the first
   * page query, which scans the whole database on the emulator).
   */
  floorFirstClaimMs: number;
  /** The first notification of the N/10 run: the same path with a tenth of the collection to scan. */
  tenthFirstNotificationMs: number | null;
  notificationsPerSecond: number;
  firestoreRpcsPerNotification: number;
  firestoreRpcs: RpcCounts;
  naiveRpcsPerNotification: number;
  floorRpcs: number;
  fanoutPeakRssMb: number;
  fanoutPeakRssMbTenth: number;
  fanoutRssGrowth: number;
  duplicates: number;
  missing: number;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  tasks: number | null;
  sinkLatencyMs: number;
  loadAverage: [number, number, number];
  cpuSeconds: Measurements['cpuSeconds'];
  outbox?: OutboxBench;
  targets: Record<TargetName, boolean>;
}

export type TargetName = 'speedupVsNaive' | 'ratioToFloor' | 'firestoreRpcsPerNotification' | 'firstNotification' | 'fanoutMemoryFlat' | 'exactlyOnce';

/** The targets of issue 15: the speedup under latency (10 ms round trips, sink 100 ms a call), the rest on loopback. */
export const TARGETS = {
  minSpeedupVsNaive: 20,
  maxRatioToFloor: 1.25,
  maxRpcsPerNotification: 0.035,
  maxFirstNotificationMs: 1000,
  maxRssGrowth: 1.3,
} as const;

const total = (c: RpcCounts): number => Object.values(c).reduce((a, b) => a + b, 0);
const round = (v: number, digits: number): number => Number(v.toFixed(digits));

/** Derives the figures and judges each target. */
export function summarize(m: Measurements): BenchResult {
  const rpcsPerNotification = m.pipeline.notified > 0 ? total(m.pipeline.rpcs) / m.pipeline.notified : Number.NaN;
  const growth = m.fanoutPeakRssMb / m.fanoutPeakRssMbTenth;
  const result: Omit<BenchResult, 'targets'> = {
    subscribers: m.subscribers,
    pipelineMs: m.pipeline.elapsedMs,
    naiveMs: m.naive.elapsedMs,
    floorMs: m.floor.elapsedMs,
    speedupVsNaive: m.latency ? round(m.latency.naiveMs / m.latency.pipelineMs, 2) : null,
    loopbackSpeedupVsNaive: round(m.naive.elapsedMs / m.pipeline.elapsedMs, 2),
    ratioToFloor: round(m.pipeline.elapsedMs / m.floor.elapsedMs, 2),
    firstNotificationMs: m.pipeline.firstNotificationMs,
    floorFirstClaimMs: m.floor.firstClaimMs,
    tenthFirstNotificationMs: m.tenth.firstNotificationMs,
    notificationsPerSecond: Math.round(m.pipeline.notified / (m.pipeline.elapsedMs / 1000)),
    firestoreRpcsPerNotification: round(rpcsPerNotification, 4),
    firestoreRpcs: m.pipeline.rpcs,
    naiveRpcsPerNotification: m.naive.sent > 0 ? round(total(m.naive.rpcs) / m.naive.sent, 4) : Number.NaN,
    floorRpcs: total(m.floor.rpcs),
    fanoutPeakRssMb: round(m.fanoutPeakRssMb, 1),
    fanoutPeakRssMbTenth: round(m.fanoutPeakRssMbTenth, 1),
    fanoutRssGrowth: round(growth, 3),
    duplicates: m.pipeline.duplicates,
    missing: m.pipeline.missing,
    p50LatencyMs: m.pipeline.p50LatencyMs,
    p95LatencyMs: m.pipeline.p95LatencyMs,
    tasks: m.pipeline.tasks,
    sinkLatencyMs: m.sinkLatencyMs,
    loadAverage: m.loadAverage,
    cpuSeconds: m.cpuSeconds,
    ...(m.outbox ? { outbox: m.outbox } : {}),
    ...(m.latency ? { latency: m.latency } : {}),
    ...(m.ranges ? { ranges: m.ranges } : {}),
  };
  return {
    ...result,
    targets: {
      speedupVsNaive: result.speedupVsNaive !== null && result.speedupVsNaive >= TARGETS.minSpeedupVsNaive,
      ratioToFloor: result.ratioToFloor <= TARGETS.maxRatioToFloor,
      firestoreRpcsPerNotification: rpcsPerNotification <= TARGETS.maxRpcsPerNotification,
      firstNotification: m.pipeline.firstNotificationMs !== null && m.pipeline.firstNotificationMs <= TARGETS.maxFirstNotificationMs,
      fanoutMemoryFlat: growth <= TARGETS.maxRssGrowth,
      exactlyOnce: m.pipeline.duplicates === 0 && m.pipeline.missing === 0 && m.tenth.ok && (!m.latency || (m.latency.duplicates === 0 && m.latency.missing === 0)),
    },
  };
}

function cpuLine(c: CpuSeconds): string {
  return Object.entries(c)
    .filter(([, v]) => v >= 0.05)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
}

/** The human-readable table (no colours: it goes into docs/performance.md as is). */
export function formatTable(r: BenchResult): string {
  const n = (v: number): string => v.toLocaleString('en-US');
  const s = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
  const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
  const rows: [string, string, string][] = [
    ['pipeline, publish to last notification', s(r.pipelineMs), ''],
    ['  first notification after publish', s(r.firstNotificationMs), `<= ${s(TARGETS.maxFirstNotificationMs)}: ${mark(r.targets.firstNotification)}`],
    ['    its storage floor (first chunk claimed)', s(r.floorFirstClaimMs), ''],
    ['    at N/10', s(r.tenthFirstNotificationMs), ''],
    ['  notifications/s', n(r.notificationsPerSecond), ''],
    ['  latency p50 / p95', `${s(r.p50LatencyMs)} / ${s(r.p95LatencyMs)}`, ''],
    ['  duplicates / missing', `${r.duplicates} / ${r.missing}`, `0 / 0: ${mark(r.targets.exactlyOnce)}`],
    ['naive baseline (one process, sequential)', s(r.naiveMs), ''],
    ['storage floor (same Firestore work, direct)', s(r.floorMs), ''],
    ['speedup vs naive (loopback)', `${r.loopbackSpeedupVsNaive}x`, ''],
    ['ratio to floor', `${r.ratioToFloor}x`, `<= ${TARGETS.maxRatioToFloor}x: ${mark(r.targets.ratioToFloor)}`],
    ['Firestore RPCs per notification', String(r.firestoreRpcsPerNotification), `<= ${TARGETS.maxRpcsPerNotification}: ${mark(r.targets.firestoreRpcsPerNotification)}`],
    ['  (naive baseline)', String(r.naiveRpcsPerNotification), ''],
    ['fan-out peak RSS at N / at N/10', `${r.fanoutPeakRssMb} / ${r.fanoutPeakRssMbTenth} MiB`, `<= ${TARGETS.maxRssGrowth}x: ${mark(r.targets.fanoutMemoryFlat)} (${r.fanoutRssGrowth}x)`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const rpcs = Object.entries(r.firestoreRpcs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
  return [
    `Restock bench: ${n(r.subscribers)} subscribers, sink latency ${r.sinkLatencyMs} ms/request, load average ${r.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    ...rows.map(([k, v, t]) => `  ${k.padEnd(w0)}  ${v.padStart(w1)}  ${t}`.trimEnd()),
    `  pipeline Firestore RPCs: ${rpcs || 'none counted'}`,
    ...(['pipeline', 'naive', 'floor'] as const).map((phase) => `  CPU seconds, ${phase}: ${cpuLine(r.cpuSeconds[phase])}`),
    ...(r.outbox ? outboxLines(r.outbox) : []),
    ...latencyLines(r),
    ...(r.ranges ? rangesLines(r.ranges) : []),
  ].join('\n');
}

function outboxLines(o: OutboxBench): string[] {
  const ms = (v: number | null): string => (v === null ? '-' : `${v} ms`);
  return [
    `  outbox relay: ${o.rows.toLocaleString('en-US')} rows in ${(o.relayMs / 1000).toFixed(2)} s = ${o.relayRowsPerSecond.toLocaleString('en-US')} rows/s`,
    `  outbox commit to publish p50 / p95 (${o.updates} stock updates): ${ms(o.commitToPublishP50Ms)} / ${ms(o.commitToPublishP95Ms)}; stock update answer p50 / p95 ${ms(o.stockUpdateP50Ms)} / ${ms(o.stockUpdateP95Ms)}; ${o.publishedBySweep} left to the sweep`,
  ];
}

function latencyLines(r: BenchResult): string[] {
  const l = r.latency;
  if (!l) return ['  under latency: not run (--latency-subscribers 0); speedupVsNaive needs it'];
  const s = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
  return [
    `Under latency: ${l.subscribers.toLocaleString('en-US')} subscribers each, +${l.rttMs} ms per Firestore round trip (proxy), sink ${l.sinkLatencyMs} ms/request`,
    `  pipeline, publish to last notification  ${s(l.pipelineMs)}  (first notification after ${s(l.firstNotificationMs)}; duplicates / missing ${l.duplicates} / ${l.missing})`,
    `  naive baseline                          ${s(l.naiveMs)}`,
    `  speedupVsNaive                          ${r.speedupVsNaive}x  >= ${TARGETS.minSpeedupVsNaive}x: ${r.targets.speedupVsNaive ? 'ok' : 'MISSED'}`,
    `  CPU seconds, pipeline: ${cpuLine(l.cpuSeconds.pipeline)}`,
    `  CPU seconds, naive: ${cpuLine(l.cpuSeconds.naive)}`,
  ];
}

function rangesLines(g: RangesBench): string[] {
  const s = (ms: number | null): string => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
  const run = (label: string, p: RangesBench['single']): string =>
    `  ${label.padEnd(18)} ${s(p.pagingMs).padStart(9)}  (${p.tasks.toLocaleString('en-US')} tasks, ${p.pages} pages, first task after ${s(p.firstTaskMs)}; CPU s: ${cpuLine(p.cpu)})`;
  const perRange = g.split.perRange.map((r) => `${r.index}: ${r.recipients.toLocaleString('en-US')} from ${s(r.startMs)} for ${s(r.ms)}`).join(', ');
  return [
    `Key ranges: fan-out paging (publish to last delivery task created, delivery paused), ${g.subscribers.toLocaleString('en-US')} subscribers each`,
    run('K = 1', g.single),
    run(`K = ${g.split.ranges}`, g.split),
    `  speedup            ${`${g.speedup}x`.padStart(9)}  (K = ${g.split.ranges}; split planned after ${s(g.split.plannedMs)}; per range, subscribers from start for time: ${perRange || 'none'})`,
  ];
}
