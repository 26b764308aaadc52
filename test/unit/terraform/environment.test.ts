/**
 * The environment Terraform computes for each function is one lib/config.ts
 * accepts, for a bare apply and for the example tfvars; and the variable
 * validations refuse values the functions would refuse at start.
 *
 * Computed by Terraform itself when it is on the PATH (validations included);
 * otherwise by evaluate.ts from the parsed HCL, and the test names say so.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { deploymentProblems, parseConfig, type FunctionName } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import { createNotifier } from '../../../lib/notify/index.ts';
import { createConfirmationSender } from '../../../lib/consent/index.ts';
import type { Firestore } from '@google-cloud/firestore';
import { evaluateByHand, evaluateWithTerraform, exampleVariables, STAND_IN_PROJECT_NUMBER, terraformAvailable, TerraformRefusedError, type Evaluation, type Variables } from './evaluate.ts';
import { loadTerraform, type Terraform } from './hcl.ts';

const withTerraform = terraformAvailable();
const how = withTerraform ? 'computed by terraform' : 'computed from the parsed HCL (terraform is NOT on the PATH)';

let tf: Terraform;
let example: Variables;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
  // The token and the signing keys are ephemeral (TF_VAR_...), never in a tfvars file.
  example = { ...(await exampleVariables()), notifier_token: REQUIRED.notifier_token, task_signing_keys: REQUIRED.task_signing_keys, pseudonym_key: REQUIRED.pseudonym_key };
}, 30_000);

const evaluations = new Map<string, Evaluation>();

/** Evaluates once per set of variables (each terraform run takes about a second). */
function evaluate(variables: Variables): Evaluation {
  const key = JSON.stringify(variables);
  let evaluation = evaluations.get(key);
  if (!evaluation) {
    evaluation = withTerraform ? evaluateWithTerraform(tf, variables) : evaluateByHand(tf, variables);
    evaluations.set(key, evaluation);
  }
  return evaluation;
}

function captureRefusal(attempt: () => unknown): TerraformRefusedError | undefined {
  try {
    attempt();
  } catch (err) {
    if (err instanceof TerraformRefusedError) return err;
  }
  return undefined;
}

/** What a plan cannot do without: the project, the notifier's URL and token, the task signing keys, the pseudonym key, and someone to alert. */
const REQUIRED: Variables = {
  notifier_token: 'token-from-the-environment',
  task_signing_keys: 'a-task-signing-key-of-more-than-32-bytes',
  pseudonym_key: 'a-pseudonym-key-of-more-than-32-bytes-long',
  notification_channels: ['projects/shop-prod-1/notificationChannels/42'],
  storefront_service_accounts: ['storefront-backend@shop-prod-1.iam.gserviceaccount.com'],
};
/** Email over SMTP: the public unsubscribe function and its keys. */
const DIRECT_EMAIL: Variables = { email_sender: 'smtp', smtp_host: 'smtp.example.com', email_from: 'Shop <restock@example.com>', unsubscribe_keys: 'an-unsubscribe-key-of-more-than-32-bytes' };
/**
 * Email through the notification service: double opt-in (by default email, confirmed over SMTP)
 * must be turned off by name, or the plan is refused (a case below).
 */
const BARE_APPLY: Variables = { project_id: 'shop-prod-1', notifier_url: 'https://notify.example.com', ...REQUIRED, double_opt_in: 'none' };
/** Every channel sent directly (issue 36): no notification service, so neither its URL nor its token. */
const { notifier_token: _token, ...REQUIRED_BUT_THE_TOKEN } = REQUIRED;
/** Web push to the browsers' push services: the VAPID key pair (made by `npx web-push generate-vapid-keys`) and subject. */
const DIRECT_WEBPUSH: Variables = {
  webpush_sender: 'webpush',
  webpush_vapid_public_key: 'BDHzfHbFzAFcPEtEgIPKNwtmfs6tgDHWEyEFpMNmT8gKVXKTALOw2yHt10cdNSOlAwemaHAWg2VxduX62fL2Jig',
  webpush_vapid_private_key: 'iNZDU8CmwCwvARcmfigexKM3PdbJut0gTNZoEmksl3c',
  webpush_subject: 'mailto:ops@shop.example',
};
const EVERY_CHANNEL_DIRECT: Variables = { project_id: 'shop-prod-1', ...REQUIRED_BUT_THE_TOKEN, ...DIRECT_EMAIL, push_sender: 'fcm', ...DIRECT_WEBPUSH };

