/**
 * `.local/stack.json`: how the demo, the CLI and tests find a stack started
 * by `npm start`. Written once the stack is ready, removed when it stops.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLocalStack } from '../../lib/local-stack.ts';
import type { StackDescription } from './description.ts';
import { httpStatus } from './ports.ts';
import { processAlive } from '../processes.ts';

/** The repository root (two levels above this file). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where `npm start` describes its stack. */
export const DEFAULT_STATE_FILE = resolve(REPO_ROOT, '.local', 'stack.json');

/** Writes the description atomically (a reader never sees half a file). */
export function writeStateFile(path: string, description: StackDescription): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(description, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

/** Removes the file if it still describes the stack of `launcherPid` (another stack may have replaced it). */
export function removeStateFile(path: string, launcherPid: number): void {
  const current = readStateFile(path);
  if (current === undefined || current.launcherPid === launcherPid) rmSync(path, { force: true });
}

/**
 * The description in the file, or undefined when there is none or it is not a
 * stack description (lib/local-stack.ts, the one parser of the file).
 */
export function readStateFile(path: string = DEFAULT_STATE_FILE): StackDescription | undefined {
  try {
    return parseLocalStack(readFileSync(path, 'utf8'), path) as unknown as StackDescription;
  } catch {
    return undefined;
  }
}

/**
 * The stack described by the state file if it is really running: its launcher
 * is alive and its sink answers. A stale file (a launcher killed with -9) is
 * treated as no stack.
 */
export async function findRunningStack(path: string = DEFAULT_STATE_FILE): Promise<StackDescription | undefined> {
  const description = readStateFile(path);
  if (!description || !processAlive(description.launcherPid)) return undefined;
  const status = await httpStatus(`${description.sink}/healthz`);
  return status === 200 ? description : undefined;
}
