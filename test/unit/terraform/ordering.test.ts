/**
 * What a first apply on a fresh project relies on: the order Terraform
 * creates things in, read from the dependency graph of terraform/ (every
 * *.tf file, whoever adds it).
 */
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, test } from 'vitest';
import type { ParsedFile } from './check.ts';
import { dependencyGraph, dependsOn } from './graph.ts';
import { loadTerraform, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

const APIS = 'google_project_service.enabled';

/** Google resources and data sources created or read before the APIs they call are enabled. */
function racingTheApis(files: ParsedFile[]): string[] {
  const graph = dependencyGraph(files);
  return [...graph.keys()].filter((address) => /^(data\.)?google_/.test(address) && address !== APIS && !dependsOn(graph, address, APIS)).sort();
}

describe('a first apply on a fresh project', () => {
  test('every Google resource and data source (service accounts and all that hangs off them included) waits for the APIs to be enabled', () => {
    const graph = dependencyGraph(tf.files);
    expect(graph.size).toBeGreaterThan(30);
    expect(racingTheApis(tf.files)).toEqual([]);
  });

  test('a resource that races the APIs is found (checked on a broken copy: the build account without its depends_on)', async () => {
    // Prepare
    const iam = tf.files.find((f) => f.path === 'terraform/iam.tf')!;
    const text = iam.text.replace(/(description\s+=\s+"Runs Cloud Build for the restock functions."\n)\n\s+depends_on = \[google_project_service\.enabled\]\n/, '$1');
    expect(text).not.toBe(iam.text);
    const json = await parse(iam.path, text);
    const broken: ParsedFile[] = tf.files.map((f) => (f === iam ? { path: f.path, json } : f));
    // Act
    const racing = racingTheApis(broken);
    // Assess
    expect(racing).toContain('google_service_account.build');
    expect(racing).toContain('google_project_iam_member.build_log_writer');
  });

  test('the push subscription is created after the function, its own invoker binding, the dead-letter subscription and the token grant it pushes with', () => {
    const graph = dependencyGraph(tf.files);
    for (const before of [
      'google_cloudfunctions2_function.function',
      'google_cloud_run_v2_service_iam_binding.fanout_invokers',
      'google_pubsub_subscription.dead_letter',
      'google_pubsub_topic_iam_member.dead_letter_publisher',
      'google_service_account_iam_member.pubsub_signs_push_tokens',
    ]) {
      expect(dependsOn(graph, 'google_pubsub_subscription.fanout', before), before).toBe(true);
    }
  });

  test('the functions are created after the token has a version, the grants have propagated and the database exists', () => {
    const graph = dependencyGraph(tf.files);
    for (const before of [
      'google_secret_manager_secret_version.notifier_token',
      'google_secret_manager_secret_version.task_signing_key',
      'time_sleep.iam_propagation',
      'google_project_iam_member.function_firestore',
      'google_storage_bucket_iam_member.build_reads_source',
      'google_firestore_database.pipeline',
    ]) {
      expect(dependsOn(graph, 'google_cloudfunctions2_function.function', before), before).toBe(true);
    }
  });

  test('every alert on a log-based metric is created after the wait that lets Cloud Monitoring learn the metric', () => {
    const graph = dependencyGraph(tf.files);
    const alerts = [...graph.keys()].filter((a) => a.startsWith('google_monitoring_alert_policy.'));
    const onLogMetrics = alerts.filter((a) => [...(graph.get(a) ?? [])].some((d) => d.startsWith('google_logging_metric.')));
    expect(onLogMetrics.length).toBeGreaterThanOrEqual(2);
    for (const alert of onLogMetrics) expect(dependsOn(graph, alert, 'time_sleep.log_metrics_known'), alert).toBe(true);
    for (const metric of [...graph.keys()].filter((a) => a.startsWith('google_logging_metric.'))) {
      expect(dependsOn(graph, 'time_sleep.log_metrics_known', metric), metric).toBe(true);
    }
  });

  test('alerts and the dashboard on the pipeline\'s own metrics are created after their descriptors are known (a metric type never written yet is refused with 404)', () => {
    const graph = dependencyGraph(tf.files);
    expect(dependsOn(graph, 'time_sleep.log_metrics_known', 'google_monitoring_metric_descriptor.pipeline')).toBe(true);
    expect(dependsOn(graph, 'google_monitoring_alert_policy.failed_fanouts', 'time_sleep.log_metrics_known')).toBe(true);
    expect(dependsOn(graph, 'google_monitoring_dashboard.pipeline', 'google_monitoring_metric_descriptor.pipeline')).toBe(true);
  });
});
