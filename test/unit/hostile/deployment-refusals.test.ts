/**
 * Settings that would leave a function open, or lose notifications, stop it
 * at start outside the emulators (each naming its variable); on the
 * emulators the local stack may relax them.
 */
import { describe, expect, test } from 'vitest';
import { deploymentProblems, parseConfig, type FunctionName } from '../../../lib/config.ts';

/** What Terraform gives the functions, in substance: every protection on. */
const PRODUCTION: Record<string, string> = {
  GOOGLE_CLOUD_PROJECT: 'shop-prod-1',
  RESTOCK_DELIVERY_URL: 'https://us-central1-shop-prod-1.cloudfunctions.net/deliverRestockBatch',
  RESTOCK_FANOUT_URL: 'https://us-central1-shop-prod-1.cloudfunctions.net/fanOutRestock',
  RESTOCK_TASKS_SERVICE_ACCOUNT: 'restock-tasks@shop-prod-1.iam.gserviceaccount.com',
  RESTOCK_OIDC_ALLOWED_EMAILS: 'restock-tasks@shop-prod-1.iam.gserviceaccount.com',
  RESTOCK_PUSH_SERVICE_ACCOUNT: 'restock-push@shop-prod-1.iam.gserviceaccount.com',
  RESTOCK_NOTIFIER_URL: 'https://notify.example.com',
  RESTOCK_TASK_SIGNING_KEYS: 't'.repeat(32),
  RESTOCK_STOREFRONT_TENANTS: 'storefront@shop-prod-1.iam.gserviceaccount.com=*',
  RESTOCK_BEHIND_CLOUD_RUN_IAM: 'true',
  // Email through the notification service: double opt-in off by name (terraform double_opt_in, docs/privacy.md).
  RESTOCK_DOUBLE_OPT_IN: 'none',
  RESTOCK_PSEUDONYM_KEY: 'p'.repeat(32),
};

function refusals(fn: FunctionName, overrides: Record<string, string | undefined>): string[] {
  return deploymentProblems(parseConfig({ ...PRODUCTION, ...overrides }), fn).map((e) => e.variable);
}

describe('outside the emulators', () => {
  test('the production settings start every function', () => {
    for (const fn of ['fanOutRestock', 'deliverRestockBatch', 'restockSubscriptions'] as const) expect(refusals(fn, {})).toEqual([]);
  });

  const cases: [string, FunctionName[], Record<string, string | undefined>, string][] = [
    ['an allow list of only commas and blanks, and no tasks service account', ['deliverRestockBatch', 'fanOutRestock'], { RESTOCK_OIDC_ALLOWED_EMAILS: ' , ', RESTOCK_TASKS_SERVICE_ACCOUNT: undefined }, 'RESTOCK_OIDC_ALLOWED_EMAILS'],
    ['no allow list and no tasks service account', ['deliverRestockBatch', 'fanOutRestock'], { RESTOCK_OIDC_ALLOWED_EMAILS: undefined, RESTOCK_TASKS_SERVICE_ACCOUNT: undefined }, 'RESTOCK_OIDC_ALLOWED_EMAILS'],
    ['token verification turned off', ['deliverRestockBatch', 'fanOutRestock'], { RESTOCK_VERIFY_OIDC: 'false' }, 'RESTOCK_VERIFY_OIDC'],
    ['signing keys fetched over http', ['deliverRestockBatch', 'fanOutRestock', 'restockSubscriptions'], { RESTOCK_OIDC_JWKS_URL: 'http://keys.example/certs' }, 'RESTOCK_OIDC_JWKS_URL'],
    ['push verification turned off', ['fanOutRestock'], { RESTOCK_VERIFY_PUSH_OIDC: 'false' }, 'RESTOCK_VERIFY_PUSH_OIDC'],
    ['no push service account', ['fanOutRestock'], { RESTOCK_PUSH_SERVICE_ACCOUNT: undefined }, 'RESTOCK_PUSH_SERVICE_ACCOUNT'],
    ['the log notifier', ['deliverRestockBatch'], { RESTOCK_NOTIFIER: 'log' }, 'RESTOCK_NOTIFIER'],
    ['a notification service over http', ['deliverRestockBatch'], { RESTOCK_NOTIFIER_URL: 'http://notify.example.com' }, 'RESTOCK_NOTIFIER_URL'],
  ];
  const subscriptionCases: [string, Record<string, string | undefined>, string][] = [
    ['no tenants (every invoker would act for every shopper)', { RESTOCK_STOREFRONT_TENANTS: undefined }, 'RESTOCK_STOREFRONT_TENANTS'],
    ["not behind Cloud Run's IAM check (no caller could be named)", { RESTOCK_BEHIND_CLOUD_RUN_IAM: 'false' }, 'RESTOCK_BEHIND_CLOUD_RUN_IAM'],
    ['double opt-in on push while push is only logged (a confirmation nobody receives)', { RESTOCK_DOUBLE_OPT_IN: 'email,push', RESTOCK_PUSH_SENDER: 'log' }, 'RESTOCK_DOUBLE_OPT_IN'],
    ['double opt-in on email through a notification service over http (the address and its link in clear)', { RESTOCK_DOUBLE_OPT_IN: 'email', RESTOCK_NOTIFIER_URL: 'http://notify.example.com' }, 'RESTOCK_NOTIFIER_URL'],
  ];
  test.each(['restockSubscriptions', 'restockUnsubscribe', 'applyShopperActions'] as const)(
    '%s refuses to start without RESTOCK_PSEUDONYM_KEY (user ids in its logs would be keyed with the public built-in key)',
    (fn) => {
      expect(refusals(fn, {})).toEqual([]);
      expect(refusals(fn, { RESTOCK_PSEUDONYM_KEY: undefined })).toContain('RESTOCK_PSEUDONYM_KEY');
    },
  );
  test('double opt-in on every channel starts while the notification service carries them (confirmations go the way of notifications)', () => {
    expect(refusals('restockSubscriptions', { RESTOCK_DOUBLE_OPT_IN: 'email,push,webpush' })).toEqual([]);
  });
  test('functions that log no user id start without it', () => {
    for (const fn of ['fanOutRestock', 'deliverRestockBatch', 'relayOutbox'] as const) expect(refusals(fn, { RESTOCK_PSEUDONYM_KEY: undefined })).not.toContain('RESTOCK_PSEUDONYM_KEY');
  });
  for (const [name, overrides, variable] of subscriptionCases) {
    test(`${name}: restockSubscriptions refuses to start, naming ${variable} (issue 31, item 3)`, () => {
      expect(refusals('restockSubscriptions', overrides)).toContain(variable);
    });
  }
  for (const [name, functions, overrides, variable] of cases) {
    test(`${name}: ${functions.join(' and ')} refuse to start, naming ${variable}`, () => {
      for (const fn of functions) expect(refusals(fn, overrides)).toContain(variable);
      if (!functions.includes('restockSubscriptions')) expect(refusals('restockSubscriptions', overrides)).toEqual([]);
    });
  }
});

describe('on the emulators', () => {
  test('the local stack may relax them (no push tokens from the Pub/Sub emulator, the log notifier)', () => {
    const relaxed = { FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080', RESTOCK_VERIFY_PUSH_OIDC: 'false', RESTOCK_NOTIFIER: 'log', RESTOCK_PUSH_SERVICE_ACCOUNT: undefined };
    expect(refusals('fanOutRestock', relaxed)).toEqual([]);
    expect(refusals('deliverRestockBatch', relaxed)).toEqual([]);
  });
});
