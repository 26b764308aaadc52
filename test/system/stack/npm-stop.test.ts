/**
 * The local stack as a user runs it, through npm:
 *
 * - the `export` lines `npm start` prints are all another shell needs: with
 *   them alone (no state file) the CLI publishes, follows, redrives and
 *   replays an event;
 * - `npm start &` then `kill $!` (SIGTERM to the npm process, which does not
 *   pass it on) stops the launcher and every component and frees every port;
 *   the same for `npm run tasks-emulator` and SIGINT.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { stripVTControlCharacters } from 'node:util';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { COMPONENT_NAMES, REPO_ROOT, readStateFile, type StackDescription } from '../../../emulators/stack/index.ts';
import { isListening } from '../../../emulators/stack/ports.ts';
import { SinkClient } from '../../helpers/sink.ts';
import { waitFor } from '../../helpers/wait.ts';
import { restock, restockJson } from '../../helpers/cli.ts';
import { groupAlive, processAlive as alive } from '../../../emulators/processes.ts';

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Spawns an npm command the way a shell does and collects what it prints. */
function npm(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn('npm', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  // Colours on (CI=true turns them on) or off, the text is what is asserted.
  return { child, output: () => stripVTControlCharacters(output) };
}

function hostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^https?:\/\//, ''), Number(address.slice(i + 1).replace(/\/$/, ''))];
}

describe('npm start', () => {
  test('its exports alone drive the CLI, and SIGTERM to npm stops every process of the stack', async () => {
    // Prepare: the stack through npm on free ports; deliveries get one attempt so a failing sink exhausts them at once.
    const dir = mkdtempSync(join(tmpdir(), 'restock-npm-start-'));
    const stateFile = join(dir, 'stack.json');
    const portFlags = ['firestore', 'pubsub', 'tasks', 'fan-out', 'deliver', 'subscriptions', 'unsubscribe', 'sink', 'smtp', 'smtp-view', 'fcm', 'webpush', 'inventory', 'relay', 'console'].flatMap((p) => [`--${p}-port`, '0']);
    const { child: npmStart, output } = npm(['start', '--', '--state-file', stateFile, '--dir', dir, ...portFlags, '--env', 'RESTOCK_DELIVERY_MAX_ATTEMPTS=1']);
    await waitFor(() => output().includes('Ctrl-C stops everything') || npmStart.exitCode !== null, { timeoutMs: 170_000, what: 'npm start to be ready' });
    expect(output()).toContain('Restock stack ready');
    const description = readStateFile(stateFile) as StackDescription;
    // The console's URL, recorded in the state file, is printed with the rest.
    expect(output()).toContain(`console ${description.console}/`);
    const exported = Object.fromEntries([...output().matchAll(/^\s*export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'|'$/g, '')]));

    // Act and assess: the CLI with the exported variables only (run-cli hides the state file and every other target variable).
    const productId = `npm-start-${Date.now()}`;
    const api = description.functions.restockSubscriptions.replace(/\/$/, '');
    for (const user of ['u1', 'u2', 'u3']) {
      const put = await fetch(`${api}/v1/products/${productId}/subscriptions/${user}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channels: { email: `${user}@example.com` } }),
      });
      expect(put.status).toBe(201);
    }
    const sink = new SinkClient(description.sink);
    await sink.faults({ productId, retryRate: 1 });
    const cli = { env: exported, timeoutMs: 120_000 };
    const published = await restockJson<{ eventId: string }>(['publish', '--product', productId, '--available', '5', '--previous', '0'], cli);
    const exhausted = await restockJson<{ deliveries: Record<string, number> }>(['status', published.eventId, '--watch', '--interval', '300', '--timeout', '100'], cli);
    expect(exhausted.deliveries).toMatchObject({ exhausted: 3, sent: 0 });

    await sink.clearFaults(productId);
    const redriven = await restock(['redrive', published.eventId, '--yes', '--json'], cli);
    expect(redriven.code, redriven.stderr).toBe(0);
    expect(JSON.parse(redriven.stdout)).toMatchObject({ deliveries: 3 });
    await waitFor(async () => (await sink.stats(productId)).delivered === 3, { timeoutMs: 60_000, what: 'the redriven notifications' });
    const replayed = await restock(['replay', published.eventId, '--yes', '--json'], cli);
    expect(replayed.code, replayed.stderr).toBe(0);
    expect(exported).toMatchObject({ RESTOCK_FIRESTORE_DATABASE: description.firestoreDatabase, RESTOCK_DELIVERY_URL: description.functions.deliverRestockBatch });

    // Act: what `kill $!` after `npm start &` does.
    const npmExited = new Promise<void>((resolve) => npmStart.once('exit', () => resolve()));
    npmStart.kill('SIGTERM');
    await npmExited;

    // Assess: the launcher, every component's process group and every port are gone, and so is the state file.
    await waitFor(() => !alive(description.launcherPid) && COMPONENT_NAMES.every((name) => !groupAlive(description.pids[name])), {
      timeoutMs: 30_000,
      what: 'the launcher and every component to stop',
    });
    const endpoints = [description.firestore, description.pubsub, description.tasks, description.sink, ...Object.values(description.functions)];
    for (const endpoint of endpoints) expect(await isListening(...hostPort(endpoint)), endpoint).toBe(false);
    expect(existsSync(stateFile)).toBe(false);
    // A whole stack start, a restock, a redrive and a stop: more than the suite's default per-test budget on a busy machine.
  }, 420_000);
});

describe('npm run tasks-emulator', () => {
  test('SIGINT to npm stops the emulator and frees its port', async () => {
    // Prepare
    const { child, output } = npm(['run', 'tasks-emulator', '--', '--port', '0']);
    const ready = await waitFor(() => /"emulatorHost":"([^"]+)".*"pid":(\d+)/.exec(output()) ?? (child.exitCode !== null ? null : undefined), {
      timeoutMs: 60_000,
      what: 'the emulator to be ready',
    });
    expect(ready, output()).not.toBeNull();
    const [, address, pid] = ready!;

    // Act
    child.kill('SIGINT');

    // Assess
    await waitFor(() => !alive(Number(pid)), { timeoutMs: 20_000, what: 'the emulator process to exit' });
    expect(await isListening(...hostPort(address!))).toBe(false);
  });
});