/**
 * The secrets Cloud Run mounts into `name` (terraform's function_secret_env),
 * each holding the value of the variable that wrote its version. A secret
 * whose variable the case does not give has no version, and is not mounted:
 * its entry is conditional on the feature that needs it (the notifier token
 * on a channel through the notification service, the unsubscribe key on
 * email over SMTP), or its function is not deployed.
 */
function mountedSecrets(name: string, given: Variables): Record<string, string> {
  const written: Record<string, unknown> = {
    RESTOCK_TASK_SIGNING_KEYS: given.task_signing_keys,
    RESTOCK_NOTIFIER_TOKEN: given.notifier_token,
    RESTOCK_UNSUBSCRIBE_SECRET: given.unsubscribe_keys,
    RESTOCK_PSEUDONYM_KEY: given.pseudonym_key,
    RESTOCK_SMTP_PASSWORD: given.smtp_password,
    RESTOCK_DKIM_PRIVATE_KEY: given.dkim_private_key,
    RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: given.webpush_vapid_private_key,
  };
  const mounted = (tf.locals.function_secret_env as Record<string, Record<string, string>>)[name] ?? {};
  const out: Record<string, string> = {};
  for (const key of Object.keys(mounted)) if (typeof written[key] === 'string') out[key] = written[key] as string;
  return out;
}

// Each terraform run takes about a second, several on a busy machine.
const TERRAFORM_TIMEOUT = { timeout: 60_000 };

