/**
 * The delivery function refuses to start when a chosen channel sender lacks
 * its settings, naming the setting, instead of failing at the first restock.
 * Served exactly as the stack serves them (functions-framework, one process each).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';
import { templatesDir } from '../../helpers/templates-dir.ts';

const require = createRequire(import.meta.url);
const FRAMEWORK_MAIN = join(dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');

/** Starts one function with `env` and resolves its exit code and output (or 'running' after `waitMs`). */
function serve(target: string, env: Record<string, string>, waitMs = 45_000): Promise<{ code: number | null | 'running'; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FRAMEWORK_MAIN, `--target=${target}`, `--source=functions/${target}.ts`, '--port=0'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', METADATA_SERVER_DETECTION: 'none', GOOGLE_CLOUD_PROJECT: 'restock-local', ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'running', output });
    }, waitMs);
    // functions-framework prints its URL once the function module loaded and the server listens: it started.
    const started = () => {
      if (!/URL: http/.test(output)) return;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ code: 'running', output });
    };
    child.stdout.on('data', started);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('starting with a channel sender chosen but not configured', () => {
  test('deliverRestockBatch with RESTOCK_EMAIL_SENDER=smtp and no SMTP host exits at start naming RESTOCK_SMTP_HOST', async () => {
    // Act
    const { code, output } = await serve('deliverRestockBatch', { RESTOCK_NOTIFIER: 'log', RESTOCK_EMAIL_SENDER: 'smtp', RESTOCK_EMAIL_FROM: 'r@shop.example' });
    // Assess
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);
    expect(output).toContain('RESTOCK_SMTP_HOST: is required when RESTOCK_EMAIL_SENDER=smtp');
  }, 60_000);
});

describe('starting the subscription API with a channel to confirm whose sender is not configured', () => {
  test('restockSubscriptions with RESTOCK_DOUBLE_OPT_IN=webpush and no VAPID key exits at start naming the key and RESTOCK_DOUBLE_OPT_IN', async () => {
    // Act: on the emulators (no production refusal applies), web push chosen and its keys missing.
    const { code, output } = await serve('restockSubscriptions', {
      FIRESTORE_EMULATOR_HOST: '127.0.0.1:1',
      RESTOCK_DOUBLE_OPT_IN: 'webpush',
      RESTOCK_WEBPUSH_SENDER: 'webpush',
      RESTOCK_UNSUBSCRIBE_URL: 'http://127.0.0.1:1',
      RESTOCK_UNSUBSCRIBE_SECRET: 'k'.repeat(32),
    });
    // Assess
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);
    expect(output).toContain('RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: is required when RESTOCK_DOUBLE_OPT_IN names webpush');
  }, 60_000);
});

/**
 * Production's settings for delivery (no emulator: the refusals that protect
 * production apply) with every channel on its direct sender, and no
 * notification service at all.
 */
const EVERY_CHANNEL_DIRECT = {
  RESTOCK_EMAIL_SENDER: 'smtp',
  RESTOCK_PUSH_SENDER: 'fcm',
  RESTOCK_WEBPUSH_SENDER: 'webpush',
  RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: 'BDHzfHbFzAFcPEtEgIPKNwtmfs6tgDHWEyEFpMNmT8gKVXKTALOw2yHt10cdNSOlAwemaHAWg2VxduX62fL2Jig',
  RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: 'iNZDU8CmwCwvARcmfigexKM3PdbJut0gTNZoEmksl3c',
  RESTOCK_WEBPUSH_SUBJECT: 'mailto:ops@shop.example',
  RESTOCK_SMTP_HOST: 'smtp.example.com',
  RESTOCK_EMAIL_FROM: 'Shop <restock@shop.example>',
  RESTOCK_UNSUBSCRIBE_URL: 'https://unsubscribe.shop.example',
  RESTOCK_UNSUBSCRIBE_SECRET: 'an-unsubscribe-key-of-more-than-32-bytes',
  RESTOCK_TASKS_SERVICE_ACCOUNT: 'tasks@shop-prod.iam.gserviceaccount.com',
  RESTOCK_TASK_SIGNING_KEYS: 'a-task-signing-key-of-more-than-32-bytes',
  RESTOCK_METRICS_EXPORTER: 'none',
};

describe('every channel direct (issue 36)', () => {
  // RESTOCK_NOTIFIER=log no channel uses was refused before issue 36, as if it would lose notifications.
  test.each(['http', 'log'])('deliverRestockBatch starts outside the emulators without RESTOCK_NOTIFIER_URL or a token (RESTOCK_NOTIFIER=%s, unused)', async (notifier) => {
    const { code, output } = await serve('deliverRestockBatch', { ...EVERY_CHANNEL_DIRECT, RESTOCK_NOTIFIER: notifier });
    expect(output).not.toContain('RESTOCK_NOTIFIER');
    expect(code).toBe('running');
  }, 60_000);

  test('with one channel left to the notification service, the same settings stop it at start naming RESTOCK_NOTIFIER_URL', async () => {
    const { RESTOCK_PUSH_SENDER: _push, ...pushFollowsNotifier } = EVERY_CHANNEL_DIRECT;
    const { code, output } = await serve('deliverRestockBatch', pushFollowsNotifier);
    expect(code).not.toBe('running');
    expect(output).toContain('RESTOCK_NOTIFIER_URL: is required when RESTOCK_NOTIFIER=http');
  }, 60_000);
});

describe('the shop\'s message templates (issue 36)', () => {
  /** A templates directory holding `files` (path → text). */

  test('deliverRestockBatch with a template naming an unknown variable exits at start with one line naming the file and the line', async () => {
    // Prepare
    const dir = templatesDir({ 'email/en/subject.liquid': 'Back in stock:\n{{ product.title }}\n' });
    // Act
    const { code, output } = await serve('deliverRestockBatch', { ...EVERY_CHANNEL_DIRECT, RESTOCK_TEMPLATES_DIR: dir });
    // Assess
    expect(code).not.toBe('running');
    expect(code).not.toBe(0);
    expect(output).toContain(`RESTOCK_TEMPLATES_DIR: ${join(dir, 'email/en/subject.liquid')} line 2: unknown variable "product.title"`);
    // One structured ERROR line says it, as Cloud Logging shows it.
    const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { severity?: string; message?: string; refusal?: string });
    expect(lines.filter((l) => l.severity === 'ERROR')).toEqual([
      expect.objectContaining({ refusal: 'TemplateError', message: expect.stringContaining(`deliverRestockBatch refused to start: RESTOCK_TEMPLATES_DIR: ${join(dir, 'email/en/subject.liquid')} line 2`) }),
    ]);
  }, 60_000);

  test('deliverRestockBatch with a directory of good templates starts', async () => {
    const dir = templatesDir({ 'email/en/subject.liquid': 'Back: {{ product.name }}', 'push/de/title.liquid': 'Wieder da', 'push/de/body.liquid': '{{ product.name }}' });
    const { code, output } = await serve('deliverRestockBatch', { ...EVERY_CHANNEL_DIRECT, RESTOCK_TEMPLATES_DIR: dir });
    expect(output).not.toContain('RESTOCK_TEMPLATES_DIR');
    expect(code).toBe('running');
  }, 60_000);
});
