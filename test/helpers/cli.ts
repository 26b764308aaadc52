/**
 * Runs the real `bin/restock.js` as a subprocess, the way an operator does,
 * pointed at a stack through the standard emulator variables (or, with
 * `stackFile`, through a state file only).
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { emulatorEnv, REPO_ROOT, type StackDescription } from '../../emulators/stack/index.ts';

export const BIN = resolve(REPO_ROOT, 'bin', 'restock.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const TARGET_VARS = /^(GOOGLE_CLOUD_PROJECT|FIRESTORE_EMULATOR_HOST|PUBSUB_EMULATOR_HOST|CLOUD_TASKS_EMULATOR_HOST|RESTOCK_.*|NO_COLOR|FORCE_COLOR|METADATA_SERVER_DETECTION)$/;

/** The parent's environment without anything that would pick a target for the CLI. */
function neutralEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !TARGET_VARS.test(k)) out[k] = v;
  return out;
}

export interface RunOptions {
  /** Point the CLI at this stack through the emulator variables. */
  stack?: StackDescription;
  /** Extra variables (e.g. RESTOCK_TOPIC). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs `restock <args>`; stdin is not a terminal, so prompts cannot be answered. */
export function restock(args: string[], options: RunOptions = {}): Promise<CliRun> {
  const { timeoutMs = 90_000 } = options;
  return new Promise((resolvePromise, reject) => {
    const child = spawnRestock(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`restock ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Starts `restock <args>` and hands back the process, for a test that interrupts it (stdout and stderr are pipes). */
export function spawnRestock(args: string[], { stack, env = {} }: RunOptions = {}): ChildProcessByStdio<null, Readable, Readable> {
  const fullEnv = { ...neutralEnv(), RESTOCK_STACK_FILE: resolve(REPO_ROOT, '.local', 'no-such-stack.json'), ...(stack ? emulatorEnv(stack) : {}), ...env };
  return spawn(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs a `--json` command that must succeed and parses its stdout. */
export async function restockJson<T = Record<string, unknown>>(args: string[], options: RunOptions = {}): Promise<T> {
  const r = await restock([...args, '--json'], options);
  if (r.code !== 0) throw new Error(`restock ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
