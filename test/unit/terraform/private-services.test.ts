/**
 * Deny by default, Terraform's side of issue 31: the private services stay
 * private (authoritative invokers, a check, signed task bodies), the public
 * unsubscribe function can only record a request, the relay takes internal
 * traffic only, and the Spanner relay cannot run DDL.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { block, loadTerraform, resource, resourcesOf, type Hcl, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

/** The `check` blocks of every file, by name. */
function checks(): Record<string, Hcl> {
  return Object.assign({}, ...tf.files.map((f) => Object.fromEntries(Object.entries<Hcl>(f.json.check ?? {}).map(([name, body]) => [name, block(body)]))));
}

describe('issue 31 item 1: the private services stay private', () => {
  test('every private function\u2019s invokers are one authoritative binding (google_cloud_run_v2_service_iam_binding), none additive', () => {
    const additive = resourcesOf(tf, 'google_cloud_run_v2_service_iam_member').map(([name, r]) => `${name}:${r.member}`);
    // The public function alone keeps an additive grant, of allUsers.
    expect(additive).toEqual(['unsubscribe_public:allUsers']);
    const bound = new Set<string>();
    for (const [name, binding] of resourcesOf(tf, 'google_cloud_run_v2_service_iam_binding')) {
      expect(binding.role, name).toBe('roles/run.invoker');
      const target = /function_services\["(\w+)"\]/.exec(String(binding.name))?.[1];
      if (target) bound.add(target);
      else {
        expect(binding.name, name).toBe('${local.function_services[each.key]}');
        expect(String(binding.for_each), name).toContain('setsubtract(local.private_functions, ["fanOutRestock", "applyShopperActions"])');
        for (const other of ['deliverRestockBatch', 'restockSubscriptions', 'relayOutbox']) bound.add(other);
      }
    }
    expect([...bound].sort()).toEqual(Object.keys(tf.locals.functions).filter((f) => f !== 'restockUnsubscribe').sort());
    expect(tf.locals.private_functions).toBe('${setsubtract(keys(local.deployed_functions), ["restockUnsubscribe"])}');
  });

  test('the additive invoker grants of earlier versions are forgotten, not destroyed (a destroyed member would race the binding that keeps it)', () => {
    const removed = tf.files.flatMap((f) => ((f.json.removed ?? []) as Hcl[]).map((r) => ({ from: String(r.from), destroy: block(block(r.lifecycle).destroy) })));
    expect(removed).toEqual(
      expect.arrayContaining([
        { from: '${google_cloud_run_v2_service_iam_member.invoker}', destroy: false },
        { from: '${google_cloud_run_v2_service_iam_member.outbox_scheduler_invokes_relay}', destroy: false },
      ]),
    );
  });

  test('a check warns on every plan when a private service has a public member or its invoker IAM check disabled', () => {
    const check = checks().private_services_stay_private;
    expect(check).toBeDefined();
    const asserts = ([] as Hcl[]).concat(check.assert).map((a) => String(a.condition));
    expect(asserts.some((c) => c.includes('data.google_cloud_run_v2_service_iam_policy.private') && c.includes('allUsers|allAuthenticatedUsers'))).toBe(true);
    expect(asserts.some((c) => c.includes('data.google_cloud_run_v2_service.private') && c.includes('invoker_iam_disabled'))).toBe(true);
    for (const type of ['google_cloud_run_v2_service_iam_policy', 'google_cloud_run_v2_service']) {
      expect(tf.data[type]?.private?.for_each, type).toBe('${local.private_functions}');
    }
  });

  test('task bodies are signed: a task-signing-key secret (name_prefix, like the others) written from an ephemeral variable, mounted as RESTOCK_TASK_SIGNING_KEYS into fan-out and delivery only', () => {
    expect(resource(tf, 'google_secret_manager_secret', 'task_signing_key').secret_id).toBe('${local.names.task_signing_key_secret}');
    expect(tf.locals.names.task_signing_key_secret).toBe('${var.name_prefix}${var.task_signing_key_secret_id}');
    expect(resource(tf, 'google_secret_manager_secret_version', 'task_signing_key')).toMatchObject({
      secret_data_wo: '${var.task_signing_keys}',
      secret_data_wo_version: '${var.task_signing_key_version}',
    });
    const readers = Object.entries<Record<string, string>>(tf.locals.function_secret_env)
      .filter(([, env]) => 'RESTOCK_TASK_SIGNING_KEYS' in env)
      .map(([name]) => name);
    expect(readers.sort()).toEqual(['deliverRestockBatch', 'fanOutRestock']);
    expect(resource(tf, 'google_secret_manager_secret_iam_member', 'task_signing_key_readers').for_each).toBe('${toset(["fanOutRestock", "deliverRestockBatch"])}');
    const keys = tf.variable.task_signing_keys;
    expect([keys.ephemeral, keys.sensitive, keys.nullable, keys.default]).toEqual([true, true, false, undefined]);
    expect(String(keys.validation[0].condition)).toBe('${alltrue([for key in split(",", var.task_signing_keys) : length(key) >= 32])}');
    expect(String(keys.description)).toContain('openssl rand -base64 48');
  });
});

