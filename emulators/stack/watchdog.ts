/**
 * Orphan guard: `tsx emulators/stack/watchdog.ts <launcherPid> <pidsFile> [stateFile]`.
 *
 * Runs in its own process group next to the stack. When the launcher dies
 * without stopping the stack (SIGKILL, a crash, a test runner that exits
 * abruptly), it stops every process group listed in the pids file (SIGTERM,
 * then SIGKILL) and removes the state file. When the pids file disappears
 * (a normal stop), it exits quietly.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processAlive as alive } from '../processes.ts';

const [launcherArg, pidsFile, stateFile] = process.argv.slice(2);
const launcherPid = Number(launcherArg);
const POLL_MS = 500;
const GRACE_MS = 3_000;

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function readPids(): number[] {
  try {
    return Object.values(JSON.parse(readFileSync(pidsFile!, 'utf8')) as Record<string, number>);
  } catch {
    return [];
  }
}

if (!pidsFile || !Number.isInteger(launcherPid)) {
  process.stderr.write('usage: watchdog.ts <launcherPid> <pidsFile> [stateFile]\n');
  process.exit(2);
}

for (;;) {
  await sleep(POLL_MS);
  if (!existsSync(pidsFile)) process.exit(0);
  if (alive(launcherPid)) continue;
  const pids = readPids();
  for (const pid of pids) signalGroup(pid, 'SIGTERM');
  await sleep(GRACE_MS);
  for (const pid of pids) signalGroup(pid, 'SIGKILL');
  rmSync(pidsFile, { force: true });
  if (stateFile) {
    try {
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { launcherPid?: number };
      if (state.launcherPid === launcherPid) rmSync(stateFile, { force: true });
    } catch {
      // no state file
    }
  }
  process.exit(0);
}
