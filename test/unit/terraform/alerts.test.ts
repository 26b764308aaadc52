/**
 * Alerts Cloud Monitoring accepts and that can fire (issue 30 items 2 and 7),
 * and the alert on a service made public (issue 31 item 1).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { block, loadTerraform, resource, resourcesOf, type Hcl, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

/** Every condition of every alert policy, dynamic ones included, with the policy's name. */
function conditions(): { policy: string; condition: Hcl }[] {
  return resourcesOf(tf, 'google_monitoring_alert_policy').flatMap(([policy, p]) =>
    [...([] as Hcl[]).concat(p.conditions ?? []), ...([] as Hcl[]).concat(p.dynamic?.conditions ?? []).map((d) => block(d.content))].map((condition) => ({ policy, condition })),
  );
}

describe('alerts Cloud Monitoring accepts', () => {
  test('issue 30 item 2: every metric threshold or absence filter restricts the monitored resource type (MetricThreshold.filter must)', () => {
    const metricConditions = conditions().flatMap(({ policy, condition }) =>
      [condition.condition_threshold, condition.condition_absent].filter(Boolean).map((c) => ({ policy, filter: String(block(c).filter) })),
    );
    expect(metricConditions.length).toBeGreaterThanOrEqual(9);
    const withoutType = metricConditions.filter(({ filter }) => !/resource\.type\s*=/.test(filter)).map(({ policy }) => policy);
    expect(withoutType).toEqual([]);
  });

  test('the failed fan-outs alert reads the monitored resource the exporter writes on Cloud Run (generic_task, job = the function)', () => {
    const filter = String(block(block(resource(tf, 'google_monitoring_alert_policy', 'failed_fanouts').conditions).condition_threshold).filter);
    expect(filter).toContain('resource.type = "generic_task"');
    expect(filter).toContain('resource.labels.job = "fanOutRestock"');
  });
});

describe('alerts that can fire', () => {
  test('issue 30 item 7: log filters name a Cloud Run service by its short name, as log entries carry it, never by the full resource path', () => {
    const filters = [...resourcesOf(tf, 'google_logging_metric').map(([, m]) => String(m.filter)), String(tf.locals.outbox_sweep_filter)];
    for (const filter of filters) expect(filter).not.toMatch(/service_config\[0\]\.service/);
    expect(String(tf.locals.outbox_sweep_filter)).toContain('resource.labels.service_name=\\"${local.function_services["relayOutbox"]}\\"');
    // function_services is the last segment of the service's resource path.
    expect(String(tf.locals.function_services)).toContain('reverse(split("/", fn.service_config[0].service))[0]');
  });

  test('issue 30 item 7: a sweep that stopped reporting is alerted on by absence, after the log metric is known', () => {
    const alert = resource(tf, 'google_monitoring_alert_policy', 'outbox_sweep_missing');
    const absent = block(block(alert.conditions).condition_absent);
    expect(absent.filter).toContain('google_logging_metric.outbox_oldest_pending_age.name');
    expect(absent.duration).toBe('${var.alert_outbox_sweep_missing_seconds}s');
    expect(alert.depends_on).toContain('${time_sleep.log_metrics_known}');
    expect(alert.notification_channels).toBe('${var.notification_channels}');
  });

  test('issue 31 item 1: a SetIamPolicy granting allUsers or allAuthenticatedUsers, or a disabled invoker IAM check, on any Cloud Run service or function but the public one opens an incident', () => {
    const alert = resource(tf, 'google_monitoring_alert_policy', 'public_invoker');
    expect(block(block(alert.conditions).condition_matched_log).filter).toBe('(${local.public_invoker_filter})');
    const filter = String(tf.locals.public_invoker_filter);
    for (const part of ['cloudaudit.googleapis.com%2Factivity', 'run.googleapis.com', 'cloudfunctions.googleapis.com', 'SetIamPolicy', 'allUsers', 'allAuthenticatedUsers', 'invokerIamDisabled', 'run.googleapis.com/invoker-iam-disabled']) {
      expect(filter, part).toContain(part);
    }
    // The one public function on purpose is left out (Terraform's own grant of allUsers would fire it).
    expect(filter).toContain('-protoPayload.resourceName:\\"/services/${lower("${var.name_prefix}restockUnsubscribe")}\\"');
    // A log-match condition requires a notification rate limit.
    expect(block(block(alert.alert_strategy).notification_rate_limit).period).toBe('300s');
  });

  test('dead letters of the shopper actions are alerted on like the inventory events\u2019', () => {
    const policy = resource(tf, 'google_monitoring_alert_policy', 'dead_letters');
    const dynamic = block(policy.dynamic.conditions);
    expect(dynamic.for_each).toBe('${google_pubsub_subscription.shopper_actions_dead_letter}');
    expect(String(block(block(dynamic.content).condition_threshold).filter)).toContain('num_undelivered_messages');
  });
});