describe('issue 31 item 8: the public function can only record an unsubscribe request', () => {
  test('restockUnsubscribe holds no Firestore role; applyShopperActions, private, applies the request with datastore.user on the pipeline database', () => {
    expect(tf.locals.functions.restockUnsubscribe.pipeline_database).toBe(false);
    expect(tf.locals.functions.applyShopperActions).toMatchObject({ pipeline_database: true, deployed: '${local.sends_links}' });
    expect(resource(tf, 'google_project_iam_member', 'function_firestore').for_each).toBe('${{ for name, fn in local.deployed_functions : name => fn if fn.pipeline_database }}');
    // No other grant anywhere gives the public function's account a role but reading its key and publishing one topic.
    const grants = Object.entries(tf.resource).flatMap(([type, byName]) =>
      Object.entries<Hcl>(byName)
        .filter(([, r]) => JSON.stringify(r).includes('restockUnsubscribe'))
        .filter(([, r]) => r.role !== undefined)
        .map(([name, r]) => `${type}.${name}:${r.role}`),
    );
    expect(grants.sort()).toEqual([
      'google_cloud_run_v2_service_iam_member.unsubscribe_public:roles/run.invoker',
      'google_pubsub_topic_iam_member.unsubscribe_publishes_shopper_actions:roles/pubsub.publisher',
      'google_secret_manager_secret_iam_member.unsubscribe_key_readers:roles/secretmanager.secretAccessor',
    ]);
    expect(resource(tf, 'google_pubsub_topic_iam_member', 'unsubscribe_publishes_shopper_actions').topic).toBe('${google_pubsub_topic.shopper_actions[0].id}');
  });

  test('restockUnsubscribe is told the topic\u2019s short name, and its concurrency and instances are bounded variables', () => {
    expect(tf.locals.function_env.restockUnsubscribe).toEqual({
      RESTOCK_SHOPPER_ACTIONS_TOPIC: '${local.names.shopper_actions_topic}',
      RESTOCK_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS: '${tostring(var.unsubscribe_link_max_age_days)}',
      RESTOCK_CONFIRMATION_TTL_HOURS: '${tostring(var.confirmation_ttl_hours)}',
      RESTOCK_CLICK_TRACKING: '${tostring(var.click_tracking)}',
      RESTOCK_CLICK_TOKEN_MAX_AGE_DAYS: '${tostring(var.click_link_max_age_days)}',
      RESTOCK_CLICK_PREFETCH_SECONDS: '${tostring(var.click_prefetch_seconds)}',
      RESTOCK_CLICK_UTM_SOURCE: '${var.click_utm_source}',
    });
    expect(tf.locals.names.shopper_actions_topic).toBe('${var.name_prefix}shopper-actions');
    const type = String(tf.variable.function_config.type);
    const unsubscribe = /restockUnsubscribe = optional\(object\(\{([\s\S]*?)\}\)/.exec(type)![1]!;
    expect(unsubscribe).toContain('max_instances   = optional(number, 10)');
    expect(unsubscribe).toContain('concurrency     = optional(number, 1)');
  });

  test('shopper-actions reaches applyShopperActions like inventory-updated reaches fan-out: a push with OIDC of its own push identity (the only invoker), backoff, and a dead-letter topic with a subscription', () => {
    const sub = resource(tf, 'google_pubsub_subscription', 'shopper_actions');
    expect(sub.topic).toBe('${google_pubsub_topic.shopper_actions[0].id}');
    const push = block(sub.push_config);
    expect(push.push_endpoint).toBe('${local.function_urls["applyShopperActions"]}');
    expect(block(push.oidc_token)).toEqual({ service_account_email: '${google_service_account.shopper_actions_push[0].email}', audience: '${local.function_urls["applyShopperActions"]}' });
    expect(block(sub.retry_policy)).toEqual(block(resource(tf, 'google_pubsub_subscription', 'fanout').retry_policy));
    expect(block(sub.dead_letter_policy)).toEqual({ dead_letter_topic: '${google_pubsub_topic.shopper_actions_dead_letter[0].id}', max_delivery_attempts: '${var.pubsub_max_delivery_attempts}' });
    expect(resource(tf, 'google_pubsub_subscription', 'shopper_actions_dead_letter').topic).toBe('${google_pubsub_topic.shopper_actions_dead_letter[0].id}');
    expect(tf.locals.service_invokers.applyShopperActions).toBe('${{ for sa in google_service_account.shopper_actions_push : "shopper_actions_push" => "serviceAccount:${sa.email}" }}');
    expect(resource(tf, 'google_cloud_run_v2_service_iam_binding', 'shopper_actions_invokers').name).toBe('${local.function_services["applyShopperActions"]}');
    const type = String(tf.variable.function_config.type);
    expect(/applyShopperActions = optional\(object\(\{([\s\S]*?)\}\)/.exec(type)![1]).toContain('ingress         = optional(string, "ALLOW_INTERNAL_ONLY")');
  });
});

describe('issue 31 item 13: the relay takes internal traffic only, at its run.app URL', () => {
  test('relayOutbox\u2019s ingress is internal only, and the scheduler calls its deterministic run.app URL with that audience', () => {
    const type = String(tf.variable.function_config.type);
    expect(/relayOutbox = optional\(object\(\{([\s\S]*?)\}\)/.exec(type)![1]).toContain('ingress         = optional(string, "ALLOW_INTERNAL_ONLY")');
    const target = block(resource(tf, 'google_cloud_scheduler_job', 'outbox_sweep').http_target);
    expect(target.uri).toBe('${local.function_urls["relayOutbox"]}');
    expect(block(target.oidc_token).audience).toBe('${local.function_urls["relayOutbox"]}');
    expect(JSON.stringify(tf.resource)).not.toMatch(/relay_outbox\.url|cloudfunctions\.net/);
  });
});

describe('issue 31 item 14: the Spanner relay cannot run DDL', () => {
  test('no roles/spanner.databaseUser (it includes spanner.databases.updateDdl): fine-grained access control, a database role conditioned on its name', () => {
    const roles = resourcesOf(tf, 'google_spanner_database_iam_member').map(([, r]) => r.role);
    expect(roles).not.toContain('roles/spanner.databaseUser');
    expect(roles.sort()).toEqual(['roles/spanner.databaseRoleUser', 'roles/spanner.fineGrainedAccessUser']);
    const roleUser = resource(tf, 'google_spanner_database_iam_member', 'outbox_relay_database_role');
    expect(block(roleUser.condition).expression).toBe('resource.type == "spanner.googleapis.com/DatabaseRole" && resource.name.endsWith("/databaseRoles/${var.outbox_spanner_database_role}")');
    expect(tf.locals.function_env.relayOutbox.RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE).toBe('${local.outbox_on_firestore ? "" : var.outbox_spanner_database_role}');
    expect(String(tf.variable.outbox_spanner_database_role.description)).toContain('GRANT SELECT, UPDATE ON TABLE Outbox TO ROLE restock_outbox_relay');
  });
});
