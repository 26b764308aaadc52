/**
 * Terraform agrees with the code: it deploys exactly the functions registered
 * in functions/, tells each one the settings of lib/config.ts it needs (secrets
 * through Secret Manager, emulator settings never), with defaults and bounds
 * that match, and ships the source the build compiles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { PSEUDONYMISING_FUNCTIONS, SETTINGS } from '../../../lib/config.ts';
import { FUNCTION_NAMES } from '../../../lib/functions.ts';
import { variableValue } from '../../../sim/production/hcl-expression.ts';
import { REPO_ROOT, block, loadTerraform, resource, resourcesOf, variableFed, type Hcl, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The one table of functions (lib/functions.ts; functions/index.ts re-exports it and imports each). */
function exportedFunctionNames(): string[] {
  return [...FUNCTION_NAMES];
}

/** Names registered with functions-framework (`ff.http('name', ...)`) in functions/*.ts. */
function registeredFunctionNames(): Map<string, string> {
  const registered = new Map<string, string>();
  for (const file of readdirSync(join(REPO_ROOT, 'functions')).filter((f) => f.endsWith('.ts'))) {
    for (const m of read(`functions/${file}`).matchAll(/\b(?:http|cloudEvent)\(\s*['"`](\w+)['"`]/g)) registered.set(m[1]!, file);
  }
  return registered;
}

const FUNCTIONS = ['fanOutRestock', 'deliverRestockBatch', 'restockSubscriptions', 'restockUnsubscribe', 'applyShopperActions', 'relayOutbox'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

/**
 * How an email leaves: the SMTP server, sender, DKIM signature and the public
 * base URL of its links. Delivery sends the restock emails with them and
 * restockSubscriptions the confirmations of double opt-in (whether to send
 * email at all: RESTOCK_EMAIL_SENDER), so both are told the same ones.
 */
const EMAIL_SETTINGS = [
  'RESTOCK_EMAIL_SENDER',
  'RESTOCK_SMTP_HOST',
  'RESTOCK_SMTP_PORT',
  'RESTOCK_SMTP_SECURE',
  'RESTOCK_SMTP_USER',
  'RESTOCK_SMTP_MAX_CONNECTIONS',
  'RESTOCK_SMTP_TIMEOUT_MS',
  'RESTOCK_EMAIL_FROM',
  'RESTOCK_DKIM_DOMAIN',
  'RESTOCK_DKIM_SELECTOR',
  'RESTOCK_UNSUBSCRIBE_URL',
];

/**
 * Where each setting of lib/config.ts comes from in production. Every setting
 * must be in exactly one place, so adding one to lib/config.ts fails this test
 * until someone decides how production sets it.
 */
const ENV_PLAN = {
  /** Read by every function. */
  shared: ['GOOGLE_CLOUD_PROJECT', 'LOG_LEVEL', 'RESTOCK_MAX_BODY_BYTES', 'RESTOCK_FIRESTORE_DATABASE', 'RESTOCK_METRICS_EXPORTER', 'RESTOCK_METRICS_EXPORT_INTERVAL_MS'],
  perFunction: {
    fanOutRestock: [
      'RESTOCK_TASKS_LOCATION',
      'RESTOCK_TASKS_QUEUE',
      'RESTOCK_TASKS_QUEUE_COUNT',
      'RESTOCK_CONTINUATION_QUEUE',
      'RESTOCK_DELIVERY_MAX_ATTEMPTS',
      'RESTOCK_TASKS_SERVICE_ACCOUNT',
      'RESTOCK_PUSH_SERVICE_ACCOUNT',
      'RESTOCK_DELIVERY_URL',
      'RESTOCK_FANOUT_URL',
      'RESTOCK_THRESHOLD',
      'RESTOCK_PAGE_SIZE',
      'RESTOCK_CHUNK_SIZE',
      'RESTOCK_ENQUEUE_CONCURRENCY',
      'RESTOCK_FANOUT_LEASE_MS',
      'RESTOCK_CHECKPOINT_INTERVAL_MS',
      'RESTOCK_FANOUT_TIME_BUDGET_MS',
      'RESTOCK_BEHIND_CLOUD_RUN_IAM',
      'RESTOCK_WAVE_MULTIPLIER',
      'RESTOCK_WAVE_INTERVAL_MS',
      'RESTOCK_MIN_AVAILABLE_TO_NOTIFY',
      'RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS',
      'RESTOCK_FANOUT_RANGE_TARGET',
      'RESTOCK_FANOUT_MIN_RANGES',
      'RESTOCK_FANOUT_MAX_RANGES',
    ],
    deliverRestockBatch: [
      'RESTOCK_DELIVERY_URL',
      'RESTOCK_NOTIFIER',
      'RESTOCK_NOTIFIER_URL',
      'RESTOCK_NOTIFIER_SEND_USER_ID',
      'RESTOCK_DELIVERY_MAX_ATTEMPTS',
      'RESTOCK_SEND_CONCURRENCY',
      'RESTOCK_NOTIFY_BATCH_SIZE',
      'RESTOCK_DELIVERY_LEASE_MS',
      'RESTOCK_LEDGER_TTL_DAYS',
      'RESTOCK_NOTIFIER_TIMEOUT_MS',
      'RESTOCK_NOTIFIER_RETRIES',
      'RESTOCK_NOTIFIER_MAX_RETRY_AFTER_MS',
      'RESTOCK_VERIFY_OIDC',
      'RESTOCK_OIDC_AUDIENCE',
      'RESTOCK_OIDC_ALLOWED_EMAILS',
      'RESTOCK_BEHIND_CLOUD_RUN_IAM',
      'RESTOCK_PUSH_SENDER',
      ...EMAIL_SETTINGS,
      'RESTOCK_FCM_PROJECT_ID',
      'RESTOCK_FCM_CONCURRENCY',
      // Send windows: it holds recipients back and re-enqueues them as delayed tasks on the delivery queues.
      'RESTOCK_SEND_WINDOW',
      'RESTOCK_DEFAULT_TIME_ZONE',
      'RESTOCK_TASKS_LOCATION',
      'RESTOCK_TASKS_QUEUE',
      'RESTOCK_TASKS_QUEUE_COUNT',
      'RESTOCK_TASKS_SERVICE_ACCOUNT',
      'RESTOCK_WEBPUSH_SENDER',
      'RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY',
      'RESTOCK_WEBPUSH_SUBJECT',
      'RESTOCK_WEBPUSH_TTL_SECONDS',
      'RESTOCK_WEBPUSH_URGENCY',
      'RESTOCK_WEBPUSH_CONCURRENCY',
      // Tracked product links (issue 34): it makes them under the switch the public function serves them under.
      'RESTOCK_CLICK_TRACKING',
      // The shop's message templates (issue 36), shipped in the source archive.
      'RESTOCK_TEMPLATES_DIR',
    ],
    restockSubscriptions: [
      'RESTOCK_MAX_SUBSCRIPTIONS_PER_USER',
      'RESTOCK_THRESHOLD',
      'RESTOCK_STOREFRONT_TENANTS',
      'RESTOCK_BEHIND_CLOUD_RUN_IAM',
      // Double opt-in and erasure (issue 32): erasure closes ledger keys that expire like the ledger's.
      'RESTOCK_DOUBLE_OPT_IN',
      'RESTOCK_CONFIRMATION_TTL_HOURS',
      'RESTOCK_CONFIRMATIONS_PER_ADDRESS',
      'RESTOCK_LEDGER_TTL_DAYS',
      // Orders and their attribution (issue 34).
      'RESTOCK_ATTRIBUTION_WINDOW_DAYS',
      // It emails the confirmations itself, as delivery sends email, with links under the same base URL.
      ...EMAIL_SETTINGS,
    ],
    // It publishes an unsubscribe request on this topic (issue 31 item 8).
    // ... and serves tracked product links (issue 34).
    restockUnsubscribe: [
      'RESTOCK_SHOPPER_ACTIONS_TOPIC',
      'RESTOCK_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS',
      'RESTOCK_CONFIRMATION_TTL_HOURS',
      'RESTOCK_CLICK_TRACKING',
      'RESTOCK_CLICK_TOKEN_MAX_AGE_DAYS',
      'RESTOCK_CLICK_PREFETCH_SECONDS',
      'RESTOCK_CLICK_UTM_SOURCE',
    ],
    // Its pushes' caller, audience and Cloud Run's IAM check, as fan-out's (issue 31 item 8).
    // ... and the clicks it records expire with the ledger (issue 34).
    applyShopperActions: ['RESTOCK_PUSH_SERVICE_ACCOUNT', 'RESTOCK_OIDC_AUDIENCE', 'RESTOCK_BEHIND_CLOUD_RUN_IAM', 'RESTOCK_LEDGER_TTL_DAYS'],
    relayOutbox: [
      'RESTOCK_OUTBOX_TOPIC',
      'RESTOCK_OUTBOX_COLLECTION',
      'RESTOCK_OUTBOX_PUBLISH_TIMEOUT_MS',
      'RESTOCK_OUTBOX_LEASE_MS',
      'RESTOCK_OUTBOX_MAX_ATTEMPTS',
      'RESTOCK_OUTBOX_BACKOFF_MIN_MS',
      'RESTOCK_OUTBOX_BACKOFF_MAX_MS',
      'RESTOCK_OUTBOX_BATCH_SIZE',
      'RESTOCK_OUTBOX_SWEEP_BUDGET_MS',
      'RESTOCK_OUTBOX_SENT_TTL_DAYS',
      'RESTOCK_OUTBOX_BACKEND',
      'RESTOCK_OUTBOX_PROJECT',
      'RESTOCK_OUTBOX_FIRESTORE_DATABASE',
      'RESTOCK_OUTBOX_SPANNER_INSTANCE',
      'RESTOCK_OUTBOX_SPANNER_DATABASE',
      'RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE',
    ],
  } satisfies Record<FunctionName, string[]>,
  /** From Secret Manager (secret_environment_variables), never plain environment. */
  secret: {
    RESTOCK_TASK_SIGNING_KEYS: ['fanOutRestock', 'deliverRestockBatch'],
    RESTOCK_NOTIFIER_TOKEN: ['deliverRestockBatch'],
    // restockSubscriptions: the confirmation emails of double opt-in (issue 32).
    RESTOCK_SMTP_PASSWORD: ['deliverRestockBatch', 'restockSubscriptions'],
    RESTOCK_DKIM_PRIVATE_KEY: ['deliverRestockBatch', 'restockSubscriptions'],
    RESTOCK_UNSUBSCRIBE_SECRET: ['deliverRestockBatch', 'restockUnsubscribe', 'restockSubscriptions'],
    RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: ['deliverRestockBatch'],
    // Every function that refers to a shopper by its keyed hash (lib/log.ts recipientRef).
    RESTOCK_PSEUDONYM_KEY: ['restockSubscriptions', 'restockUnsubscribe', 'applyShopperActions'],
  } as Record<string, FunctionName[]>,
  /** Only meaningful on the local stack; setting one in production would misroute calls. */
  emulatorOnly: ['CLOUD_TASKS_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST'],
  /** Their defaults are Google's own values, which production uses unchanged. */
  productionDefault: ['RESTOCK_OIDC_ISSUERS', 'RESTOCK_OIDC_JWKS_URL', 'RESTOCK_SMTP_REQUIRE_TLS', 'RESTOCK_FCM_ENDPOINT', 'RESTOCK_FCM_CREDENTIALS', 'RESTOCK_VERIFY_PUSH_OIDC', 'RESTOCK_MAX_SEQUENCE_JUMP', 'RESTOCK_LEDGER_SHARDS'],
  /** Read by the inventory service that embeds the outbox kit (its fast path), not by anything deployed here. */
  inventoryService: ['RESTOCK_OUTBOX_PUBLISH_WAIT_MS'],
  /** Read only with RESTOCK_METRICS_EXPORTER=file (the local stack); production exports to Cloud Monitoring. */
  fileExporterOnly: ['RESTOCK_METRICS_DIR'],
  /** Read only by the ops CLI (`restock`), on an operator's machine; no function reads them. */
  cliOnly: ['RESTOCK_TOPIC', 'RESTOCK_DEAD_LETTER_SUBSCRIPTION'],
  /** Settings Terraform does not give the functions yet (each with the issue that will): none today. */
  notYetDeployed: [] as string[],
};

/**
 * Settings Terraform already sets whose code side (issue 31) is written in
 * another branch: lib/config.ts does not know them yet. Each is planned above
 * like any other; once lib/config.ts declares it, it is checked like any other
 * and its entry here must go (a test says so).
 */
const SET_BEFORE_THE_CODE_READS_THEM: string[] = [];

/** Variables the platform reads, not lib/config.ts. */
const PLATFORM_ENV = ['LOG_EXECUTION_ID', 'IGNORED_ROUTES'];
/** Emulator switches of the Google clients themselves. */
const CLIENT_EMULATOR_ENV = ['FIRESTORE_EMULATOR_HOST', 'PUBSUB_EMULATOR_HOST', 'CLOUD_TASKS_EMULATOR_HOST'];

/** The plain environment Terraform gives a function: shared_env merged with its own, and the platform's. */
function plainEnv(name: FunctionName): Record<string, Hcl> {
  return { ...tf.locals.shared_env, ...tf.locals.function_env[name], ...tf.locals.platform_env };
}

const settingEnvs = () => Object.values(SETTINGS).map((s) => s.env);
/** The settings of lib/config.ts and those Terraform sets ahead of it. */
const knownEnvs = () => [...settingEnvs(), ...SET_BEFORE_THE_CODE_READS_THEM];

describe('the functions Terraform deploys are the ones the code registers', () => {
  test('Terraform deploys exactly FUNCTION_NAMES, each from one function block (the relay included: issue 30 item 13)', () => {
    expect(Object.keys(tf.locals.functions).sort()).toEqual(exportedFunctionNames().sort());
    expect(resourcesOf(tf, 'google_cloudfunctions2_function').map(([name]) => name)).toEqual(['function']);
    expect(block(resource(tf, 'google_cloudfunctions2_function', 'function').build_config).entry_point).toBe('${each.key}');
  });

  test('the local stack serves the same functions: its list is the table itself', async () => {
    const { FUNCTION_NAMES: served } = await import('../../../emulators/stack/description.ts');
    expect(served).toBe(FUNCTION_NAMES);
  });

  test('every deployed function is registered with functions-framework under its own name in functions/<name>.ts', () => {
    const registered = registeredFunctionNames();
    for (const name of Object.keys(tf.locals.functions)) {
      expect(registered.get(name), `${name} is deployed but not registered in functions/`).toBe(`${name}.ts`);
    }
  });

  test('functions/index.ts imports the entry of every function of the table, and nothing else', () => {
    const imported = [...read('functions/index.ts').matchAll(/^import '\.\/(\w+)\.ts';$/gm)].map((m) => m[1]);
    expect(imported.sort()).toEqual([...FUNCTION_NAMES].sort());
  });

  test('the entry point Cloud Build serves registers every function (package.json main is functions/index)', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.main).toBe('dist/functions/index.js');
    expect(pkg.scripts['gcp-build']).toBeDefined();
    const index = read('functions/index.ts');
    for (const name of Object.keys(tf.locals.functions)) expect(index).toContain(`import './${name}.ts'`);
  });
});

describe('each function is told the settings it needs', () => {
  test('every setting of lib/config.ts has a production plan (a new setting must be added here and to Terraform)', () => {
    const planned = [
      ...ENV_PLAN.shared,
      ...Object.values(ENV_PLAN.perFunction).flat(),
      ...Object.keys(ENV_PLAN.secret),
      ...ENV_PLAN.emulatorOnly,
      ...ENV_PLAN.productionDefault,
      ...ENV_PLAN.inventoryService,
      ...ENV_PLAN.fileExporterOnly,
      ...ENV_PLAN.cliOnly,
      ...ENV_PLAN.notYetDeployed,
    ];
    const unplanned = settingEnvs().filter((env) => !planned.includes(env));
    const unknown = [...new Set(planned)].filter((env) => !knownEnvs().includes(env));
    expect(unplanned).toEqual([]);
    expect(unknown).toEqual([]);
  });

  test('a setting Terraform sets ahead of the code is dropped from that list once lib/config.ts declares it', () => {
    expect(SET_BEFORE_THE_CODE_READS_THEM.filter((env) => settingEnvs().includes(env))).toEqual([]);
  });

  test.each(FUNCTIONS)('%s gets exactly the shared settings and its own, nothing else', (name) => {
    const expected = [...new Set([...ENV_PLAN.shared, ...ENV_PLAN.perFunction[name], ...PLATFORM_ENV])].sort();
    expect(Object.keys(plainEnv(name)).sort()).toEqual(expected);
  });

  test('the environment maps are what the functions are given: empty settings dropped, the platform variables kept even when empty', () => {
    const service = block(resource(tf, 'google_cloudfunctions2_function', 'function').service_config);
    expect(service.environment_variables).toBe('${merge({ for k, v in merge(local.shared_env, local.function_env[each.key]) : k => v if v != "" }, local.platform_env)}');
    expect(Object.keys(tf.locals.platform_env).sort()).toEqual([...PLATFORM_ENV].sort());
    // Empty IGNORED_ROUTES is the value that hands /favicon.ico and /robots.txt to the function.
    expect(tf.locals.platform_env.IGNORED_ROUTES).toBe('');
  });

  test('every variable Terraform sets is a setting of lib/config.ts or a platform variable (no typos)', () => {
    const known = [...knownEnvs(), ...PLATFORM_ENV];
    for (const name of FUNCTIONS) {
      const unknown = Object.keys(plainEnv(name)).filter((env) => !known.includes(env));
      expect(unknown, name).toEqual([]);
    }
  });

  test('secrets come from Secret Manager and never appear in a plain environment', () => {
    for (const [env, owners] of Object.entries(ENV_PLAN.secret)) {
      for (const owner of owners) expect(Object.keys(tf.locals.function_secret_env[owner])).toContain(env);
      for (const name of FUNCTIONS) expect(Object.keys(plainEnv(name)), name).not.toContain(env);
    }
  });

  test('a secret value given to Terraform is ephemeral and sensitive, and only ever written through a write-only argument (never in plan or state)', () => {
    const secretVariables = Object.entries(tf.variable).filter(([v]) => /token|password|_keys?$|private_key$/i.test(v) && !/secret_id$|_version$|public_key$/.test(v));
    expect(secretVariables.map(([name]) => name).sort()).toEqual(['dkim_private_key', 'notifier_token', 'pseudonym_key', 'smtp_password', 'task_signing_keys', 'unsubscribe_keys', 'webpush_vapid_private_key']);
    for (const [name, v] of secretVariables) {
      expect(v.ephemeral, name).toBe(true);
      expect(v.sensitive, name).toBe(true);
      const uses = tf.files.filter((f) => !f.path.endsWith('variables.tf')).flatMap((f) => [...f.text.matchAll(new RegExp(`^\\s*(\\w+)\\s*=.*\\bvar\\.${name}\\b`, 'gm'))].map((m) => m[1]));
      expect(uses, name).toEqual(['secret_data_wo']);
    }
    for (const [name, version] of resourcesOf(tf, 'google_secret_manager_secret_version')) {
      expect(version.secret_data, name).toBeUndefined();
      expect(version.secret_data_wo, name).toMatch(/^\$\{var\.\w+\}$/);
      expect(version.secret_data_wo_version, name).toMatch(/^\$\{var\.\w+_version\}$/);
    }
  });

  test('the pseudonym key goes to exactly the functions that refuse to start without it (lib/config.ts PSEUDONYMISING_FUNCTIONS)', () => {
    const mounting = FUNCTIONS.filter((name) => 'RESTOCK_PSEUDONYM_KEY' in tf.locals.function_secret_env[name]);
    expect(mounting.sort()).toEqual([...PSEUDONYMISING_FUNCTIONS].sort());
  });

  test('emulator settings are never set in production', () => {
    for (const name of FUNCTIONS) {
      const env = Object.keys(plainEnv(name));
      for (const emulator of [...ENV_PLAN.emulatorOnly, ...CLIENT_EMULATOR_ENV]) expect(env, name).not.toContain(emulator);
    }
  });

  test('the confirmation emails leave as the restock emails do: restockSubscriptions is given the very expressions delivery is for every email setting', () => {
    const delivery = plainEnv('deliverRestockBatch');
    const subscriptions = plainEnv('restockSubscriptions');
    for (const env of EMAIL_SETTINGS) expect(subscriptions[env], env).toBe(delivery[env]);
  });

  test('delivery verifies the OIDC token of the queue identity, for its own URL', () => {
    const env = plainEnv('deliverRestockBatch');
    expect(env.RESTOCK_VERIFY_OIDC).toBe('true');
    expect(env.RESTOCK_OIDC_ALLOWED_EMAILS).toBe('${google_service_account.tasks_invoker.email}');
    expect(env.RESTOCK_OIDC_AUDIENCE).toBe('${local.function_urls["deliverRestockBatch"]}');
    expect(plainEnv('fanOutRestock').RESTOCK_TASKS_SERVICE_ACCOUNT).toBe('${google_service_account.tasks_invoker.email}');
  });

  test("fan-out and delivery trust the tokens Cloud Run's IAM check verified, and only named service accounts may invoke them", () => {
    for (const name of ['fanOutRestock', 'deliverRestockBatch'] as const) {
      expect(plainEnv(name).RESTOCK_BEHIND_CLOUD_RUN_IAM, name).toBe('true');
      // The setting is only sound while Cloud Run checks every caller: nobody public may invoke these two.
      const invokers = Object.values<string>(tf.locals.service_invokers[name]);
      expect(invokers.length, name).toBeGreaterThan(0);
      for (const member of invokers) expect(member, name).toMatch(/^serviceAccount:/);
    }
  });

  test('fan-out targets the delivery URL and itself (continuations) at the URLs Terraform computes', () => {
    const env = plainEnv('fanOutRestock');
    expect(env.RESTOCK_DELIVERY_URL).toBe('${local.function_urls["deliverRestockBatch"]}');
    expect(env.RESTOCK_FANOUT_URL).toBe('${local.function_urls["fanOutRestock"]}');
    expect(env.RESTOCK_TASKS_QUEUE).toBe('${local.names.queue}');
    expect(env.RESTOCK_TASKS_LOCATION).toBe('${var.region}');
    expect(env.RESTOCK_TASKS_QUEUE_COUNT).toBe('${tostring(var.delivery_queue_count)}');
    expect(env.RESTOCK_CONTINUATION_QUEUE).toBe('${local.names.continuation_queue}');
    expect(tf.locals.names.queue).toBe('${var.name_prefix}${var.queue_name}');
    expect(tf.locals.names.continuation_queue).toBe('${var.name_prefix}${var.continuation_queue_name}');
    // The first delivery queue keeps queue_name; the others are queue_name-<n>, as lib/tasks/queues.ts names them.
    const queue = resource(tf, 'google_cloud_tasks_queue', 'deliveries');
    expect(queue.count).toBe('${var.delivery_queue_count}');
    expect(queue.name).toBe('${count.index == 0 ? local.names.queue : "${local.names.queue}-${count.index}"}');
    expect(queue.location).toBe('${var.region}');
    const continuations = resource(tf, 'google_cloud_tasks_queue', 'continuations');
    expect(continuations.name).toBe('${local.names.continuation_queue}');
    expect(continuations.location).toBe('${var.region}');
  });

  test('the continuation queue retries as often as fan-out is told (it reads RESTOCK_DELIVERY_MAX_ATTEMPTS to know a continuation\u2019s last attempt)', () => {
    const retry = block(resource(tf, 'google_cloud_tasks_queue', 'continuations').retry_config);
    expect(retry.max_attempts).toBe('${var.delivery_max_attempts}');
    expect(block(resource(tf, 'google_cloud_tasks_queue', 'deliveries').retry_config).max_attempts).toBe('${var.delivery_max_attempts}');
  });
});

describe('Terraform and lib/config.ts agree on values', () => {
  /** [env, variable] for every setting fed straight from a variable. */
  function variableFedSettings(): [string, string][] {
    const pairs = new Map<string, string>();
    for (const name of FUNCTIONS) {
      for (const [env, expression] of Object.entries(plainEnv(name))) {
        const variable = variableFed(expression);
        if (variable) pairs.set(env, variable);
      }
    }
    return [...pairs];
  }
  const settingOf = (env: string) => Object.values(SETTINGS).find((s) => s.env === env);

  test('a bare apply configures the functions as lib/config.ts defaults would', () => {
    const pairs = variableFedSettings();
    expect(pairs.length).toBeGreaterThan(20);
    expect(tf.variable.project_id.default).toBeUndefined();
    const disagreements = pairs
      // project_id is required, so it has no default to compare.
      .filter(([env, variable]) => settingOf(env)?.default !== undefined && tf.variable[variable]?.default !== undefined)
      .filter(([env, variable]) => String(tf.variable[variable]?.default) !== settingOf(env)!.default)
      .map(([env, variable]) => `${env}=${settingOf(env)!.default} but var.${variable} defaults to ${tf.variable[variable]?.default}`);
    expect(disagreements).toEqual([]);
  });

  test('a variable cannot exceed the maximum its setting accepts', () => {
    const unbounded = variableFedSettings()
      .map(([env, variable]) => ({ env, variable, max: (settingOf(env)?.schema as { maxValue?: number } | undefined)?.maxValue }))
      .filter(({ max }) => max !== undefined && max < Number.MAX_SAFE_INTEGER)
      .filter(({ variable, max }) => !(tf.variable[variable].validation as Hcl[]).some((v) => String(v.condition).includes(`var.${variable} <= ${max}`)))
      .map(({ env, variable, max }) => `var.${variable} (${env}) is not validated <= ${max}`);
    expect(unbounded).toEqual([]);
  });

  test('a variable feeding an enumerated setting accepts exactly its values, but the emulator-only log sender', () => {
    const mismatches = variableFedSettings().flatMap(([env, variable]) => {
      // `log` (a sender that only logs) is refused by the functions outside the emulators: Terraform never offers it.
      const options = (settingOf(env)?.schema as { options?: string[] } | undefined)?.options?.filter((o) => o !== 'log');
      if (!options) return [];
      const conditions = (tf.variable[variable].validation as Hcl[]).map((v) => String(v.condition)).join(' ');
      const listed = /contains\(\[([^\]]*)\]/.exec(conditions)?.[1] ?? '';
      const accepted = [...listed.matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort();
      return accepted.join() === [...options].sort().join() ? [] : [`var.${variable} accepts [${accepted}] but ${env} accepts [${options}]`];
    });
    expect(mismatches).toEqual([]);
  });

  test('the fan-out time budget is derived from its timeout, stays below it, and by default matches lib/config.ts', () => {
    expect(plainEnv('fanOutRestock').RESTOCK_FANOUT_TIME_BUDGET_MS).toBe('${tostring(local.fanout_time_budget_ms)}');
    const derivation = /^\$\{\(var\.function_config\.fanOutRestock\.timeout_seconds - var\.(\w+)\) \* 1000\}$/.exec(tf.locals.fanout_time_budget_ms);
    expect(derivation, String(tf.locals.fanout_time_budget_ms)).not.toBeNull();
    const margin = tf.variable[derivation![1]!];
    expect(String(margin.validation[0].condition)).toMatch(/>= 10\b/);
    const timeout = (variableValue(tf.variable.function_config) as { fanOutRestock: { timeout_seconds: number } }).fanOutRestock.timeout_seconds;
    const budgetMs = (timeout - margin.default) * 1000;
    expect(budgetMs).toBeLessThan(timeout * 1000);
    expect(String(budgetMs)).toBe(SETTINGS.fanoutTimeBudgetMs.default);
  });

  test('the topic and dead-letter subscription Terraform creates are the ones the CLI reads, by default and through cli_env', () => {
    // The CLI's settings are entries of lib/config.ts SETTINGS like every other.
    for (const [env, variable] of [
      ['RESTOCK_TOPIC', 'topic_name'],
      ['RESTOCK_DEAD_LETTER_SUBSCRIPTION', 'dead_letter_subscription_name'],
    ] as const) {
      expect(Object.values(SETTINGS).find((s) => s.env === env)?.default, env).toBe(tf.variable[variable].default);
    }
    const cliEnv = tf.output.cli_env.value;
    expect(cliEnv.RESTOCK_TOPIC).toBe('${google_pubsub_topic.inventory_updated.name}');
    expect(cliEnv.RESTOCK_DEAD_LETTER_SUBSCRIPTION).toBe('${google_pubsub_subscription.dead_letter.name}');
    expect(cliEnv.RESTOCK_TASKS_SERVICE_ACCOUNT).toBe(plainEnv('fanOutRestock').RESTOCK_TASKS_SERVICE_ACCOUNT);
  });
});

describe('the source archive is an allow list of what the build compiles', () => {
  const BUILD_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

  test('the archive holds exactly the listed files: the build inputs, the TypeScript of functions/ and lib/, and the shop\'s templates under templates/', () => {
    const archive = tf.data.archive_file?.source;
    expect(archive.source_dir).toBeUndefined();
    expect(archive.excludes).toBeUndefined();
    const [source, templates] = archive.dynamic.source as Hcl[];
    expect(block(templates.content)).toEqual({ filename: 'templates/${source.value}', content: '${file("${var.templates_dir}/${source.value}")}' });
    expect(templates.for_each).toBe('${local.template_files}');
    expect(tf.locals.template_files).toBe('${var.templates_dir == "" ? [] : sort(tolist(fileset(var.templates_dir, "**/*.liquid")))}');
    // Where the archive puts them is where the function reads them (relative to its source directory).
    expect(plainEnv('deliverRestockBatch').RESTOCK_TEMPLATES_DIR).toBe('${var.templates_dir != "" ? "templates" : ""}');
    expect(source.for_each).toBe('${local.source_files}');
    expect(block(source.content)).toEqual({ filename: '${source.value}', content: '${file("${local.source_root}/${source.value}")}' });
    expect(tf.locals.source_files).toBe(
      `\${sort(concat(\n    ${JSON.stringify(BUILD_INPUTS).replaceAll(',', ', ')},\n    tolist(fileset(local.source_root, "{functions,lib}/**/*.ts")),\n  ))}`,
    );
  });

  test('tsconfig.build.json compiles only functions/ and lib/, so the archive holds everything it compiles', () => {
    const build = JSON.parse(read('tsconfig.build.json'));
    expect([...build.include].sort()).toEqual(['functions', 'lib']);
    for (const file of BUILD_INPUTS) expect(() => read(file), file).not.toThrow();
  });

  test('functions/ and lib/ hold only TypeScript (a data file would be left out of the archive)', () => {
    const others = ['functions', 'lib'].flatMap((dir) =>
      readdirSync(join(REPO_ROOT, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && !e.name.endsWith('.ts'))
        .map((e) => join(relative(REPO_ROOT, e.parentPath), e.name)),
    );
    expect(others).toEqual([]);
  });

  test('no compiled file imports from outside functions/ and lib/', () => {
    const offenders: string[] = [];
    for (const dir of ['functions', 'lib']) {
      const files = readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
      for (const file of files) {
        const path = join(REPO_ROOT, dir, file);
        for (const m of readFileSync(path, 'utf8').matchAll(/\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
          const target = relative(REPO_ROOT, resolve(dirname(path), (m[1] ?? m[2])!));
          if (!['functions', 'lib'].includes(target.split('/')[0]!)) offenders.push(`${relative(REPO_ROOT, path)} → ${target}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe('docs/deploy.md documents the deployment as it is', () => {
  /** The whole deployment guide. */
  function deploySection(): string {
    const guide = read('docs/deploy.md');
    expect(guide.startsWith('# Deploy to production'), 'docs/deploy.md starts with "# Deploy to production"').toBe(true);
    return guide;
  }

  test('every variable has a row in the variable table', () => {
    const section = deploySection();
    const missing = Object.keys(tf.variable).filter((name) => !section.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });

  test('every environment variable a function gets has a row naming exactly the functions that get it', () => {
    const section = deploySection();
    const wrong: string[] = [];
    const receivers = new Map<string, string[]>();
    for (const name of FUNCTIONS) {
      for (const env of [...Object.keys(plainEnv(name)), ...Object.keys(tf.locals.function_secret_env[name])]) {
        receivers.set(env, [...(receivers.get(env) ?? []), name]);
      }
    }
    for (const [env, functions] of receivers) {
      const row = section.split('\n').find((line) => line.startsWith(`| \`${env}\` |`));
      const stated = row?.split('|')[2]?.trim() ?? '(no row)';
      const listed = stated === 'every function' ? [...FUNCTIONS] : stated.split(',').map((f) => f.trim());
      if (listed.sort().join() !== [...functions].sort().join()) wrong.push(`${env}: README says ${stated}, Terraform gives ${functions.join(', ')}`);
    }
    expect(wrong).toEqual([]);
  });
});
