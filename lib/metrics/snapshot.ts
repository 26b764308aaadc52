/**
 * Reading back what the file exporter wrote (`./file-exporter.ts`): the last
 * snapshot of a process, and the total of an instrument over the labels asked
 * for. Plain data, no SDK: the integration tests and `npm run demo` use it.
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
  metrics: Record<string, { unit: string; points: MetricPoint[] }>;
}

/** The last snapshot in a `.jsonl` file; undefined when the file is missing or empty. A torn last line is skipped. */
export async function lastSnapshot(file: string): Promise<MetricSnapshot | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const lines = text.split('\n').filter(Boolean);
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      return JSON.parse(lines[i]!) as MetricSnapshot;
    } catch {
      // A line being appended while we read; the one before it is whole.
    }
  }
  return undefined;
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
