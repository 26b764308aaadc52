/**
 * The launcher keeps its promises: `.local/stack.json` (or the given state
 * file) describes a running stack and disappears with it, a component can be
 * killed and restarted, and stopping — by `stop()`, by SIGTERM to `npm start`,
 * or by the launcher dying outright — leaves no process behind.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  COMPONENT_NAMES,
  ComponentStartError,
  FUNCTION_NAMES,
  REPO_ROOT,
  readStateFile,
  type StackDescription,
} from '../../../emulators/stack/index.ts';
import { freePort, isListening } from '../../../emulators/stack/ports.ts';
import { inventoryEvent, publish } from '../../helpers/factories.ts';
import { accessFor, startStack, type Stack } from '../../helpers/stack.ts';
import { waitFor } from '../../helpers/wait.ts';

/** Whether any process of the group led by `pid` is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `ps` lines of a group, so a failure shows what survived. */
function groupProcesses(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'pid,pgid,ppid,stat,args', '-g', String(pid)], { encoding: 'utf8' });
  } catch {
    return '(none)';
  }
}

const started: Stack[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  await Promise.allSettled(started.map((s) => s.stop()));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('startStack', () => {
  let stack: Stack;
  let dir: string;
  let stateFile: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'restock-stack-'));
    stateFile = join(dir, 'stack.json');
    stack = await startStack({ dir, stateFile });
    started.push(stack);
  });

  it('dead-letters a message after 5 refused pushes to fanOutRestock (the emulator honours the policies)', async () => {
    // Prepare: nothing listens on the push endpoint, so every push fails.
    const access = accessFor(stack.description);
    stack.kill('fanOutRestock', 'SIGKILL');
    await waitFor(() => !stack.isRunning('fanOutRestock'), { what: 'fanOutRestock to die' });
    const eventId = randomUUID();
    const deadLetters: Message[] = [];
    const subscription = access.pubsub.subscription(stack.description.deadLetterSubscription);
    subscription.on('message', (m: Message) => {
      deadLetters.push(m);
      m.ack();
    });

    // Act
    await publish(inventoryEvent(), { eventId }, access);
    const ours = await waitFor(() => deadLetters.find((m) => m.attributes.eventId === eventId), {
      timeoutMs: 90_000,
      what: 'the message on the dead-letter subscription',
    });
    await subscription.close();
    await access.close();

    // Assess
    expect(ours.attributes.CloudPubSubDeadLetterSourceDeliveryCount).toBe('5');
    expect(ours.attributes.CloudPubSubDeadLetterSourceSubscription).toBe(stack.description.subscription);
  });

  it("clearFirestore empties the functions' database and leaves the inventory service's alone (the bench starts each phase on it)", async () => {
    // Prepare: documents nested and at the root of the pipeline's database, one in the inventory service's.
    const access = accessFor(stack.description);
    const productId = `clear-${randomUUID()}`;
    await access.firestore.doc(`products/${productId}`).set({ available: 0 });
    await access.firestore.doc(`products/${productId}/restockSubscriptions/user-1`).set({ channel: 'email' });
    await access.firestore.doc(`fanouts/${productId}`).set({ state: 'complete' });
    await access.inventoryFirestore.doc(`inventoryItems/${productId}`).set({ available: 3 });

    // Act
    await stack.clearFirestore();

    // Assess
    const left = await Promise.all(['products', 'fanouts', `products/${productId}/restockSubscriptions`].map(async (c) => (await access.firestore.collection(c).count().get()).data().count));
    const inventory = await access.inventoryFirestore.doc(`inventoryItems/${productId}`).get();
    await access.close();
    expect(left).toEqual([0, 0, 0]);
    expect(inventory.get('available')).toBe(3);
  });

  it('describes the running stack in its state file, restarts a killed function, and leaves no process after stop', async () => {
    // Prepare
    const written = readStateFile(stateFile);
    const pidsBefore = { ...written!.pids };

    // Act: restart the function killed above (or kill it now), then stop everything.
    if (stack.isRunning('fanOutRestock')) stack.kill('fanOutRestock', 'SIGKILL');
    await waitFor(() => !stack.isRunning('fanOutRestock'), { what: 'fanOutRestock to die' });
    await stack.restart('fanOutRestock');
    const afterRestart = await fetch(stack.description.functions.fanOutRestock, { method: 'POST' });
    const pidsAfterRestart = readStateFile(stateFile)!.pids;
    await stack.stop();

    // Assess
    expect(written).toMatchObject({
      projectId: 'restock-local',
      firestore: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      pubsub: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      tasks: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      sink: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      functions: {
        fanOutRestock: expect.stringMatching(/^http:\/\//),
        deliverRestockBatch: expect.stringMatching(/^http:\/\//),
        restockSubscriptions: expect.stringMatching(/^http:\/\//),
      },
      topic: 'inventory-updated',
      deadLetterSubscription: 'inventory-updated-dead-letter',
      queue: 'projects/restock-local/locations/us-central1/queues/restock-deliveries',
      logsDir: join(dir, 'logs'),
    });
    expect(afterRestart.status).toBeGreaterThanOrEqual(200);
    expect(pidsAfterRestart.fanOutRestock).not.toBe(pidsBefore.fanOutRestock);
    for (const name of COMPONENT_NAMES) {
      expect(existsSync(join(dir, 'logs', `${name}.log`)), `${name}.log`).toBe(true);
      expect(groupAlive(pidsBefore[name]), `${name}: ${groupProcesses(pidsBefore[name])}`).toBe(false);
      expect(groupAlive(pidsAfterRestart[name]), `${name}: ${groupProcesses(pidsAfterRestart[name])}`).toBe(false);
    }
    expect(existsSync(stateFile)).toBe(false);
  });
});

describe('startStack when a component cannot start', () => {
  it('fails with ComponentStartError naming it and quoting its log, and stops the components that did start', async () => {
    // Prepare: a setting the functions refuse at start; fixed ports to check afterwards.
    const [sinkPort, firestorePort] = [await freePort(), await freePort()];

    // Act
    const error = await startStack({ env: { RESTOCK_CHUNK_SIZE: 'lots' }, ports: { sink: sinkPort, firestore: firestorePort } }).then(
      (s) => {
        started.push(s);
        return undefined;
      },
      (err: unknown) => err,
    );

    // Assess
    expect(error).toBeInstanceOf(ComponentStartError);
    expect(FUNCTION_NAMES).toContain((error as ComponentStartError).component);
    expect((error as Error).message).toContain('RESTOCK_CHUNK_SIZE');
    expect(await isListening('127.0.0.1', sinkPort)).toBe(false);
    expect(await isListening('127.0.0.1', firestorePort)).toBe(false);
  });
});

/** Runs `npm start`'s entry point on free ports with its own state file; resolves once it is ready. */
async function startLauncher(dir: string): Promise<{ child: ChildProcess; stateFile: string; description: StackDescription }> {
  const stateFile = join(dir, 'stack.json');
  const portFlags = ['firestore', 'pubsub', 'tasks', 'fan-out', 'deliver', 'subscriptions', 'sink', 'inventory', 'relay'].flatMap((p) => [`--${p}-port`, '0']);
  const child = spawn(process.execPath, ['--import', 'tsx', 'emulators/start.ts', '--state-file', stateFile, '--dir', dir, ...portFlags], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  await waitFor(() => output.includes('Restock stack ready') || child.exitCode !== null, { timeoutMs: 150_000, what: 'npm start to be ready' });
  if (!output.includes('Restock stack ready')) throw new Error(`npm start failed:\n${output}`);
  return { child, stateFile, description: JSON.parse(readFileSync(stateFile, 'utf8')) as StackDescription };
}

describe('npm start', () => {
  it('prints the env exports, and on SIGTERM stops every process group and removes the state file', async () => {
    // Prepare
    const { child, stateFile, description } = await startLauncher(mkdtempSync(join(tmpdir(), 'restock-start-')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // Act
    child.kill('SIGTERM');
    const code = await exited;

    // Assess
    expect(code).toBe(0);
    for (const name of COMPONENT_NAMES) {
      const pid = description.pids[name];
      expect(groupAlive(pid), `${name}: ${groupProcesses(pid)}`).toBe(false);
    }
    expect(existsSync(stateFile)).toBe(false);
  });

  it('leaves no orphans when the launcher is killed with SIGKILL (the watchdog stops them)', async () => {
    // Prepare
    const { child, stateFile, description } = await startLauncher(mkdtempSync(join(tmpdir(), 'restock-kill-')));

    // Act
    child.kill('SIGKILL');

    // Assess
    await waitFor(() => COMPONENT_NAMES.every((name) => !groupAlive(description.pids[name])), {
      timeoutMs: 20_000,
      what: 'every component of the killed launcher to be gone',
    });
    await waitFor(() => !existsSync(stateFile), { timeoutMs: 5_000, what: 'the state file to be removed' });
  });
});
