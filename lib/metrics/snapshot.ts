/**
 * Reading back what the file exporter wrote (`./file-exporter.ts`): a
 * service's latest snapshot (the last of each of its processes, summed), and
 * the total of an instrument over the labels asked for. Plain data, no SDK:
 * the integration tests and `npm run demo` use it.
 */
import { readFile } from 'node:fs/promises';

/** One time series of an instrument: a counter's value, or a histogram's count, sum and buckets. */
export type MetricPoint =
  | { labels: Record<string, string>; value: number }
  | {
      labels: Record<string, string>;
      count: number;
      sum: number;
      min: number | null;
      max: number | null;
      boundaries: number[];
      bucketCounts: number[];
    };

/** Every instrument of one process at one moment, counted since the process started. */
export interface MetricSnapshot {
  timeMs: number;
  /** The function (or service) that wrote it. */
  service: string;
  /** The process of the service that wrote it; absent on a summed snapshot and on lines written before it was recorded. */
  instance?: string;
  metrics: Record<string, { unit: string; points: MetricPoint[] }>;
}

/**
 * The service's latest snapshot in a `.jsonl` file: the last line of each
 * process that wrote to it, summed ({@link sumSnapshots}); undefined when the
 * file is missing or empty. A torn line (one being appended) is skipped.
 */
export async function lastSnapshot(file: string): Promise<MetricSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const lastOf = new Map<string, MetricSnapshot>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const snapshot = JSON.parse(line) as MetricSnapshot;
      lastOf.set(snapshot.instance ?? '', snapshot);
    } catch {
      // A line being appended while we read: that process's line before it stands.
    }
  }
  return lastOf.size === 0 ? undefined : sumSnapshots([...lastOf.values()]);
}

/**
 * Several processes' snapshots as one (pure): counters summed, histograms'
 * counts, sums and buckets summed, per instrument and label set; the time is
 * the latest. What Cloud Monitoring shows when it sums a function's instances.
 */
export function sumSnapshots(snapshots: readonly MetricSnapshot[]): MetricSnapshot {
  const metrics: MetricSnapshot['metrics'] = {};
  for (const s of snapshots) {
    for (const [name, { unit, points }] of Object.entries(s.metrics)) {
      const into = metrics[name] ?? { unit, points: [] };
      metrics[name] = into;
      for (const p of points) {
        const key = JSON.stringify(Object.entries(p.labels).sort());
        const same = into.points.find((q) => JSON.stringify(Object.entries(q.labels).sort()) === key);
        if (!same) into.points.push(structuredClone(p));
        else if ('value' in same && 'value' in p) same.value += p.value;
        else if ('count' in same && 'count' in p) {
          same.count += p.count;
          same.sum += p.sum;
          same.min = same.min === null ? p.min : p.min === null ? same.min : Math.min(same.min, p.min);
          same.max = same.max === null ? p.max : p.max === null ? same.max : Math.max(same.max, p.max);
          same.bucketCounts = same.bucketCounts.map((n, i) => n + (p.bucketCounts[i] ?? 0));
        }
      }
    }
  }
  return { timeMs: Math.max(...snapshots.map((s) => s.timeMs)), service: snapshots[0]!.service, metrics };
}

/**
 * The sum of a counter's values (or a histogram's counts) over the points whose
 * labels include every label in `where`. 0 when the instrument has no such point. Pure.
 */
export function total(snapshot: MetricSnapshot | undefined, instrument: string, where: Record<string, string> = {}): number {
  const points = snapshot?.metrics[instrument]?.points ?? [];
  return points
    .filter((p) => Object.entries(where).every(([k, v]) => p.labels[k] === v))
    .reduce((sum, p) => sum + ('value' in p ? p.value : p.count), 0);
}