describe(`the environment each function gets (${how})`, TERRAFORM_TIMEOUT, () => {
  test.each([
    ['a bare apply (only the required variables)', () => BARE_APPLY],
    ['terraform.tfvars.example', () => example],
    ['every channel direct, without notifier_url or notifier_token', () => EVERY_CHANNEL_DIRECT],
  ])('with %s, every function starts: lib/config.ts parses its environment and delivery builds its notifier', (_case, variables) => {
    // Prepare
    const given = variables();
    // Act
    const { env } = evaluate(given);
    // Assess
    // The fallback used where terraform is missing must compute what terraform computes.
    if (withTerraform) expect(evaluateByHand(tf, given)).toEqual(evaluate(given));
    expect(Object.keys(env).sort()).toEqual(['applyShopperActions', 'deliverRestockBatch', 'fanOutRestock', 'relayOutbox', 'restockSubscriptions', 'restockUnsubscribe']);
    for (const [name, vars] of Object.entries(env)) {
      const config = parseConfig({ ...vars, ...mountedSecrets(name, given) });
      expect(config.projectId, name).toBe(given.project_id);
      expect(config.tasksEmulatorHost, name).toBeUndefined();
      // The refusals that protect production (open callers, the log notifier) pass as deployed.
      expect(deploymentProblems(config, name as FunctionName).map((p) => p.message), name).toEqual([]);
    }
    // Delivery also builds its notifier at its first request, which needs the notifier settings.
    const silent = new Logger({}, 'ERROR', () => {});
    expect(() => createNotifier(parseConfig({ ...env.deliverRestockBatch!, ...mountedSecrets('deliverRestockBatch', given) }), silent)).not.toThrow();
  });

  test('with the example, fan-out and delivery agree on the queue, the URLs and the identity', () => {
    const { env } = evaluate(example);
    const fanout = parseConfig(env.fanOutRestock!);
    const delivery = parseConfig(env.deliverRestockBatch!);
    expect(fanout.tasksLocation).toBe(example.region);
    expect(fanout.deliveryUrl).toBe(delivery.deliveryUrl);
    // The run.app URL: the only one on which Cloud Run counts Pub/Sub and Cloud Tasks as internal.
    expect(fanout.deliveryUrl).toBe(`https://deliverrestockbatch-${STAND_IN_PROJECT_NUMBER}.${example.region}.run.app`);
    expect(fanout.fanoutUrl).toBe(`https://fanoutrestock-${STAND_IN_PROJECT_NUMBER}.${example.region}.run.app`);
    expect(delivery.oidcAudience).toBe(fanout.deliveryUrl);
    expect(delivery.oidcAllowedEmails).toBe(fanout.tasksServiceAccount);
    expect(delivery.verifyOidc).toBe(true);
    expect(delivery.deliveryMaxAttempts).toBe(example.delivery_max_attempts);
  });

  test('every function is told the pipeline database, and keeps IGNORED_ROUTES empty so /favicon.ico and /robots.txt reach it', () => {
    for (const variables of [BARE_APPLY, example]) {
      const { env } = evaluate(variables);
      for (const [name, vars] of Object.entries(env)) {
        expect(parseConfig(vars).firestoreDatabase, name).toBe(variables.firestore_database ?? 'restock-fanout');
        // An empty IGNORED_ROUTES is what turns off functions-framework's own 404s; a missing one leaves them on.
        expect(vars, name).toHaveProperty('IGNORED_ROUTES', '');
      }
    }
  });

  test.each([
    ['the defaults', {}],
    ['the longest timeout', { function_config: { fanOutRestock: { timeout_seconds: 600 } } }],
    ['the shortest timeout and largest margin', { function_config: { fanOutRestock: { timeout_seconds: 60 } }, fanout_time_budget_margin_seconds: 30 }],
  ])('with %s, the fan-out hands over before its timeout and Pub/Sub waits for the whole run', (_case, overrides) => {
    const evaluation = evaluate({ ...BARE_APPLY, ...overrides });
    const budgetMs = parseConfig(evaluation.env.fanOutRestock!).fanoutTimeBudgetMs;
    expect(budgetMs).toBeLessThan(evaluation.fanoutTimeoutSeconds * 1000);
    expect(budgetMs).toBeGreaterThanOrEqual(30_000);
    expect(evaluation.ackDeadlineSeconds).toBeGreaterThanOrEqual(evaluation.fanoutTimeoutSeconds);
    expect(evaluation.ackDeadlineSeconds).toBeLessThanOrEqual(600);
  });
});

