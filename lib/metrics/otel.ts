/**
 * The {@link MetricsRecorder} on OpenTelemetry instruments, and the one meter
 * provider of a process with the exporter RESTOCK_METRICS_EXPORTER chooses.
 *
 * Export on Cloud Run functions (the deploy target). Cloud Run's guidance is
 * that with request-based billing (the default of gen2 functions) an
 * instance's CPU is cut off or severely throttled once a response is sent, so
 * work scheduled in the background — such as the SDK's periodic export — may
 * stall until the next request arrives. Google's recommended route for OTLP
 * on Cloud Run is a collector sidecar, which gen2 functions cannot declare.
 * So this process exports itself, in three ways at once:
 *
 * 1. the periodic reader (RESTOCK_METRICS_EXPORT_INTERVAL_MS, default 60 s),
 *    which runs whenever the instance has CPU;
 * 2. {@link PipelineMetrics.flushIfDue}, which each function awaits at the end
 *    of a request, before answering, when an interval has passed since the
 *    last export: the export then runs while the CPU is certainly allocated.
 *    It is bounded ({@link FLUSH_TIMEOUT_MS}) and never throws, so an exporter
 *    failure costs a request at most that wait, never its answer;
 * 3. a flush when the instance is told to stop (SIGTERM), before the
 *    functions-framework's own handler exits the process.
 *
 * Cloud Monitoring refuses points of one time series written less than 5 s
 * apart, so exports closer together than that are skipped (the counters are
 * cumulative: a skipped export loses no count, only resolution). Flushing on
 * every request instead would hit that limit on any busy instance.
 */
import { metrics as otelMetrics, ValueType, type Attributes, type Counter, type Histogram } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { FanoutEnd, MetricsRecorder, NotificationOutcome, OrderRecorded, TaskKind } from './recorder.ts';

/** Longest a request waits on a due export before answering anyway. */
export const FLUSH_TIMEOUT_MS = 2_000;

/** Cloud Monitoring's smallest gap between two points of one time series. */
export const CLOUD_MONITORING_MIN_GAP_MS = 5_000;

/** Millisecond buckets shared by every latency histogram: 5 ms to 10 min. */
const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000];

/** What one instrument is: the contract of docs/metrics.md and of terraform/metrics.tf's descriptors. */
export interface InstrumentSpec {
  /** Cloud Monitoring: `workload.googleapis.com/<name>`. */
  name: string;
  /** A counter of whole numbers, or a histogram of milliseconds (a Cloud Monitoring distribution). */
  kind: 'counter' | 'histogram';
  description: string;
  /** The labels its points carry, in the order Terraform declares them. */
  labels: readonly string[];
}

/**
 * The instruments, one table: the recorder creates each from its entry, and
 * terraform/metrics.tf must declare each descriptor with the same
 * description, kind and labels (test/unit/terraform/policies.test.ts), as the
 * exporter's own descriptor creation finds them equal or fails.
 */
export const INSTRUMENT_SPECS = {
  notifications: { name: 'restock.notifications', kind: 'counter', description: 'Notifications by channel and outcome of the attempt (sent, rejected, retried, exhausted).', labels: ['channel', 'outcome'] },
  chunkDuration: { name: 'restock.chunk.duration', kind: 'histogram', description: 'One attempt at a delivery chunk: claim, send, record.', labels: ['settled'] },
  fanoutDuration: { name: 'restock.fanout.duration', kind: 'histogram', description: 'A fan-out from its first claim to its end, continuations included.', labels: ['outcome'] },
  events: { name: 'restock.events', kind: 'counter', description: 'Requests to the fan-out function by outcome (completed, continued, ignored, duplicate, rejected, failed, not-found).', labels: ['outcome'] },
  queueLag: { name: 'restock.queue.lag', kind: 'histogram', description: 'Cloud Tasks dispatch time minus the task schedule time (X-CloudTasks-TaskETA).', labels: ['task'] },
  outboxLag: { name: 'restock.outbox.lag', kind: 'histogram', description: 'Outbox: stock change committed to event published.', labels: ['path'] },
  clicks: { name: 'restock.clicks', kind: 'counter', description: "Shoppers' first clicks on a notification's tracked link, by channel.", labels: ['channel'] },
  conversions: { name: 'restock.conversions', kind: 'counter', description: 'Orders the storefront reported, by attribution (direct, assisted, unattributed) and the channel credited (none).', labels: ['attribution', 'channel'] },
  // Minor units per currency: summing two currencies means nothing, so a chart groups by it.
  revenue: { name: 'restock.revenue', kind: 'counter', description: "Reported orders' value in each currency's minor units (cents, yen), by currency and attribution.", labels: ['currency', 'attribution'] },
} as const satisfies Record<string, InstrumentSpec>;

type Instrument = keyof typeof INSTRUMENT_SPECS;

/** Instrument names by key, as readers of the exported snapshots ask for them. */
export const INSTRUMENTS = Object.fromEntries(Object.entries(INSTRUMENT_SPECS).map(([key, spec]) => [key, spec.name])) as { readonly [K in Instrument]: (typeof INSTRUMENT_SPECS)[K]['name'] };

/** Reports an export that failed; the request that triggered it goes on. */
export type ExportFailureHandler = (error: Error | undefined) => void;

/** Instruments of one meter, recording what {@link MetricsRecorder} is told. */
class OtelRecorder implements MetricsRecorder {
  private readonly counters: { readonly [K in Instrument as (typeof INSTRUMENT_SPECS)[K]['kind'] extends 'counter' ? K : never]: Counter };
  private readonly histograms: { readonly [K in Instrument as (typeof INSTRUMENT_SPECS)[K]['kind'] extends 'histogram' ? K : never]: Histogram };

