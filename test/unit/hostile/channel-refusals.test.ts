/**
 * Issue 31, item 10: channel settings that would send in clear refuse to
 * start delivery outside the emulators: SMTP without required TLS, and an
 * http: FCM endpoint (the OAuth token of the function's account travels in it).
 */
import { describe, expect, test } from 'vitest';
import { deploymentProblems, parseConfig } from '../../../lib/config.ts';

const PRODUCTION: Record<string, string> = {
  GOOGLE_CLOUD_PROJECT: 'shop-prod-1',
  RESTOCK_DELIVERY_URL: 'https://deliverrestockbatch-123.us-central1.run.app',
  RESTOCK_FANOUT_URL: 'https://fanoutrestock-123.us-central1.run.app',
  RESTOCK_TASKS_SERVICE_ACCOUNT: 'restock-tasks@shop-prod-1.iam.gserviceaccount.com',
  RESTOCK_PUSH_SERVICE_ACCOUNT: 'restock-push@shop-prod-1.iam.gserviceaccount.com',
  RESTOCK_NOTIFIER_URL: 'https://notify.example.com',
  RESTOCK_TASK_SIGNING_KEYS: 't'.repeat(32),
};

const refusals = (env: Record<string, string>) => deploymentProblems(parseConfig({ ...PRODUCTION, ...env }), 'deliverRestockBatch').map((e) => e.variable);

describe('outside the emulators delivery refuses channels in clear', () => {
  test('RESTOCK_SMTP_REQUIRE_TLS=false with the smtp sender', () => {
    expect(refusals({ RESTOCK_EMAIL_SENDER: 'smtp', RESTOCK_SMTP_REQUIRE_TLS: 'false' })).toContain('RESTOCK_SMTP_REQUIRE_TLS');
  });

  test('an http: FCM endpoint with the fcm sender', () => {
    expect(refusals({ RESTOCK_PUSH_SENDER: 'fcm', RESTOCK_FCM_ENDPOINT: 'http://fcm.example.com' })).toContain('RESTOCK_FCM_ENDPOINT');
  });

  test('the production defaults pass', () => {
    expect(refusals({ RESTOCK_EMAIL_SENDER: 'smtp', RESTOCK_PUSH_SENDER: 'fcm' })).toEqual([]);
  });

  test('on the emulators the local stack may use both (its mail server offers no TLS)', () => {
    const local = { FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080', RESTOCK_EMAIL_SENDER: 'smtp', RESTOCK_SMTP_REQUIRE_TLS: 'false', RESTOCK_PUSH_SENDER: 'fcm', RESTOCK_FCM_ENDPOINT: 'http://127.0.0.1:8092' };
    expect(refusals(local)).toEqual([]);
  });
});