describe(`double opt-in and the pseudonym key in production (issue 32, ${how})`, TERRAFORM_TIMEOUT, () => {
  /** Email over SMTP with an authenticated server and DKIM: every secret the confirmations need. */
  const SMTP_CONFIRMATIONS: Variables = {
    ...EVERY_CHANNEL_DIRECT,
    smtp_user: 'restock',
    smtp_password: 'an-smtp-password',
    dkim_domain: 'mail.example.com',
    dkim_selector: 's1',
    dkim_private_key: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----',
  };

  test('by default, with email over SMTP, restockSubscriptions confirms email addresses and builds its confirmation sender from what Terraform gives it', () => {
    // Prepare
    const given = SMTP_CONFIRMATIONS;
    // Act
    const { env } = evaluate(given);
    const config = parseConfig({ ...env.restockSubscriptions!, ...mountedSecrets('restockSubscriptions', given) });
    // Assess
    expect(config.doubleOptIn).toEqual(['email']);
    expect(deploymentProblems(config, 'restockSubscriptions').map((p) => p.message)).toEqual([]);
    // The same server, sender, DKIM and link base as delivery's emails, and the keys that seal links.
    const delivery = parseConfig({ ...env.deliverRestockBatch!, ...mountedSecrets('deliverRestockBatch', given) });
    for (const key of ['smtpHost', 'smtpPort', 'smtpUser', 'smtpPassword', 'emailFrom', 'dkimDomain', 'dkimSelector', 'dkimPrivateKey', 'unsubscribeUrl', 'unsubscribeSecret'] as const) {
      expect(config[key], key).toBeDefined();
      expect(config[key], key).toEqual(delivery[key]);
    }
    expect(config.pseudonymKey).toEqual([given.pseudonym_key]);
    // The function builds this at its first request and refuses to start when a setting is missing.
    expect(() => createConfirmationSender(config, {} as Firestore, new Logger({}, 'ERROR', () => {}))).not.toThrow();
  });

  test('with double_opt_in none, restockSubscriptions is told none and mounts no mail secret, only the pseudonym key', () => {
    const given = { ...SMTP_CONFIRMATIONS, double_opt_in: 'none' };
    const { env } = evaluate(given);
    expect(env.restockSubscriptions!.RESTOCK_DOUBLE_OPT_IN).toBe('none');
    expect(parseConfig(env.restockSubscriptions!).doubleOptIn).toEqual([]);
    // function_secret_env is read as written: only the mount conditions can be checked without a provider.
    const secrets = (tf.locals.function_secret_env as Record<string, Record<string, string>>).restockSubscriptions!;
    for (const key of ['RESTOCK_SMTP_PASSWORD', 'RESTOCK_DKIM_PRIVATE_KEY', 'RESTOCK_UNSUBSCRIBE_SECRET']) expect(secrets[key], key).toMatch(/^\$\{local\.confirms_email (&&|\?)/);
    expect(tf.locals.confirms_email).toBe('${var.double_opt_in == "email"}');
  });

  test('every deployed function that refers to shoppers by a keyed hash gets the same pseudonym key', () => {
    const { env } = evaluate(SMTP_CONFIRMATIONS);
    for (const name of ['restockSubscriptions', 'restockUnsubscribe', 'applyShopperActions']) {
      expect(name in env, name).toBe(true);
      expect(parseConfig({ ...env[name]!, ...mountedSecrets(name, SMTP_CONFIRMATIONS) }).pseudonymKey, name).toEqual([SMTP_CONFIRMATIONS.pseudonym_key]);
    }
  });
});

describe(
  withTerraform
    ? 'variable validations (run by terraform)'
    : 'variable validations NOT evaluated (terraform is not on the PATH): only checked that a validation block guards each variable',
  TERRAFORM_TIMEOUT,
  () => {
    const refusals: [string, Variables][] = [
      ['a chunk larger than one Firestore commit of ledger claims', { chunk_size: 500 }],
      ['the http notifier without a URL', { notifier_url: '' }],
    ['an http:// notifier URL (the functions refuse it outside the emulators)', { notifier_url: 'http://notify.example.com' }],
    ['log as the notifier (the functions refuse it outside the emulators)', { notifier: 'log' }],
    ["log as a channel's sender", { push_sender: 'log' }],
    ['a channel through the notification service without its token', { notifier_token: null }],
    ['email direct but push through the notification service without its URL', { ...DIRECT_EMAIL, notifier_url: '' }],
      ['a fan-out timeout beyond the 600 s push ack deadline', { function_config: { fanOutRestock: { timeout_seconds: 900 } } }],
      ['a delivery timeout beyond the 10 min Cloud Tasks dispatch deadline', { function_config: { deliverRestockBatch: { timeout_seconds: 900 } } }],
      ['a budget margin that leaves less than 30 s of budget', { function_config: { fanOutRestock: { timeout_seconds: 60 } }, fanout_time_budget_margin_seconds: 45 }],
      ['allUsers as a storefront', { storefront_service_accounts: ['allUsers'] }],
      ['a person as a storefront', { storefront_service_accounts: ['someone@example.com'] }],
      ['allUsers as an inventory publisher', { inventory_publishers: ['allUsers'] }],
      ['unlimited task attempts (nothing would become exhausted)', { delivery_max_attempts: -1 }],
      ['more than 500 dispatches a second (the Cloud Tasks limit)', { queue_max_dispatches_per_second: 1000 }],
      ['fewer than 5 Pub/Sub delivery attempts', { pubsub_max_delivery_attempts: 3 }],
      ['a max backoff below the min backoff', { pubsub_min_backoff_seconds: 60, pubsub_max_backoff_seconds: 30 }],
      ['a log level lib/config.ts does not know', { log_level: 'verbose' }],
      ['alerts that notify nobody', { notification_channels: [] }],
      ['dead letters kept longer than Pub/Sub can (31 days)', { dead_letter_retention_days: 32 }],
      ['the project (default) database as the pipeline database', { firestore_database: '(default)' }],
      ['a runtime the code is not tested on', { runtime: 'nodejs20' }],
      ['several deliveries per instance on a fraction of a vCPU (Cloud Run serves one at a time there)', { function_config: { deliverRestockBatch: { concurrency: 8 } } }],
      ['several subscription requests per instance on a fraction of a vCPU', { function_config: { restockSubscriptions: { concurrency: 80 } } }],
      ['a vCPU count Cloud Run does not offer', { function_config: { deliverRestockBatch: { cpu: 3 } } }],
      // Issue 30 item 6: Cloud Run's vCPU and memory table (cloud.google.com/run/docs/configuring/services/cpu).
      ['4 vCPUs with less than 2 GiB (Cloud Run refuses the revision)', { function_config: { deliverRestockBatch: { cpu: 4, memory: '1Gi' } } }],
      ['6 vCPUs with less than 4 GiB', { function_config: { fanOutRestock: { cpu: 6, memory: '2Gi' } } }],
      ['8 vCPUs with less than 4 GiB', { function_config: { restockSubscriptions: { cpu: 8, memory: '3Gi' } } }],
      ['1 vCPU with more than 4 GiB', { function_config: { deliverRestockBatch: { cpu: 1, memory: '8Gi' } } }],
      // Issue 30 item 9: every dispatch in flight needs a request slot on its target, or Cloud Run answers 429.
      ['more delivery dispatches in flight than delivery instances x concurrency', { delivery_queue_count: 5 }],
      // Issue 30 item 10: a lease shorter than the delivery timeout lets a duplicate dispatch re-claim a chunk still being sent.
      ['a delivery lease shorter than the delivery timeout', { delivery_lease_ms: 120000 }],
      // Issue 30 item 5: a secret a function reads at `latest` must get a version in the same apply.
      ['email over SMTP without its unsubscribe keys', { ...DIRECT_EMAIL, unsubscribe_keys: null }],
      ['an SMTP user without its password', { smtp_user: 'restock' }],
      ['a DKIM domain without its private key', { dkim_domain: 'mail.example.com', dkim_selector: 's1' }],
      // Issue 31 items 1 and 5: every key at least 32 bytes, none empty.
      ['a task signing key shorter than 32 bytes', { task_signing_keys: 'a-task-signing-key-of-more-than-32-bytes,short' }],
      ['an unsubscribe key shorter than 32 bytes', { ...DIRECT_EMAIL, unsubscribe_keys: 'an-unsubscribe-key-of-more-than-32-bytes,' }],
      // Issue 30 item 8: behind a load balancer the run.app URL answers nobody from the internet.
      ['unsubscribe links behind a load balancer without a public base URL', { ...DIRECT_EMAIL, function_config: { restockUnsubscribe: { ingress: 'ALLOW_INTERNAL_AND_GCLB' } } }],
      // Issue 30 item 13: the longest service account id must stay within 30 characters.
      ['a name prefix too long for the service account ids', { name_prefix: 'staging-' }],
      // Issue 32: double opt-in emails its confirmations over SMTP; the function refuses to start without it.
      ['double opt-in by email while email goes through the notification service', { double_opt_in: 'email' }],
      ['double opt-in on a channel the functions cannot confirm', { double_opt_in: 'push' }],
      ['a pseudonym key shorter than 32 bytes', { pseudonym_key: 'a-short-pseudonym-key' }],
      ['several pseudonym keys (the functions would use only the first)', { pseudonym_key: 'a-pseudonym-key-of-more-than-32-bytes-long,another-pseudonym-key-of-32-bytes-or-more' }],
    ];

    test.each(refusals)('%s is refused at plan time', (_case, overrides) => {
      if (withTerraform) {
        const refusal = captureRefusal(() => evaluateWithTerraform(tf, { ...BARE_APPLY, ...overrides }));
        expect(refusal, 'terraform accepted the values').toBeInstanceOf(TerraformRefusedError);
        // Refused for the variable under test, not for something else.
        // An ephemeral variable's value is never printed: its error message, which starts with its name, says which.
        const refusedVariables = [...refusal!.output.matchAll(/var\.(\w+)(?:\.[\w.]+)? is |^(\w+)(?:\.\w+)*:? (?:must|is required)/gm)].map((m) => m[1] ?? m[2]);
        expect(Object.keys(overrides).some((name) => refusedVariables.includes(name)), refusal!.output).toBe(true);
        return;
      }
      const unguarded = Object.keys(overrides).filter(
        (name) => !((tf.variable[name]?.validation ?? []) as { condition: string }[]).some((v) => String(v.condition).includes(`var.${name}`)),
      );
      expect(unguarded).toEqual([]);
    });

    test.runIf(withTerraform)('double opt-in by email without email over SMTP is refused with a message saying both ways out', () => {
      const refusal = captureRefusal(() => evaluateWithTerraform(tf, { ...BARE_APPLY, double_opt_in: 'email' }));
      expect(refusal, 'terraform accepted the values').toBeInstanceOf(TerraformRefusedError);
      const output = refusal!.output.replace(/[\s│]+/g, ' ');
      expect(output).toContain('needs email_sender = "smtp"');
      expect(output).toContain('or double_opt_in = "none"');
    });

    test('the same variables module accepts the example and a bare apply, so the refusals above are about the values', () => {
      expect(() => evaluate(BARE_APPLY)).not.toThrow();
      expect(() => evaluate(example)).not.toThrow();
    });

    test('several requests per instance are accepted with a whole vCPU', () => {
      expect(() => evaluate({ ...BARE_APPLY, function_config: { deliverRestockBatch: { concurrency: 8, cpu: 1 }, restockSubscriptions: { concurrency: 80, cpu: 2 } } })).not.toThrow();
    });

    test('the pairs Cloud Run accepts are accepted: 4 vCPUs with 2Gi, 8 with 4Gi, 2 with 8Gi', () => {
      expect(() => evaluate({ ...BARE_APPLY, function_config: { deliverRestockBatch: { cpu: 4, memory: '2Gi' }, fanOutRestock: { cpu: 8, memory: '4Gi' }, restockSubscriptions: { cpu: 2, memory: '8Gi' } } })).not.toThrow();
    });

    test('more delivery queues are accepted once delivery has the instances for them, and a lease as long as the timeout', () => {
      expect(() => evaluate({ ...BARE_APPLY, delivery_queue_count: 5, function_config: { deliverRestockBatch: { max_instances: 1000 } }, delivery_lease_ms: 300000 })).not.toThrow();
    });

    test('email over SMTP with its keys, behind a load balancer with a public base URL, and a name prefix are accepted', () => {
      expect(() =>
        evaluate({ ...BARE_APPLY, ...DIRECT_EMAIL, name_prefix: 'stg-', unsubscribe_base_url: 'https://shop.example.com/unsubscribe', function_config: { restockUnsubscribe: { ingress: 'ALLOW_INTERNAL_AND_GCLB' } } }),
      ).not.toThrow();
    });
  },
);
