/**
 * The local exporter: each export appends one line to `<dir>/<service>.jsonl`,
 * a snapshot of every instrument as the process has counted it since it
 * started (cumulative temporality), marked with the process (`instance`), so
 * each process's last line is its total. Several processes serve one function
 * (the subscription API runs one per core, as Cloud Run runs instances), and
 * `./snapshot.ts` sums their last lines, as Cloud Monitoring sums instances.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { MetricPoint, MetricSnapshot } from './snapshot.ts';

/** Appends one JSON snapshot a line; never throws into the SDK (a failed write is a failed export). */
export class JsonLinesFileExporter implements PushMetricExporter {
  readonly file: string;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly service: string,
    /** Which process of the service writes: its pid is unique among the live processes of one machine. */
    private readonly instance: string = String(process.pid),
  ) {
    this.file = join(dir, `${service}.jsonl`);
  }

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    const snapshot = { ...toSnapshot(this.service, metrics, Date.now()), instance: this.instance };
    // A process that has recorded nothing yet (the subscription API never does) writes nothing.
    if (Object.keys(snapshot.metrics).length === 0) {
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    const line = `${JSON.stringify(snapshot)}\n`;
    // Writes in order, one after the other: two overlapping appends could interleave their bytes.
    this.pending = this.pending
      .then(() => mkdir(this.dir, { recursive: true }))
      .then(() => appendFile(this.file, line))
      .then(
        () => done({ code: ExportResultCode.SUCCESS }),
        (error: Error) => done({ code: ExportResultCode.FAILED, error }),
      );
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  forceFlush(): Promise<void> {
    return this.pending;
  }

  shutdown(): Promise<void> {
    return this.pending;
  }
}

/** The SDK's export batch as plain data: instrument name → points with their labels. */
export function toSnapshot(service: string, resourceMetrics: ResourceMetrics, timeMs: number): MetricSnapshot {
  const metrics: MetricSnapshot['metrics'] = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      const points: MetricPoint[] = metric.dataPoints.map((p) => {
        const labels = Object.fromEntries(Object.entries(p.attributes).map(([k, v]) => [k, String(v)]));
        if (metric.dataPointType === DataPointType.HISTOGRAM) {
          const h = p.value as { count: number; sum?: number; min?: number; max?: number; buckets: { boundaries: number[]; counts: number[] } };
          return { labels, count: h.count, sum: h.sum ?? 0, min: h.min ?? null, max: h.max ?? null, boundaries: h.buckets.boundaries, bucketCounts: h.buckets.counts };
        }
        return { labels, value: p.value as number };
      });
      metrics[metric.descriptor.name] = { unit: metric.descriptor.unit, points };
    }
  }
  return { timeMs, service, metrics };
}
