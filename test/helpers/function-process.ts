/**
 * One function in a process of its own (functions-framework over HTTP, as the
 * stack runs it), pointed at the shared stack's emulators with settings of the
 * test's choosing: for what must not share a process with other test files
 * (memory measurements) or needs settings the shared stack does not have.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../emulators/stack/index.ts';
import { freePort, isListening } from '../../emulators/stack/ports.ts';
import { stack, waitFor } from './index.ts';

export type FunctionName = 'fanOutRestock' | 'deliverRestockBatch' | 'restockSubscriptions';
/** Every function a test may start on its own (the outbox relay too). */
export type AnyFunctionName = FunctionName | 'relayOutbox' | 'restockUnsubscribe' | 'applyShopperActions';
const FUNCTIONS_FRAMEWORK_MAIN = join(dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')), 'main.js');

export interface FunctionProcess {
  /** The function's base URL, ending in `/`. */
  url: string;
  child: ChildProcess;
  stop(): void;
}

function spawnFunction(name: AnyFunctionName, port: number, env: Record<string, string | undefined>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', FUNCTIONS_FRAMEWORK_MAIN, `--target=${name}`, `--source=functions/${name}.ts`, `--port=${port}`], {
    cwd: REPO_ROOT,
    env: Object.fromEntries(Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, METADATA_SERVER_DETECTION: 'none', ...env }).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Starts `name` with the shared stack's environment plus `env` (undefined removes a variable) and waits until it listens.
 * `port` when the function must know its own URL before it starts (a delivery function that enqueues tasks to itself).
 */
export async function startFunction(name: AnyFunctionName, env: Record<string, string | undefined> = {}, port?: number): Promise<FunctionProcess> {
  port ??= await freePort();
  const child = spawnFunction(name, port, { ...stack().description.env, LOG_LEVEL: 'warn', ...env });
  child.stdout!.resume();
  child.stderr!.resume();
  await waitFor(() => isListening('127.0.0.1', port), { timeoutMs: 60_000, what: `${name} listening` });
  return { url: `http://127.0.0.1:${port}/`, child, stop: () => child.kill('SIGKILL') };
}

/**
 * Starts `name` with exactly `env` and resolves to how it ended: a function
 * whose settings it refuses exits at start. Kills it (and says so) if it is
 * still running after `timeoutMs`.
 */
export async function startExpectingExit(name: AnyFunctionName, env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<{ code: number | null; output: string; stillRunning: boolean }> {
  const port = await freePort();
  const child = spawnFunction(name, port, env);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, output, stillRunning: true });
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, stillRunning: false });
    });
  });
}
