/**
 * Cost and shape (issue 30 items 9-13): queues that never outrun their
 * target, a lease no shorter than the work it guards, a ledger that indexes
 * only what its queries read, storage that does not grow forever, and one
 * table per concern (functions, sizing, names) so staging and production can
 * share a project.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { variableValue } from '../../../sim/production/hcl-expression.ts';
import { block, loadTerraform, resource, resourcesOf, type Hcl, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

type Sizing = Record<string, { memory: string; cpu: number | null; concurrency: number; timeout_seconds: number; min_instances: number; max_instances: number; ingress: string }>;
const sizing = (given?: unknown) => variableValue(tf.variable.function_config, given) as unknown as Sizing;

describe('queues and their targets', () => {
  test('issue 30 item 9: the continuation queue\u2019s concurrent dispatches are derived from fanOutRestock\u2019s instances x concurrency, leaving room for Pub/Sub pushes', () => {
    const limits = block(resource(tf, 'google_cloud_tasks_queue', 'continuations').rate_limits);
    expect(limits.max_concurrent_dispatches).toBe('${local.continuation_max_concurrent_dispatches}');
    expect(limits.max_dispatches_per_second).toBe('${var.continuation_queue_max_dispatches_per_second}');
    expect(tf.locals.fanout_capacity).toBe('${var.function_config.fanOutRestock.max_instances * var.function_config.fanOutRestock.concurrency}');
    expect(tf.locals.continuation_max_concurrent_dispatches).toBe('${max(1, floor(local.fanout_capacity * 3 / 4))}');
    const fanout = sizing().fanOutRestock!;
    const derived = Math.max(1, Math.floor((fanout.max_instances * fanout.concurrency * 3) / 4));
    expect(derived).toBeLessThan(fanout.max_instances * fanout.concurrency);
    // Still enough for the widest fan-out's key ranges.
    expect(derived).toBeGreaterThanOrEqual(Number(tf.variable.fanout_max_ranges.default));
  });

  test('issue 30 item 9: delivery\u2019s instances x concurrency must cover every delivery queue\u2019s concurrent dispatches (refused at plan otherwise)', () => {
    const validations = JSON.stringify(tf.variable.function_config.validation);
    expect(validations).toContain('var.function_config.deliverRestockBatch.max_instances * var.function_config.deliverRestockBatch.concurrency >= var.delivery_queue_count * var.queue_max_concurrent_dispatches');
  });

  test('issue 30 item 10: the delivery lease is never shorter than the delivery timeout (null takes the timeout; a shorter one is refused)', () => {
    expect(tf.locals.function_env.deliverRestockBatch.RESTOCK_DELIVERY_LEASE_MS).toBe('${tostring(local.delivery_lease_ms)}');
    expect(tf.locals.delivery_lease_ms).toBe('${coalesce(var.delivery_lease_ms, var.function_config.deliverRestockBatch.timeout_seconds * 1000)}');
    expect(tf.variable.delivery_lease_ms.default).toBeNull();
    expect(String(tf.variable.delivery_lease_ms.validation[0].condition)).toContain('var.delivery_lease_ms >= var.function_config.deliverRestockBatch.timeout_seconds * 1000');
  });
});

describe('what grows with every write or deploy', () => {
  test('issue 30 item 11: the ledger has a collection-wide single-field index exemption (field path "*"), its queries served by composite indexes (indexes.test.ts)', () => {
    const exemption = resourcesOf(tf, 'google_firestore_field').find(([, f]) => f.collection === 'deliveries' && f.field === '*');
    expect(exemption).toBeDefined();
    expect(block(exemption![1].index_config)).toEqual({});
    expect(exemption![1].database).toBe('${local.firestore_database}');
  });

  test('issue 30 item 12: old source archives expire from the source bucket and old images are cleaned from the image repository', () => {
    const bucket = resource(tf, 'google_storage_bucket', 'source');
    const rule = block(bucket.lifecycle_rule);
    expect(block(rule.condition).age).toBe('${var.source_retention_days}');
    expect(block(rule.action).type).toBe('Delete');
    const repository = resource(tf, 'google_artifact_registry_repository', 'functions');
    expect(repository.cleanup_policy_dry_run).toBe(false);
    const policies = ([] as Hcl[]).concat(repository.cleanup_policies);
    expect(policies.map((p) => p.action).sort()).toEqual(['DELETE', 'KEEP']);
    expect(block(policies.find((p) => p.action === 'KEEP').most_recent_versions).keep_count).toBe('${var.image_versions_kept}');
  });
});

describe('one table per concern (issue 30 item 13)', () => {
  test('the relay is one of local.functions: one function block, one account table, no repeated build or service config', () => {
    expect(Object.keys(tf.locals.functions)).toContain('relayOutbox');
    expect(resourcesOf(tf, 'google_cloudfunctions2_function').map(([n]) => n)).toEqual(['function']);
    expect(tf.resource.google_service_account?.outbox_relay).toBeUndefined();
    expect(tf.locals.functions.relayOutbox.account_id).toBe('restock-outbox-relay');
  });

  test('sizing is one object variable with optional() defaults per function, no per-function variables left', () => {
    const leftovers = Object.keys(tf.variable).filter((v) => /^(fanout|delivery|subscriptions|unsubscribe|outbox_relay)_(memory|timeout_seconds|max_instances|min_instances|ingress|concurrency|cpu)$/.test(v));
    expect(leftovers).toEqual([]);
    expect(String(tf.variable.function_config.type)).toMatch(/optional\(object\(\{/);
    expect(tf.variable.function_config.default).toEqual({});
    // A partial value keeps every other default, as Terraform's optional() does.
    const given = sizing({ deliverRestockBatch: { max_instances: 1000 } });
    expect(given.deliverRestockBatch!.max_instances).toBe(1000);
    expect(given.deliverRestockBatch!.timeout_seconds).toBe(300);
    expect(given.fanOutRestock).toEqual(sizing().fanOutRestock);
  });

  test('the relay\u2019s sizing and the continuation queue\u2019s rate are variables like the others', () => {
    expect(sizing().relayOutbox).toMatchObject({ max_instances: 1, timeout_seconds: 60, memory: '256Mi' });
    expect(tf.variable.continuation_queue_max_dispatches_per_second.default).toBe(50);
  });

  test('name_prefix goes before every name within the project, and the longest account id still fits 30 characters', () => {
    expect(tf.variable.name_prefix.default).toBe('');
    for (const [key, name] of Object.entries<string>(tf.locals.names)) {
      if (key === 'display') continue;
      expect(name, key).toContain('${var.name_prefix}');
    }
    const named: [string, Hcl][] = [
      ...resourcesOf(tf, 'google_service_account').map(([n, r]) => [`google_service_account.${n}.account_id`, r.account_id] as [string, Hcl]),
      ['google_cloudfunctions2_function.function.name', resource(tf, 'google_cloudfunctions2_function', 'function').name],
      ...resourcesOf(tf, 'google_pubsub_topic').map(([n, r]) => [`google_pubsub_topic.${n}.name`, r.name] as [string, Hcl]),
      ...resourcesOf(tf, 'google_pubsub_subscription').map(([n, r]) => [`google_pubsub_subscription.${n}.name`, r.name] as [string, Hcl]),
      ...resourcesOf(tf, 'google_cloud_tasks_queue').map(([n, r]) => [`google_cloud_tasks_queue.${n}.name`, r.name] as [string, Hcl]),
      ...resourcesOf(tf, 'google_secret_manager_secret').map(([n, r]) => [`google_secret_manager_secret.${n}.secret_id`, r.secret_id] as [string, Hcl]),
      ...resourcesOf(tf, 'google_logging_metric').map(([n, r]) => [`google_logging_metric.${n}.name`, r.name] as [string, Hcl]),
      ...resourcesOf(tf, 'google_monitoring_alert_policy').map(([n, r]) => [`google_monitoring_alert_policy.${n}.display_name`, r.display_name] as [string, Hcl]),
      ['google_firestore_database.pipeline.name', resource(tf, 'google_firestore_database', 'pipeline').name],
      ['google_storage_bucket.source.name', resource(tf, 'google_storage_bucket', 'source').name],
      ['google_artifact_registry_repository.functions.repository_id', resource(tf, 'google_artifact_registry_repository', 'functions').repository_id],
      ['google_cloud_scheduler_job.outbox_sweep.name', resource(tf, 'google_cloud_scheduler_job', 'outbox_sweep').name],
      ['google_project_iam_custom_role.fcm_sender.role_id', resource(tf, 'google_project_iam_custom_role', 'fcm_sender').role_id],
    ];
    const unprefixed = named.filter(([, value]) => !/var\.name_prefix|local\.names\./.test(String(value))).map(([where]) => where);
    expect(unprefixed).toEqual([]);
    const longestPrefix = 6;
    const accountIds = [
      ...Object.values<Hcl>(tf.locals.functions).map((f) => String(f.account_id)),
      ...resourcesOf(tf, 'google_service_account').map(([, r]) => String(r.account_id).replace('${var.name_prefix}', '')).filter((id) => !id.includes('${')),
    ];
    for (const id of accountIds) expect(id.length + longestPrefix, id).toBeLessThanOrEqual(30);
  });
});
