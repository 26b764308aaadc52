/**
 * The production exporter: Google's `@google-cloud/opentelemetry-cloud-monitoring-exporter`,
 * writing `workload.googleapis.com/<instrument>` time series with the
 * function's service account (roles/monitoring.metricWriter, terraform/iam.tf).
 *
 * It is loaded on the first export, not at start: it pulls in `googleapis`,
 * which costs a cold start far more than anything else here, and the local
 * stack never needs it.
 */
import { gcpDetector } from '@opentelemetry/resource-detector-gcp';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { detectResourcesSync, type Resource } from '@opentelemetry/resources';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * What the GCP detector reads from the metadata server (project, zone or
 * region), which becomes the location of the series. Its attributes arrive
 * asynchronously; the reader waits for them before the first export.
 */
export function detectGcpResource(): Resource {
  return detectResourcesSync({ detectors: [gcpDetector] });
}

/** An exporter to Cloud Monitoring for `projectId`, imported when first used. */
export function lazyCloudMonitoringExporter(projectId: string): PushMetricExporter {
  let inner: Promise<PushMetricExporter> | undefined;
  const load = (): Promise<PushMetricExporter> =>
    (inner ??= import('@google-cloud/opentelemetry-cloud-monitoring-exporter').then(({ MetricExporter }) => new MetricExporter({ projectId })));
  return {
    export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
      load().then(
        (exporter) => exporter.export(metrics, done),
        (error: Error) => {
          inner = undefined;
          done({ code: ExportResultCode.FAILED, error });
        },
      );
    },
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    forceFlush: async () => (inner ? (await inner).forceFlush() : undefined),
    shutdown: async () => (inner ? (await inner).shutdown() : undefined),
  };
}
