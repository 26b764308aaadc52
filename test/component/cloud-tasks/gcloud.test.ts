/**
 * The `gcloud tasks` CLI against the emulator, pointed at it only by
 * CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDTASKS, with credentials disabled:
 * queue lifecycle, HTTP tasks that reach the receiver with their OIDC token,
 * name reuse, run, purge and delete.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';
import { startReceiver, type Receiver } from './helpers.ts';

const run = promisify(execFile);
const PROJECT = 'gcloud-conformance';
const LOCATION = 'us-central1';
const SERVICE_ACCOUNT = 'tasks@gcloud-conformance.iam.gserviceaccount.com';

let emulator: CloudTasksEmulator;
let receiver: Receiver;
let configDir: string;

beforeAll(async () => {
  receiver = await startReceiver();
  emulator = await startCloudTasksEmulator({ port: 0, logLevel: 'warn' });
  configDir = mkdtempSync(path.join(tmpdir(), 'gcloud-tasks-'));
});
afterAll(async () => {
  await emulator?.stop();
  await receiver?.close();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gcloud tasks ...` against the emulator; never throws on a non-zero exit. */
async function gcloud(...args: string[]): Promise<Result> {
  const env = {
    ...process.env,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDTASKS: `${emulator.restUrl}/`,
    CLOUDSDK_AUTH_DISABLE_CREDENTIALS: 'true',
    CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    CLOUDSDK_CONFIG: configDir,
    CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
    CLOUDSDK_CORE_DISABLE_USAGE_REPORTING: '1',
  };
  try {
    const { stdout, stderr } = await run('gcloud', ['tasks', ...args, `--project=${PROJECT}`, `--location=${LOCATION}`], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('gcloud tasks', () => {
  // Every gcloud call costs a Python start (~2 s on a busy machine), so each test makes as few as it can.
  test('creates, updates, pauses, lists and deletes a queue', async () => {
    const created = await gcloud('queues', 'create', 'lifecycle', '--max-attempts=3', '--min-backoff=0.5s', '--max-dispatches-per-second=20');
    expect(created.code, created.stderr).toBe(0);
    expect((await gcloud('queues', 'update', 'lifecycle', '--max-attempts=7')).code).toBe(0);
    expect((await gcloud('queues', 'pause', 'lifecycle')).code).toBe(0);
    const listed = JSON.parse((await gcloud('queues', 'list', '--format=json')).stdout) as Array<{ name: string }>;
    expect(listed.find((q) => q.name.endsWith('/lifecycle'))).toEqual({
      name: `projects/${PROJECT}/locations/${LOCATION}/queues/lifecycle`,
      state: 'PAUSED',
      rateLimits: { maxDispatchesPerSecond: 20, maxConcurrentDispatches: 1000, maxBurstSize: 4 },
      retryConfig: { maxAttempts: 7, minBackoff: '0.500s', maxBackoff: '3600s', maxDoublings: 16, maxRetryDuration: '0s' },
    });
    expect((await gcloud('queues', 'delete', 'lifecycle', '--quiet')).code).toBe(0);
    expect((await emulator.stats()).queues.map((q) => q.name)).not.toContain(`projects/${PROJECT}/locations/${LOCATION}/queues/lifecycle`);
  });

  test('an HTTP task reaches the target with its body, header and a verifiable OIDC token; its name cannot be reused', async () => {
    // Prepare
    expect((await gcloud('queues', 'create', 'http-tasks')).code).toBe(0);
    const audience = 'https://deliver.example.run.app';
    const before = receiver.received.length;
    const task = [
      'create-http-task', 'from-gcloud', '--queue=http-tasks', `--url=${receiver.url}/from-gcloud`,
      '--header=Content-Type:application/json', '--body-content={"via":"gcloud"}',
      `--oidc-service-account-email=${SERVICE_ACCOUNT}`, `--oidc-token-audience=${audience}`,
    ];
    // Act
    const created = await gcloud(...task);
    const all = await receiver.waitFor(before + 1);
    const again = await gcloud(...task);
    // Assess
    expect(created.code, created.stderr).toBe(0);
    const r = all.at(-1)!;
    expect(r.path).toBe('/from-gcloud');
    expect(r.body).toBe('{"via":"gcloud"}');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-cloudtasks-taskname']).toBe('from-gcloud');
    const token = String(r.headers.authorization).replace(/^Bearer /, '');
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(emulator.jwksUrl)), { issuer: emulator.oidcIssuer, audience });
    expect(payload.email).toBe(SERVICE_ACCOUNT);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/ALREADY_EXISTS|already exists/i);
  });

  test('lists tasks, runs one before its time, and purges the rest', async () => {
    // Prepare
    expect((await gcloud('queues', 'create', 'ops')).code).toBe(0);
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const created = await Promise.all(['a', 'b'].map((id) => gcloud('create-http-task', id, '--queue=ops', `--url=${receiver.url}/ops-${id}`, `--schedule-time=${later}`)));
    expect(created.map((r) => r.code)).toEqual([0, 0]);
    // Act
    const listed = JSON.parse((await gcloud('list', '--queue=ops', '--format=json')).stdout) as Array<{ name: string }>;
    const before = receiver.received.length;
    const ran = await gcloud('run', 'a', '--queue=ops');
    const all = await receiver.waitFor(before + 1);
    const purged = await gcloud('queues', 'purge', 'ops', '--quiet');
    const after = (await emulator.stats()).queues.find((q) => q.name.endsWith('/queues/ops'));
    // Assess
    expect(listed.map((t) => t.name.split('/').at(-1)).sort()).toEqual(['a', 'b']);
    expect(ran.code, ran.stderr).toBe(0);
    expect(all.at(-1)!.path).toBe('/ops-a');
    expect(purged.code, purged.stderr).toBe(0);
    expect(after).toMatchObject({ depth: 0, counters: { purged: 1, succeeded: 1 } });
  });

  test('an invalid queue id is refused with INVALID_ARGUMENT', async () => {
    const res = await gcloud('queues', 'create', 'bad_queue');
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/INVALID_ARGUMENT|invalid/i);
  });
});
