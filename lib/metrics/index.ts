/**
 * The pipeline's metrics, one door. The domain records through
 * {@link MetricsRecorder} (no SDK needed: {@link NO_METRICS} in tests and the
 * simulation); a function process calls {@link startMetrics} once, when it
 * starts serving, which builds the OpenTelemetry meter provider and the
 * exporter RESTOCK_METRICS_EXPORTER chooses:
 *
 * - `cloud-monitoring` (production): `@google-cloud/opentelemetry-cloud-monitoring-exporter`,
 *   as `workload.googleapis.com/<instrument>` on a `generic_task` resource:
 *   job = the function, task_id = a UUID per process, location = the region
 *   the GCP resource detector reads from the metadata server;
 * - `file` (the local stack): `<RESTOCK_METRICS_DIR>/<function>.jsonl`, one
 *   snapshot a line, read back with {@link lastSnapshot} and {@link total};
 * - `none`: nothing is recorded.
 *
 * Why the export works the way it does on Cloud Run: `./otel.ts`.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { errorFields, log } from '../log.ts';
import { JsonLinesFileExporter } from './file-exporter.ts';
import { CLOUD_MONITORING_MIN_GAP_MS, resourceOf, startOtelMetrics, type PipelineMetrics } from './otel.ts';
import { lazyCloudMonitoringExporter, detectGcpResource } from './cloud-monitoring.ts';
import { NO_METRICS, type MetricsRecorder } from './recorder.ts';

export { NO_METRICS, notificationCounts, queueLagMs, type FanoutEnd, type MetricsRecorder, type NotificationOutcome, type OrderRecorded, type TaskKind } from './recorder.ts';
export { lastSnapshot, total, type MetricPoint, type MetricSnapshot } from './snapshot.ts';
export { INSTRUMENT_SPECS, INSTRUMENTS, FLUSH_TIMEOUT_MS, type InstrumentSpec } from './otel.ts';

let started: PipelineMetrics | undefined;

/**
 * Starts this process's metrics for `service` (the function's name) with the
 * exporter the configuration chooses, once; later calls return the first.
 * Never throws for an exporter that cannot reach its backend: failures are
 * logged when exports run, and the process serves on.
 */
export function startMetrics(config: Pick<Config, 'metricsExporter' | 'metricsDir' | 'metricsExportIntervalMs' | 'projectId'>, service: string): MetricsRecorder {
  if (started) return started.recorder;
  if (config.metricsExporter === 'none') return NO_METRICS;
  const onFailure = (error: Error | undefined): void => log.warn('metrics export failed', { service, exporter: config.metricsExporter, err: errorFields(error) });
  started =
    config.metricsExporter === 'file'
      ? startOtelMetrics({
          exporter: new JsonLinesFileExporter(config.metricsDir, service),
          resource: resourceOf({ 'service.name': service }),
          exportIntervalMs: config.metricsExportIntervalMs,
          minGapMs: 0,
          onFailure,
        })
      : startOtelMetrics({
          exporter: lazyCloudMonitoringExporter(config.projectId),
          // One series per process: two instances writing one cumulative series would overwrite each other's totals.
          resource: resourceOf({ 'service.name': service, 'service.namespace': 'restock-fanout', 'service.instance.id': randomUUID() }).merge(detectGcpResource()),
          exportIntervalMs: config.metricsExportIntervalMs,
          minGapMs: CLOUD_MONITORING_MIN_GAP_MS,
          onFailure,
        });
  flushOnSigterm();
  return started.recorder;
}

/** The recorder of this process: what {@link startMetrics} started, else {@link NO_METRICS}. */
export function metrics(): MetricsRecorder {
  return started?.recorder ?? NO_METRICS;
}

/** Exports when an interval has passed since the last export (see `./otel.ts`); bounded; never throws. */
export async function flushMetricsIfDue(): Promise<void> {
  await started?.flushIfDue();
}

/** Exports what is left and stops recording; bounded; never throws. */
export async function shutdownMetrics(): Promise<void> {
  const s = started;
  started = undefined;
  await s?.shutdown();
}

/** Where a process serving `service` writes its snapshots with the `file` exporter. */
export function metricsFile(dir: string, service: string): string {
  return join(dir, `${service}.jsonl`);
}

let sigtermHooked = false;

/**
 * On SIGTERM (Cloud Run stopping the instance; the local stack stopping), the
 * last points are exported before the process exits. functions-framework's own
 * handler exits at once, so it is held back until the flush is done (bounded
 * by FLUSH_TIMEOUT_MS); it is installed after ours, hence looked up when the signal comes.
 */
function flushOnSigterm(): void {
  if (sigtermHooked) return;
  sigtermHooked = true;
  const onSigterm = (): void => {
    const others = process.listeners('SIGTERM').filter((l) => l !== onSigterm);
    for (const l of others) process.off('SIGTERM', l);
    void shutdownMetrics().finally(() => {
      if (others.length === 0) process.exit(143);
      for (const l of others) (l as (signal: NodeJS.Signals) => void)('SIGTERM');
    });
  };
  process.prependListener('SIGTERM', onSigterm);
}
