/**
 * The deployment's policies (issue 6, docs/design.md "Production"), checked on the
 * parsed Terraform: nothing public, the dead-letter path wired, the runtime,
 * the queue driven by variables, Firestore indexes and TTL, alerts, outputs.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, block, firestoreFields, loadTerraform, resource, resourcesOf, stringsUnderKeys, type Hcl, type Terraform } from './hcl.ts';
import { variableValue } from '../../../sim/production/hcl-expression.ts';
import { INSTRUMENT_SPECS, INSTRUMENTS } from '../../../lib/metrics/index.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

const PUBLIC_PRINCIPALS = /allUsers|allAuthenticatedUsers/;

describe('terraform/ parses', () => {
  test('every .tf file parses with the HCL parser and the module declares resources, variables and outputs', () => {
    // Prepare / act: loadTerraform() in beforeAll throws on any file that does not parse.
    // Assess
    expect(tf.files.map((f) => f.path)).toEqual(expect.arrayContaining(['terraform/variables.tf', 'terraform/outputs.tf', 'terraform/versions.tf']));
    expect(Object.keys(tf.resource).length).toBeGreaterThan(10);
    expect(Object.keys(tf.variable).length).toBeGreaterThan(10);
    expect(Object.keys(tf.output).length).toBeGreaterThan(5);
  });
});

describe('conventions', () => {
  test('every variable has a description a person can act on', () => {
    const undescribed = Object.entries(tf.variable)
      .filter(([, v]) => typeof v.description !== 'string' || v.description.length < 15)
      .map(([name]) => name);
    expect(undescribed).toEqual([]);
  });

  test('every variable except booleans and free-form maps is guarded by a validation block', () => {
    const unguarded = Object.entries(tf.variable)
      .filter(([, v]) => v.type !== '${bool}')
      .filter(([, v]) => !Array.isArray(v.validation) || v.validation.length === 0)
      .map(([name]) => name);
    expect(unguarded).toEqual([]);
  });

  test('every output is described', () => {
    const undescribed = Object.entries(tf.output)
      .filter(([, o]) => typeof o.description !== 'string' || o.description.length < 10)
      .map(([name]) => name);
    expect(undescribed).toEqual([]);
  });

  test('each provider is pinned to a major version and Terraform itself to a range', () => {
    const settings = tf.terraform.find((t) => t.required_providers);
    const providers = block(settings.required_providers);
    // google-beta: only for google_project_service_identity (terraform/pubsub.tf), pinned with google.
    expect(Object.keys(providers).sort()).toEqual(['archive', 'google', 'google-beta', 'time']);
    expect(providers['google-beta'].version).toBe(providers.google.version);
    for (const p of Object.values<Hcl>(providers)) expect(p.version).toMatch(/^~> \d+\.\d+$/);
    expect(settings.required_version).toMatch(/>=\s*1\.\d+/);
  });

  test('state is remote in GCS, but the bucket is given at init time rather than hard-coded', () => {
    const withBackend = tf.terraform.filter((t) => t.backend);
    expect(withBackend).toHaveLength(1);
    const gcs = block(block(withBackend[0].backend).gcs);
    expect(gcs ?? {}).toEqual({});
  });
});

describe('functions', () => {
  test('every function is gen2 on the runtime variable, nodejs24 by default, its entry point being its own name', () => {
    const build = block(fn().build_config);
    expect(build.runtime).toBe('${var.runtime}');
    expect(tf.variable.runtime.default).toBe('nodejs24');
    expect(fn().for_each).toBe('${local.deployed_functions}');
    expect(fn().name).toBe('${var.name_prefix}${each.key}');
    expect(build.entry_point).toBe('${each.key}');
  });

  test('every function has a deterministic run.app URL: its service name (the lower-cased function name) and a project number fit one 63-character DNS label', () => {
    expect(String(tf.locals.function_urls).replace(/\s+/g, ' ')).toBe('${{ for name in keys(local.functions) : name => "https://${lower("${var.name_prefix}${name}")}-${local.project_number}.${var.region}.run.app" }}');
    expect(tf.locals.project_number).toBe('${data.google_project.this.number}');
    const longestProjectNumber = 13;
    const longestPrefix = 'abcde-'; // name_prefix's validation: at most 6 characters
    for (const name of Object.keys(tf.locals.functions)) {
      expect(`${longestPrefix}${name}`.toLowerCase(), name).toMatch(/^[a-z][a-z0-9-]*[a-z0-9]$/);
      expect(`${longestPrefix}${name.toLowerCase()}-${'9'.repeat(longestProjectNumber)}`.length, name).toBeLessThanOrEqual(63);
    }
  });

  test('functions are built from the repository archive uploaded to the source bucket', () => {
    const source = block(block(block(fn().build_config).source).storage_source);
    expect(source.bucket).toBe('${google_storage_bucket.source.name}');
    expect(source.object).toBe('${google_storage_bucket_object.source.name}');
    const object = resource(tf, 'google_storage_bucket_object', 'source');
    expect(object.source).toBe('${data.archive_file.source.output_path}');
    // A new archive content is a new object name, hence a redeploy.
    expect(object.name).toMatch(/\$\{data\.archive_file\.source\.output_(sha256|md5|sha)\}/);
    expect(tf.locals.source_root).toBe('${path.module}/..');
  });

  test('memory, timeout, instances, vCPUs, concurrency and ingress come from function_config, per function', () => {
    const service = block(fn().service_config);
    expect(service.available_memory).toBe('${each.value.memory}');
    expect(service.timeout_seconds).toBe('${each.value.timeout_seconds}');
    expect(service.max_instance_count).toBe('${each.value.max_instances}');
    expect(service.min_instance_count).toBe('${each.value.min_instances}');
    expect(service.ingress_settings).toBe('${each.value.ingress}');
    expect(service.available_cpu).toBe('${each.value.cpu}');
    expect(service.max_instance_request_concurrency).toBe('${each.value.concurrency}');
    expect(tf.locals.deployed_functions).toBe('${{ for name, fn in local.functions : name => merge(fn, var.function_config[name]) if fn.deployed }}');
    const defaults = variableValue(tf.variable.function_config) as Record<string, Record<string, unknown>>;
    expect(Object.keys(defaults).sort()).toEqual(Object.keys(tf.locals.functions).sort());
  });

  test('each function runs as its own service account', () => {
    const service = block(fn().service_config);
    expect(service.service_account_email).toBe('${google_service_account.function[each.key].email}');
    const accounts = resource(tf, 'google_service_account', 'function');
    expect(accounts.for_each).toBe('${local.deployed_functions}');
    expect(accounts.account_id).toBe('${var.name_prefix}${each.value.account_id}');
    const accountIds = Object.values<Hcl>(tf.locals.functions).map((f) => f.account_id);
    expect(new Set(accountIds).size).toBe(accountIds.length);
  });

  test('secrets reach delivery (notifier token, task signing keys, SMTP password, DKIM key, unsubscribe key), fan-out (task signing keys), restockUnsubscribe (its key), restockSubscriptions (the confirmation emails\' secrets) and the pseudonym key its three readers from Secret Manager, and no other function gets one', () => {
    const dynamicSecrets = block(block(fn().service_config).dynamic.secret_environment_variables);
    expect(dynamicSecrets.for_each).toBe('${{ for k, v in local.function_secret_env[each.key] : k => v if v != "" }}');
    expect(block(dynamicSecrets.content).secret).toBe('${secret_environment_variables.value}');
    expect(tf.locals.function_secret_env).toEqual({
      fanOutRestock: { RESTOCK_TASK_SIGNING_KEYS: '${google_secret_manager_secret.task_signing_key.secret_id}' },
      deliverRestockBatch: {
        RESTOCK_TASK_SIGNING_KEYS: '${google_secret_manager_secret.task_signing_key.secret_id}',
        // Only while a channel goes through the notification service (issue 36: every channel direct needs no token).
        RESTOCK_NOTIFIER_TOKEN: '${local.uses_notifier ? google_secret_manager_secret.notifier_token.secret_id : ""}',
        RESTOCK_SMTP_PASSWORD: '${var.smtp_user == "" ? "" : google_secret_manager_secret.smtp_password.secret_id}',
        RESTOCK_DKIM_PRIVATE_KEY: '${var.dkim_domain == "" ? "" : google_secret_manager_secret.dkim_private_key.secret_id}',
        RESTOCK_UNSUBSCRIBE_SECRET: '${local.sends_links ? google_secret_manager_secret.unsubscribe_key.secret_id : ""}',
        RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: '${var.webpush_sender == "webpush" ? google_secret_manager_secret.webpush_vapid_private_key.secret_id : ""}',
      },
      // Issue 32: the pseudonym key always; the mail secrets only while it emails double opt-in confirmations.
      restockSubscriptions: {
        RESTOCK_PSEUDONYM_KEY: '${google_secret_manager_secret.pseudonym_key.secret_id}',
        RESTOCK_SMTP_PASSWORD: '${local.confirms_email && var.smtp_user != "" ? google_secret_manager_secret.smtp_password.secret_id : ""}',
        RESTOCK_DKIM_PRIVATE_KEY: '${local.confirms_email && var.dkim_domain != "" ? google_secret_manager_secret.dkim_private_key.secret_id : ""}',
        RESTOCK_UNSUBSCRIBE_SECRET: '${local.confirms_email ? google_secret_manager_secret.unsubscribe_key.secret_id : ""}',
      },
      // Deployed only with email over SMTP (local.functions), when the key has a version.
      restockUnsubscribe: {
        RESTOCK_UNSUBSCRIBE_SECRET: '${google_secret_manager_secret.unsubscribe_key.secret_id}',
        RESTOCK_PSEUDONYM_KEY: '${google_secret_manager_secret.pseudonym_key.secret_id}',
      },
      applyShopperActions: { RESTOCK_PSEUDONYM_KEY: '${google_secret_manager_secret.pseudonym_key.secret_id}' },
      relayOutbox: {},
    });
  });

  test("a first apply writes the token's first version itself, so deliverRestockBatch (which reads latest at deploy) never meets an empty secret", () => {
    const version = resource(tf, 'google_secret_manager_secret_version', 'notifier_token');
    expect(version.secret).toBe('${google_secret_manager_secret.notifier_token.id}');
    expect(version.secret_data).toBeUndefined(); // write-only: never in state
    // Written exactly when the function mounts the secret: with every channel direct, neither.
    expect(version.count).toBe('${local.uses_notifier ? 1 : 0}');
    expect(fn().depends_on).toContain('${google_secret_manager_secret_version.notifier_token}');
  });

  test('only delivery may read the notifier token', () => {
    const grants = resourcesOf(tf, 'google_secret_manager_secret_iam_member')
      .map(([, g]) => g)
      .filter((g) => g.secret_id === '${google_secret_manager_secret.notifier_token.id}');
    expect(grants).toHaveLength(1);
    expect(grants[0].role).toBe('roles/secretmanager.secretAccessor');
    expect(grants[0].member).toBe('serviceAccount:${google_service_account.function["deliverRestockBatch"].email}');
  });
});

const fn = () => resource(tf, 'google_cloudfunctions2_function', 'function');

describe('who may invoke what', () => {
  const IAM_KEYS = new Set(['member', 'members']);

  test('no IAM grant anywhere names allUsers or allAuthenticatedUsers, except the invoker of the one-click unsubscribe function', () => {
    const { unsubscribe_public: unsubscribePublic, ...otherMembers } = tf.resource.google_cloud_run_v2_service_iam_member ?? {};
    const everything = [...tf.files.map((f) => f.json.resource ?? {}).map((r) => ({ ...r, google_cloud_run_v2_service_iam_member: otherMembers })), tf.locals];
    const publicGrants = everything.flatMap((r) => stringsUnderKeys(r, IAM_KEYS)).filter((m) => PUBLIC_PRINCIPALS.test(m.value));
    expect(publicGrants).toEqual([]);
    expect(JSON.stringify(tf.locals.service_invokers)).not.toMatch(PUBLIC_PRINCIPALS);
    // Mailbox providers POST one-click unsubscribes without credentials (RFC 8058): that function alone is public.
    expect(unsubscribePublic).toMatchObject({ member: 'allUsers', name: '${local.function_services["restockUnsubscribe"]}' });
  });

  test('run.invoker is granted from the invoker table only, on the Cloud Run service of each function, authoritatively for the private ones', () => {
    const invokerGrants = Object.entries(tf.resource).flatMap(([type, byName]) =>
      Object.entries<Hcl>(byName)
        .filter(([, r]) => /invoker/.test(String(r.role)))
        .map(([name, r]) => `${type}.${name}:${r.role}`),
    );
    expect(invokerGrants.sort()).toEqual([
      'google_cloud_run_v2_service_iam_binding.fanout_invokers:roles/run.invoker',
      'google_cloud_run_v2_service_iam_binding.invokers:roles/run.invoker',
      'google_cloud_run_v2_service_iam_binding.shopper_actions_invokers:roles/run.invoker',
      'google_cloud_run_v2_service_iam_member.unsubscribe_public:roles/run.invoker',
    ]);
    expect(resource(tf, 'google_cloud_run_v2_service_iam_binding', 'fanout_invokers').members).toBe('${values(local.service_invokers.fanOutRestock)}');
    expect(resource(tf, 'google_cloud_run_v2_service_iam_binding', 'shopper_actions_invokers').members).toBe('${values(local.service_invokers.applyShopperActions)}');
    const others = resource(tf, 'google_cloud_run_v2_service_iam_binding', 'invokers');
    expect(others.name).toBe('${local.function_services[each.key]}');
    expect(others.members).toBe('${each.value}');
    expect(tf.locals.service_invokers.relayOutbox).toEqual({ outbox_scheduler: 'serviceAccount:${google_service_account.outbox_scheduler.email}' });
  });

  test('only the queue identity may invoke deliverRestockBatch', () => {
    expect(tf.locals.service_invokers.deliverRestockBatch).toEqual({
      tasks_invoker: 'serviceAccount:${google_service_account.tasks_invoker.email}',
    });
  });

  test('fanOutRestock is invoked by the Pub/Sub push identity and by the queue identity (continuations) only', () => {
    expect(tf.locals.service_invokers.fanOutRestock).toEqual({
      pubsub_push: 'serviceAccount:${google_service_account.pubsub_push.email}',
      tasks_invoker: 'serviceAccount:${google_service_account.tasks_invoker.email}',
    });
  });

  test('restockSubscriptions is invoked only by the storefront service accounts, which must be service accounts', () => {
    const members = tf.locals.service_invokers.restockSubscriptions;
    expect(members).toMatch(/^\$\{\{\s*for email in var\.storefront_service_accounts : email => "serviceAccount:\$\{email\}"\s*\}\}$/);
    const validations: Hcl[] = tf.variable.storefront_service_accounts.validation;
    expect(validations.some((v) => String(v.condition).includes('gserviceaccount\\\\.com'))).toBe(true);
  });

  test('fan-out may enqueue to every delivery queue and the continuation queue only, and act as the queue identity only', () => {
    const enqueuer = resource(tf, 'google_cloud_tasks_queue_iam_member', 'fanout_enqueuer');
    expect(enqueuer.count).toBe('${var.delivery_queue_count}');
    expect(resource(tf, 'google_cloud_tasks_queue', 'deliveries').count).toBe('${var.delivery_queue_count}');
    expect(enqueuer.role).toBe('roles/cloudtasks.enqueuer');
    expect(enqueuer.name).toBe('${google_cloud_tasks_queue.deliveries[count.index].name}');
    expect(enqueuer.member).toBe('serviceAccount:${google_service_account.function["fanOutRestock"].email}');
    const continues = resource(tf, 'google_cloud_tasks_queue_iam_member', 'fanout_continues');
    expect(continues.role).toBe('roles/cloudtasks.enqueuer');
    expect(continues.name).toBe('${google_cloud_tasks_queue.continuations.name}');
    expect(continues.member).toBe('serviceAccount:${google_service_account.function["fanOutRestock"].email}');
    const queueGrants = resourcesOf(tf, 'google_cloud_tasks_queue_iam_member').map(([name]) => name).sort();
    expect(queueGrants).toEqual(['delivery_holds', 'fanout_continues', 'fanout_enqueuer']);
    // Delivery re-enqueues held-back recipients (send windows) on the delivery queues only, and only with a window.
    const holds = resource(tf, 'google_cloud_tasks_queue_iam_member', 'delivery_holds');
    expect(holds.count).toBe('${var.send_window == "" ? 0 : var.delivery_queue_count}');
    expect(holds.name).toBe('${google_cloud_tasks_queue.deliveries[count.index].name}');
    expect(holds.member).toBe('serviceAccount:${google_service_account.function["deliverRestockBatch"].email}');
    const deliveryActsAs = resource(tf, 'google_service_account_iam_member', 'delivery_acts_as_tasks_invoker');
    expect(deliveryActsAs.service_account_id).toBe('${google_service_account.tasks_invoker.name}');
    expect(deliveryActsAs.count).toBe('${var.send_window == "" ? 0 : 1}');
    const actAs = resource(tf, 'google_service_account_iam_member', 'fanout_acts_as_tasks_invoker');
    expect(actAs.role).toBe('roles/iam.serviceAccountUser');
    expect(actAs.service_account_id).toBe('${google_service_account.tasks_invoker.name}');
    expect(actAs.member).toBe('serviceAccount:${google_service_account.function["fanOutRestock"].email}');
  });

  test('project-wide roles are limited to Firestore access (on the pipeline database only) for the functions, log writing for the build, metric writing for the functions that record metrics and FCM send for delivery', () => {
    const projectRoles = resourcesOf(tf, 'google_project_iam_member').map(([name, r]) => `${name}:${r.role}`).sort();
    expect(projectRoles).toEqual([
      'build_log_writer:roles/logging.logWriter',
      // Cloud Functions' own staging bucket of the sources, conditioned on its name (issue 30 item 1).
      'build_reads_function_sources:roles/storage.objectViewer',
      // Sending push: a custom role holding only cloudmessaging.messages.create (terraform/channels.tf).
      'delivery_fcm_sender:${google_project_iam_custom_role.fcm_sender[0].name}',
      'function_firestore:roles/datastore.user',
      'metric_writer:roles/monitoring.metricWriter',
      'outbox_relay_firestore:roles/datastore.user',
    ]);
    // Only the functions that record the pipeline's metrics (lib/metrics) may write them: every deployed one but the public one.
    expect(tf.locals.metric_writers).toBe('${{ for name, sa in google_service_account.function : name => "serviceAccount:${sa.email}" if name != "restockUnsubscribe" }}');
    expect(readFileSync(join(REPO_ROOT, 'functions/restockUnsubscribe.ts'), 'utf8')).not.toMatch(/metrics/);
    expect(resource(tf, 'google_project_iam_custom_role', 'fcm_sender').permissions).toEqual(['cloudmessaging.messages.create']);
    const condition = block(resource(tf, 'google_project_iam_member', 'function_firestore').condition);
    expect(condition.expression).toBe('resource.name == "${google_firestore_database.pipeline.id}"');
  });

  test('the build identity reads the source bucket and writes the functions image repository, nothing else', () => {
    const grants = Object.entries(tf.resource).flatMap(([type, byName]) =>
      Object.entries<Hcl>(byName)
        .filter(([, r]) => r.member === 'serviceAccount:${google_service_account.build.email}')
        .map(([name, r]) => `${type}.${name}:${r.role}:${r.bucket ?? r.repository ?? r.project}`),
    );
    expect(grants.sort()).toEqual([
      'google_artifact_registry_repository_iam_member.build_writes_images:roles/artifactregistry.writer:${google_artifact_registry_repository.functions.name}',
      'google_project_iam_member.build_log_writer:roles/logging.logWriter:${var.project_id}',
      'google_project_iam_member.build_reads_function_sources:roles/storage.objectViewer:${var.project_id}',
      'google_storage_bucket_iam_member.build_reads_source:roles/storage.objectViewer:${google_storage_bucket.source.name}',
    ]);
    expect(block(fn().build_config).docker_repository).toBe('${google_artifact_registry_repository.functions.id}');
  });

  test('the functions are built and deployed only after every grant they use has had time to propagate', () => {
    const wait = resource(tf, 'time_sleep', 'iam_propagation');
    expect(wait.create_duration).toBe('${var.iam_propagation_seconds}s');
    const grants = String(wait.triggers.grants);
    for (const grant of [
      'google_storage_bucket_iam_member.build_reads_source.id',
      'google_artifact_registry_repository_iam_member.build_writes_images.id',
      'google_project_iam_member.build_log_writer.id',
      'google_secret_manager_secret_iam_member.delivery_reads_notifier_token.id',
      'google_project_iam_member.function_firestore',
    ]) {
      expect(grants, grant).toContain(grant);
    }
    expect(fn().depends_on).toContain('${time_sleep.iam_propagation}');
    expect(tf.variable.iam_propagation_seconds.default).toBeGreaterThanOrEqual(60);
  });

  test('every function identity that uses the pipeline database, delivery included (its ledger), gets Firestore access through one grant per function', () => {
    const firestore = resource(tf, 'google_project_iam_member', 'function_firestore');
    expect(firestore.for_each).toBe('${{ for name, fn in local.deployed_functions : name => fn if fn.pipeline_database }}');
    expect(firestore.member).toBe('serviceAccount:${google_service_account.function[each.key].email}');
    expect(Object.keys(tf.locals.functions)).toContain('deliverRestockBatch');
  });
});

describe('Pub/Sub', () => {
  test('fan-out is triggered by a push subscription carrying an OIDC token of the push identity, for the fan-out URL', () => {
    const sub = resource(tf, 'google_pubsub_subscription', 'fanout');
    expect(sub.topic).toBe('${google_pubsub_topic.inventory_updated.id}');
    const push = block(sub.push_config);
    expect(push.push_endpoint).toBe('${local.function_urls["fanOutRestock"]}');
    const oidc = block(push.oidc_token);
    expect(oidc.service_account_email).toBe('${google_service_account.pubsub_push.email}');
    expect(oidc.audience).toBe('${local.function_urls["fanOutRestock"]}');
  });

  test('the topic is inventory-updated by default', () => {
    expect(tf.variable.topic_name.default).toBe('inventory-updated');
    expect(resource(tf, 'google_pubsub_topic', 'inventory_updated').name).toBe('${local.names.topic}');
    expect(tf.locals.names.topic).toBe('${var.name_prefix}${var.topic_name}');
  });

  test('redeliveries back off exponentially between bounds set by variables', () => {
    const retry = block(resource(tf, 'google_pubsub_subscription', 'fanout').retry_policy);
    expect(retry.minimum_backoff).toBe('${var.pubsub_min_backoff_seconds}s');
    expect(retry.maximum_backoff).toBe('${var.pubsub_max_backoff_seconds}s');
  });

  test('after max delivery attempts an event goes to the dead-letter topic, which a pull subscription holds for the CLI', () => {
    const deadLetter = block(resource(tf, 'google_pubsub_subscription', 'fanout').dead_letter_policy);
    expect(deadLetter.dead_letter_topic).toBe('${google_pubsub_topic.dead_letter.id}');
    expect(deadLetter.max_delivery_attempts).toBe('${var.pubsub_max_delivery_attempts}');
    // fanOutRestock knows the same limit, so on the last delivery a fan-out that cannot finish ends failed.
    expect(tf.locals.function_env.fanOutRestock.RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS).toBe('${tostring(var.pubsub_max_delivery_attempts)}');
    const pull = resource(tf, 'google_pubsub_subscription', 'dead_letter');
    expect(pull.topic).toBe('${google_pubsub_topic.dead_letter.id}');
    expect(pull.push_config).toBeUndefined();
    expect(tf.variable.dead_letter_subscription_name.default).toBe('inventory-updated-dead-letter');
    expect(tf.output.dead_letter_subscription_name.value).toBe('${google_pubsub_subscription.dead_letter.name}');
  });

  test('the Pub/Sub service agent gets exactly what dead-lettering needs: publish on the dead-letter topic, subscribe on the source subscription', () => {
    const agentGrants = Object.entries(tf.resource).flatMap(([type, byName]) =>
      Object.entries<Hcl>(byName)
        .filter(([, r]) => r.member === '${local.pubsub_service_agent}')
        .map(([, r]) => ({ type, role: r.role, on: r.topic ?? r.subscription })),
    );
    expect(agentGrants).toEqual(
      expect.arrayContaining([
        { type: 'google_pubsub_topic_iam_member', role: 'roles/pubsub.publisher', on: '${google_pubsub_topic.dead_letter.id}' },
        { type: 'google_pubsub_subscription_iam_member', role: 'roles/pubsub.subscriber', on: '${google_pubsub_subscription.fanout.id}' },
      ]),
    );
    // The same two for the shopper-actions subscription (terraform/pubsub.tf).
    expect(agentGrants.filter((g) => g.type !== 'google_service_account_iam_member')).toHaveLength(4);
    expect(tf.locals.pubsub_service_agent).toBe('${google_project_service_identity.pubsub.member}');
  });

  test('the Pub/Sub service agent may mint tokens as the push identity, on that account only, before the push subscription exists', () => {
    const grants = resourcesOf(tf, 'google_service_account_iam_member').filter(([, r]) => r.member === '${local.pubsub_service_agent}');
    expect(grants.map(([name, r]) => `${name}:${r.role}:${r.service_account_id}`).sort()).toEqual([
      'pubsub_signs_push_tokens:roles/iam.serviceAccountTokenCreator:${google_service_account.pubsub_push.name}',
      'pubsub_signs_shopper_actions_tokens:roles/iam.serviceAccountTokenCreator:${google_service_account.shopper_actions_push[0].name}',
    ]);
    expect(resource(tf, 'google_pubsub_subscription', 'fanout').depends_on).toContain('${google_service_account_iam_member.pubsub_signs_push_tokens}');
  });

  test('the dead-letter subscription exists before the push subscription can dead-letter anything (a topic without subscription keeps nothing)', () => {
    expect(resource(tf, 'google_pubsub_subscription', 'fanout').depends_on).toContain('${google_pubsub_subscription.dead_letter}');
  });

  test('dead letters are kept up to the 31 days Pub/Sub allows, 31 by default', () => {
    const pull = resource(tf, 'google_pubsub_subscription', 'dead_letter');
    expect(pull.message_retention_duration).toBe('${var.dead_letter_retention_days * 86400}s');
    expect(tf.variable.dead_letter_retention_days.default).toBe(31);
    expect(String(tf.variable.dead_letter_retention_days.validation[0].condition)).toContain('var.dead_letter_retention_days <= 31');
  });

  test('only the inventory service accounts may publish events', () => {
    const publishers = resourcesOf(tf, 'google_pubsub_topic_iam_member').filter(([, r]) => r.topic === '${google_pubsub_topic.inventory_updated.id}');
    expect(publishers.map(([name, r]) => `${name}:${r.role}:${r.member}:${r.for_each}`)).toEqual([
      'inventory_publisher:roles/pubsub.publisher:serviceAccount:${each.value}:${toset(var.inventory_publishers)}',
    ]);
  });

  test('max delivery attempts are validated against the Pub/Sub bounds (5 to 100)', () => {
    const condition = String(tf.variable.pubsub_max_delivery_attempts.validation[0].condition);
    expect(condition).toContain('var.pubsub_max_delivery_attempts >= 5');
    expect(condition).toContain('var.pubsub_max_delivery_attempts <= 100');
  });

  test('the push ack deadline covers the fan-out timeout, capped at the 600 s Pub/Sub maximum, and the timeout cannot exceed it', () => {
    const sub = resource(tf, 'google_pubsub_subscription', 'fanout');
    expect(sub.ack_deadline_seconds).toBe('${local.fanout_ack_deadline_seconds}');
    expect(tf.locals.fanout_ack_deadline_seconds).toBe('${min(600, var.function_config.fanOutRestock.timeout_seconds)}');
    expect(JSON.stringify(tf.variable.function_config.validation)).toContain('var.function_config.fanOutRestock.timeout_seconds <= 600');
  });
});

describe('speed defaults (docs/deploy.md "Speed defaults")', () => {
  const d = (name: string) => Number(tf.variable[name].default);
  const sizing = () => variableValue(tf.variable.function_config) as Record<string, { min_instances: number; max_instances: number; concurrency: number; cpu: number | null }>;

  test('the functions on the first notification\u2019s path keep a warm instance by default; the others scale to zero', () => {
    const service = block(resource(tf, 'google_cloudfunctions2_function', 'function').service_config);
    expect(service.min_instance_count).toBe('${each.value.min_instances}');
    const warm = Object.entries(sizing()).filter(([, f]) => f.min_instances > 0).map(([name]) => name);
    expect(warm.sort()).toEqual(['deliverRestockBatch', 'fanOutRestock']);
    expect([sizing().fanOutRestock!.min_instances, sizing().deliverRestockBatch!.min_instances]).toEqual([1, 1]);
  });

  test('the default instances cover what the default queues and key ranges send them at once', () => {
    const { deliverRestockBatch: delivery, fanOutRestock: fanout } = sizing();
    // concurrency requests per instance (1 by default): every dispatch in flight needs a slot.
    expect(delivery!.max_instances * delivery!.concurrency).toBeGreaterThanOrEqual(d('delivery_queue_count') * d('queue_max_concurrent_dispatches'));
    // Each key range of one fan-out is a fanOutRestock request of its own.
    expect(fanout!.max_instances).toBeGreaterThanOrEqual(d('fanout_max_ranges'));
    expect(d('queue_max_dispatches_per_second')).toBe(500);
  });
});

describe('per-instance concurrency', () => {
  test('each function\u2019s vCPUs and requests per instance come from function_config', () => {
    const service = block(resource(tf, 'google_cloudfunctions2_function', 'function').service_config);
    expect(service.available_cpu).toBe('${each.value.cpu}');
    expect(service.max_instance_request_concurrency).toBe('${each.value.concurrency}');
  });

  test('one request per instance and Cloud Run\u2019s share of a vCPU stay the defaults of every function', () => {
    for (const [name, f] of Object.entries(variableValue(tf.variable.function_config) as Record<string, { concurrency: number; cpu: number | null }>)) {
      expect([f.concurrency, f.cpu], name).toEqual([1, null]);
    }
  });
});

describe('Cloud Tasks queue', () => {
  const queue = () => resource(tf, 'google_cloud_tasks_queue', 'deliveries');

  test('rate limits come from variables', () => {
    const limits = block(queue().rate_limits);
    expect(limits.max_dispatches_per_second).toBe('${var.queue_max_dispatches_per_second}');
    expect(limits.max_concurrent_dispatches).toBe('${var.queue_max_concurrent_dispatches}');
    expect(tf.variable.queue_max_dispatches_per_second.default).toBeLessThanOrEqual(500);
  });

  test('retry config comes from variables, max_attempts from the one the delivery function is told', () => {
    const retry = block(queue().retry_config);
    expect(retry.max_attempts).toBe('${var.delivery_max_attempts}');
    expect(tf.locals.function_env.deliverRestockBatch.RESTOCK_DELIVERY_MAX_ATTEMPTS).toBe('${tostring(var.delivery_max_attempts)}');
    expect(retry.min_backoff).toBe('${var.queue_min_backoff_seconds}s');
    expect(retry.max_backoff).toBe('${var.queue_max_backoff_seconds}s');
    expect(retry.max_doublings).toBe('${var.queue_max_doublings}');
    expect(retry.max_retry_duration).toBe('${var.queue_max_retry_duration_seconds}s');
  });

  test('dispatch attempts are logged at a sampling ratio from a variable, a sample by default (the function logs every chunk itself)', () => {
    expect(block(queue().stackdriver_logging_config).sampling_ratio).toBe('${var.queue_logging_sampling_ratio}');
    expect(tf.variable.queue_logging_sampling_ratio.default).toBeLessThanOrEqual(0.1);
  });

  test('every queue variable has a default, so a bare apply gets sensible limits', () => {
    const queueVariables = Object.entries(tf.variable).filter(([name]) => name.startsWith('queue_') || name === 'delivery_max_attempts');
    expect(queueVariables.length).toBeGreaterThanOrEqual(8);
    for (const [name, v] of queueVariables) expect(v.default, name).toBeDefined();
  });
});

describe('Firestore', () => {
  const indexFields = (r: Hcl) => (r.fields as Hcl[]).map((f) => `${f.field_path} ${f.order}`);

  test("the pipeline gets a named database of its own, never the project's (default), with point-in-time recovery and deletion protection", () => {
    const database = resource(tf, 'google_firestore_database', 'pipeline');
    expect(database.name).toBe('${local.names.firestore_database}');
    expect(tf.variable.firestore_database.default).toBe('restock-fanout');
    expect(database.type).toBe('FIRESTORE_NATIVE');
    expect(database.point_in_time_recovery_enablement).toBe('POINT_IN_TIME_RECOVERY_ENABLED');
    expect(database.delete_protection_state).toBe('DELETE_PROTECTION_ENABLED');
    expect(database.deletion_policy).toBe('ABANDON');
    expect(resourcesOf(tf, 'google_firestore_database')).toHaveLength(1);
  });

  test('the database is backed up daily, kept for a variable number of days', () => {
    const schedule = resource(tf, 'google_firestore_backup_schedule', 'daily');
    expect(schedule.database).toBe('${google_firestore_database.pipeline.name}');
    expect(schedule.retention).toBe('${var.firestore_backup_retention_days * 86400}s');
    expect(schedule.daily_recurrence).toBeDefined();
  });

  test("every index, field override and TTL is on the pipeline database, except the outbox's, which are on the outbox's database (Firestore backend only)", () => {
    expect(tf.locals.firestore_database).toBe('${google_firestore_database.pipeline.name}');
    for (const type of ['google_firestore_index', 'google_firestore_field']) {
      for (const [name, r] of resourcesOf(tf, type)) {
        if (r.collection === 'outbox') {
          expect(r.database, `${type}.${name}`).toBe('${local.outbox_firestore_database}');
          expect(r.project, `${type}.${name}`).toBe('${local.outbox_project}');
          expect(r.count, `${type}.${name}`).toBe('${local.outbox_on_firestore ? 1 : 0}');
        } else {
          expect(r.database, `${type}.${name}`).toBe('${local.firestore_database}');
        }
      }
    }
  });

  test("the relay may use the outbox's database only: Firestore conditioned on that database, or Spanner on that database, in the outbox's project", () => {
    const firestore = resource(tf, 'google_project_iam_member', 'outbox_relay_firestore');
    expect(firestore.project).toBe('${local.outbox_project}');
    expect(firestore.count).toBe('${local.outbox_on_firestore ? 1 : 0}');
    expect(block(firestore.condition).expression).toBe('resource.name == "projects/${local.outbox_project}/databases/${local.outbox_firestore_database}"');
    for (const name of ['outbox_relay_fine_grained_access', 'outbox_relay_database_role']) {
      expect(resource(tf, 'google_spanner_database_iam_member', name), name).toMatchObject({
        project: '${local.outbox_project}',
        instance: '${var.outbox_spanner_instance}',
        database: '${var.outbox_spanner_database}',
        member: '${local.relay_member}',
        count: '${local.outbox_on_firestore ? 0 : 1}',
      });
    }
    expect(tf.locals.relay_member).toBe('serviceAccount:${google_service_account.function["relayOutbox"].email}');
  });

  test('rejected events expire through a TTL policy on rejectedEvents.expireAt', () => {
    const ttl = resourcesOf(tf, 'google_firestore_field').find(([, f]) => f.collection === 'rejectedEvents' && f.field === 'expireAt');
    expect(ttl).toBeDefined();
    expect(ttl![1].ttl_config).toBeDefined();
  });

  test('the ledger expires through a TTL policy on deliveries.expireAt', () => {
    const ttl = resourcesOf(tf, 'google_firestore_field').find(([, f]) => f.collection === 'deliveries' && f.field === 'expireAt');
    expect(ttl).toBeDefined();
    expect(ttl![1].ttl_config).toBeDefined();
  });

  // One line per query of lib/ that needs a composite index.
  test.each([
    ['delivery state counts, redrive paging and the status samples (shard in, eventKey ==, state ==, by id)', 'deliveries/COLLECTION: shard ASCENDING, eventKey ASCENDING, state ASCENDING'],
    ["a shopper's deliveries, newest first (trace)", 'deliveries/COLLECTION: userId ASCENDING, createdAtMs DESCENDING'],
    ["a shopper's deliveries of one product, newest first (trace)", 'deliveries/COLLECTION: userId ASCENDING, productId ASCENDING, createdAtMs DESCENDING'],
    ["a product's fan-outs, newest first (trace)", 'fanouts/COLLECTION: productId ASCENDING, startedAtMs DESCENDING'],
  ])('the composite index for %s exists', (_query, index) => {
    const indexes = resourcesOf(tf, 'google_firestore_index').map(([, r]) => `${r.collection}/${r.query_scope}: ${indexFields(r).join(', ')}`);
    expect(indexes).toContain(index);
  });

  test('a collection-group index on restockSubscriptions.userId exists, and the collection-scope ones are kept', () => {
    const field = firestoreFields(tf).find((f) => f.collection === 'restockSubscriptions' && f.field === 'userId');
    expect(field).toBeDefined();
    const indexes = (block(field!.index_config).indexes as Hcl[]).map((i) => `${i.query_scope} ${i.order}`);
    expect(indexes).toEqual(expect.arrayContaining(['COLLECTION_GROUP ASCENDING', 'COLLECTION ASCENDING', 'COLLECTION DESCENDING']));
  });
});

describe('alerts', () => {
  const policies = () => resourcesOf(tf, 'google_monitoring_alert_policy').map(([, p]) => p);
  // A policy may hold several conditions (the queue backlog: delivery queues and the continuation queue;
  // dead letters: the inventory events' and, written as a dynamic block, the shopper actions').
  const conditionsOf = (p: Hcl): Hcl[] => [...([] as Hcl[]).concat(p.conditions ?? []), ...([] as Hcl[]).concat(p.dynamic?.conditions ?? []).map((d) => block(d.content))];
  const filters = () =>
    policies()
      .flatMap(conditionsOf)
      .map((c) => block(c.condition_threshold ?? c.condition_absent ?? c.condition_matched_log))
      .map((c) => String(c.filter));

  test.each([
    ['messages in the dead-letter topic', 'pubsub.googleapis.com/subscription/num_undelivered_messages', 'google_pubsub_subscription.dead_letter.name'],
    ['oldest unacked event age', 'pubsub.googleapis.com/subscription/oldest_unacked_message_age', 'google_pubsub_subscription.fanout.name'],
    ['delivery failures (log-based)', 'logging.googleapis.com/user/', 'google_logging_metric.delivery_failures.name'],
    ['failed fan-outs (the pipeline\'s own restock.events)', 'google_monitoring_metric_descriptor.pipeline["restock.events"].type', 'metric.labels.outcome = "failed"'],
    ['queue depth, of every delivery queue', 'cloudtasks.googleapis.com/queue/depth', 'google_cloud_tasks_queue.deliveries[*].name'],
    ['queue depth of the continuation queue (fan-outs not progressing)', 'cloudtasks.googleapis.com/queue/depth', 'google_cloud_tasks_queue.continuations.name'],
  ])('an alert watches %s', (_what, metric, subject) => {
    const matching = filters().filter((f) => f.includes(metric) && f.includes(subject));
    expect(matching).toHaveLength(1);
  });

  test('every alert notifies the channels of the variable, which must name at least one', () => {
    // 6 of the pipeline (the public-invoker alert among them), 3 of the outbox (terraform/outbox.tf).
    expect(policies()).toHaveLength(9);
    for (const p of policies()) expect(p.notification_channels).toBe('${var.notification_channels}');
    expect(tf.variable.notification_channels.default).toBeUndefined();
    expect(tf.variable.notification_channels.validation.map((v: Hcl) => String(v.condition))).toContain('${length(var.notification_channels) >= 1}');
  });

  test('fan-outs that end failed are alerted on from the count fanOutRestock exports (restock.events, outcome failed), not from log lines', () => {
    expect(tf.resource.google_logging_metric?.failed_fanouts).toBeUndefined();
    const alert = resource(tf, 'google_monitoring_alert_policy', 'failed_fanouts');
    const condition = block(block(alert.conditions).condition_threshold);
    expect(condition.filter).toBe(
      'resource.type = "generic_task" AND resource.labels.job = "fanOutRestock" AND metric.type = "${google_monitoring_metric_descriptor.pipeline["restock.events"].type}" AND metric.labels.outcome = "failed"',
    );
    // A cumulative counter: the increase over the window, summed over the instances.
    expect(block(condition.aggregations)).toMatchObject({ per_series_aligner: 'ALIGN_DELTA', cross_series_reducer: 'REDUCE_SUM' });
    expect(alert.depends_on).toContain('${time_sleep.log_metrics_known}');
  });

  test('the metric descriptors Terraform declares are exactly the instruments lib/metrics creates: name, description, kind, unit and labels', () => {
    expect(Object.keys(tf.locals.pipeline_metrics).sort()).toEqual(Object.values(INSTRUMENTS).sort());
    const descriptor = resource(tf, 'google_monitoring_metric_descriptor', 'pipeline');
    expect(descriptor.type).toBe('${local.metric_prefix}/${each.key}');
    expect(tf.locals.metric_prefix).toBe('workload.googleapis.com');
    const declared = Object.values(INSTRUMENT_SPECS).map((spec) => [spec.name, tf.locals.pipeline_metrics[spec.name]]);
    const created = Object.values(INSTRUMENT_SPECS).map((spec) => [
      spec.name,
      { description: spec.description, value_type: spec.kind === 'counter' ? 'INT64' : 'DISTRIBUTION', unit: spec.kind === 'counter' ? '1' : 'ms', labels: [...spec.labels] },
    ]);
    expect(declared).toEqual(created);
  });

  test('an alert on a log-based metric is created only after the metric has had time to become known (provider issue 11102), so a first apply succeeds', () => {
    const wait = resource(tf, 'time_sleep', 'log_metrics_known');
    expect(wait.create_duration).toBe('${var.log_metric_propagation_seconds}s');
    expect(tf.variable.log_metric_propagation_seconds.default).toBeGreaterThanOrEqual(600);
    const onLogMetrics = resourcesOf(tf, 'google_monitoring_alert_policy').filter(([, p]) => JSON.stringify(p.conditions).includes('logging.googleapis.com/user/'));
    expect(onLogMetrics.length).toBeGreaterThanOrEqual(2);
    for (const [name, p] of onLogMetrics) {
      expect(p.depends_on, name).toContain('${time_sleep.log_metrics_known}');
      const metric = /google_logging_metric\.(\w+)\.name/.exec(JSON.stringify(p.conditions))![1]!;
      expect(String(wait.triggers.metrics), `${name} waits for its metric ${metric}`).toContain(`google_logging_metric.${metric}.id`);
    }
  });

  test('the delivery failure metric counts errors of the delivery service only', () => {
    const metric = resource(tf, 'google_logging_metric', 'delivery_failures');
    expect(metric.filter).toContain('resource.labels.service_name=\\"${local.function_services["deliverRestockBatch"]}\\"');
    expect(metric.filter).toContain('severity>=ERROR');
  });
});

describe('outputs', () => {
  test.each(['function_urls', 'topic_name', 'dead_letter_topic_name', 'dead_letter_subscription_name', 'queue_name', 'service_accounts'])('%s is an output', (name) => {
    expect(tf.output[name]?.value).toBeDefined();
  });
});

describe('APIs', () => {
  test('every service the pipeline uses is enabled, and left enabled on destroy', () => {
    const services = String(tf.locals.services);
    for (const api of ['cloudfunctions', 'run', 'cloudbuild', 'artifactregistry', 'pubsub', 'cloudtasks', 'firestore', 'secretmanager', 'monitoring', 'logging', 'iam']) {
      expect(services).toContain(`"${api}.googleapis.com"`);
    }
    expect(resource(tf, 'google_project_service', 'enabled').disable_on_destroy).toBe(false);
  });
});