  constructor(provider: MeterProvider) {
    const meter = provider.getMeter('restock-fanout');
    const counter = (k: keyof OtelRecorder['counters']) => meter.createCounter(INSTRUMENT_SPECS[k].name, { description: INSTRUMENT_SPECS[k].description, unit: '1', valueType: ValueType.INT });
    const latency = (k: keyof OtelRecorder['histograms']) =>
      meter.createHistogram(INSTRUMENT_SPECS[k].name, { description: INSTRUMENT_SPECS[k].description, unit: 'ms', advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS } });
    this.counters = { notifications: counter('notifications'), events: counter('events'), clicks: counter('clicks'), conversions: counter('conversions'), revenue: counter('revenue') };
    this.histograms = { chunkDuration: latency('chunkDuration'), fanoutDuration: latency('fanoutDuration'), queueLag: latency('queueLag'), outboxLag: latency('outboxLag') };
  }

  notifications(channel: string, outcome: NotificationOutcome, count: number): void {
    this.safely(() => this.counters.notifications.add(count, { channel, outcome }));
  }
  chunkDelivered(durationMs: number, settled: boolean): void {
    this.safely(() => this.histograms.chunkDuration.record(durationMs, { settled: String(settled) }));
  }
  fanoutEnded(durationMs: number, end: FanoutEnd): void {
    this.safely(() => this.histograms.fanoutDuration.record(durationMs, { outcome: end }));
  }
  eventHandled(outcome: string): void {
    this.safely(() => this.counters.events.add(1, { outcome }));
  }
  queueLag(lagMs: number, task: TaskKind): void {
    this.safely(() => this.histograms.queueLag.record(lagMs, { task }));
  }
  outboxPublished(lagMs: number, path: 'fast-path' | 'sweep'): void {
    this.safely(() => this.histograms.outboxLag.record(lagMs, { path }));
  }
  clickRecorded(channel: string): void {
    this.safely(() => this.counters.clicks.add(1, { channel }));
  }
  orderRecorded(o: OrderRecorded): void {
    this.safely(() => {
      this.counters.conversions.add(1, { attribution: o.attribution, channel: o.channel ?? 'none' });
      this.counters.revenue.add(o.valueMinor, { currency: o.currency, attribution: o.attribution });
    });
  }

  /** Recording is in-memory and should not fail; if it ever does, the work it measures must not. */
  private safely(record: () => void): void {
    try {
      record();
    } catch {
      // Nothing to do: a lost data point is not worth a failed notification.
    }
  }
}

/**
 * Wraps an exporter so that it never throws into the reader, reports
 * failures, and skips exports closer than `minGapMs` to the previous one.
 */
export class GuardedExporter implements PushMetricExporter {
  private lastExportMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly minGapMs: number,
    private readonly onFailure: ExportFailureHandler,
    private readonly now: () => number = Date.now,
  ) {}

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    const nowMs = this.now();
    if (nowMs - this.lastExportMs < this.minGapMs) {
      done({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.lastExportMs = nowMs;
    const finish = (result: ExportResult): void => {
      if (result.code !== ExportResultCode.SUCCESS) this.onFailure(result.error);
      done(result);
    };
    try {
      this.inner.export(metrics, finish);
    } catch (err) {
      finish({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  async forceFlush(): Promise<void> {
    await this.inner.forceFlush().catch((err: unknown) => this.onFailure(err as Error));
  }

  async shutdown(): Promise<void> {
    await this.inner.shutdown().catch((err: unknown) => this.onFailure(err as Error));
  }
}

/** A process's metrics: the recorder the domain is given, and the export controls the functions call. */
export interface PipelineMetrics {
  recorder: MetricsRecorder;
  /** Exports now when an interval has passed since the last export; waits at most {@link FLUSH_TIMEOUT_MS}; never throws. */
  flushIfDue(): Promise<void>;
  /** Exports what is left and stops; never throws. */
  shutdown(): Promise<void>;
}

export interface OtelOptions {
  exporter: PushMetricExporter;
  /** Labels of the process (service name, instance), for the resource. */
  resource: Resource;
  exportIntervalMs: number;
  minGapMs: number;
  onFailure: ExportFailureHandler;
  now?: () => number;
}

/** Starts a meter provider that exports through `exporter`. */
export function startOtelMetrics(o: OtelOptions): PipelineMetrics {
  const now = o.now ?? Date.now;
  const reader = new PeriodicExportingMetricReader({
    exporter: new GuardedExporter(o.exporter, o.minGapMs, o.onFailure, now),
    exportIntervalMillis: o.exportIntervalMs,
    exportTimeoutMillis: Math.min(o.exportIntervalMs, 30_000),
  });
  const provider = new MeterProvider({ resource: o.resource, readers: [reader] });
  otelMetrics.setGlobalMeterProvider(provider);
  let lastFlushMs = now();
  const bounded = async (work: () => Promise<void>): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, FLUSH_TIMEOUT_MS);
      timer.unref();
    });
    try {
      await Promise.race([work().catch((err: unknown) => o.onFailure(err as Error)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    recorder: new OtelRecorder(provider),
    async flushIfDue() {
      if (now() - lastFlushMs < o.exportIntervalMs) return;
      lastFlushMs = now();
      await bounded(() => reader.forceFlush());
    },
    shutdown: () => bounded(() => provider.shutdown()),
  };
}

/** Labels for the resource of a process: what Cloud Monitoring needs to keep instances apart. */
export function resourceOf(attributes: Attributes): Resource {
  return new Resource(attributes);
}
