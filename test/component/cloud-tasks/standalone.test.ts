/**
 * The emulator as a process, the way the local stack and people run it:
 * `tasks-emulator --host --port --queue`, one readiness line, a debug log
 * line per dispatch attempt, the `stats` view, and a clean exit on signals.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { grpcClientOptions } from '../../../emulators/cloud-tasks/index.ts';
import { CloudTasksClient } from '@google-cloud/tasks';
import { startReceiver, type Receiver } from './helpers.ts';

const MAIN = 'emulators/cloud-tasks/main.ts';
const QUEUE = 'projects/standalone/locations/us-central1/queues/from-cli';

interface Running {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  ready: Record<string, unknown>;
  exited: Promise<number | null>;
}

/** Starts main.ts directly under node (no npm/tsx wrapper between the test and the signal). */
async function startProcess(...args: string[]): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no readiness line within 30 s')), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (String(entry.message).includes('ready')) {
        clearTimeout(timer);
        resolve(entry);
      }
    });
    void exited.then((code) => reject(new Error(`exited with ${code} before it was ready`)));
  });
  return { child, lines, ready, exited };
}

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe('tasks-emulator command', () => {
  test('prints one readiness line, creates --queue, logs each attempt at debug, and exits 0 on SIGTERM', async () => {
    // Prepare
    const running = await startProcess('--host', '127.0.0.1', '--queue', QUEUE, '--log-level', 'debug');
    const address = String(running.ready.emulatorHost);
    const client = new CloudTasksClient(grpcClientOptions(address));
    try {
      // Act
      await client.createTask({ parent: QUEUE, task: { name: `${QUEUE}/tasks/cli-1`, httpRequest: { url: `${receiver.url}/cli` } } });
      await receiver.waitFor(1);
      const stats = await promisify(execFile)(process.execPath, ['--import', 'tsx', MAIN, 'stats', '--address', address]);
      running.child.kill('SIGTERM');
      const code = await running.exited;
      // Assess
      expect(running.lines[0]).toBe(running.ready);
      expect(running.ready).toMatchObject({ severity: 'INFO', emulatorHost: expect.stringMatching(/^127\.0\.0\.1:\d+$/), queues: [QUEUE] });
      const attempt = running.lines.find((l) => l.message === 'task dispatch attempt');
      expect(attempt).toMatchObject({ severity: 'DEBUG', task: `${QUEUE}/tasks/cli-1`, attempt: 1, status: 200 });
      expect(typeof attempt!.latencyMs).toBe('number');
      expect(stats.stdout).toMatch(new RegExp(`${QUEUE}\\s+RUNNING\\s+0\\s+0\\s+0\\s+1`));
      expect(code).toBe(0);
    } finally {
      await client.close();
      running.child.kill('SIGKILL');
    }
  });

  test('exits 0 on SIGINT, and logs no attempts at the default level', async () => {
    const running = await startProcess('--queue', QUEUE);
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(0);
    expect(running.lines.filter((l) => l.severity === 'DEBUG')).toHaveLength(0);
  });
});
