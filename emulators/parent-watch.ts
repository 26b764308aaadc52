/**
 * Notices when the command that started a foreground tool is gone.
 *
 * `npm start` runs `npm → sh -c → tsx → node`. `kill <npm pid>` (what
 * `npm start &` then `kill $!` does) ends npm without passing the signal on,
 * and the tool keeps running under a live `tsx` that nobody owns any more,
 * holding its ports. So a tool started through such wrappers watches each of
 * them and stops itself when one disappears, as if it had been sent SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { processAlive as alive } from './processes.ts';

/** A launcher that owns the tool: a package manager running a script, or the tsx CLI. */
const LAUNCHER = /^(\S*\/)?(npm|npx|pnpm|yarn)(\s|$)|\/(npm-cli|npx-cli|pnpm|yarn)\.c?js(\s|$)|^(\S*\/)?node \S*\/(\.bin\/tsx|tsx\/dist\/cli\.m?js)(\s|$)|^(\S*\/)?tsx(\s|$)/;
/** The `sh -c` a package manager runs a script through: passed through, never watched on its own. */
const SCRIPT_SHELL = /^(\S*\/)?(sh|dash|bash) -c /;

interface ProcessInfo {
  ppid: number;
  args: string;
}

function info(pid: number): ProcessInfo | undefined {
  try {
    const line = execFileSync('ps', ['-o', 'ppid=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const match = /^(\d+)\s+(.*)$/.exec(line);
    return match ? { ppid: Number(match[1]), args: match[2]! } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which of `chain` (the ancestors' command lines, nearest first) to watch:
 * every process up to the outermost package manager or tsx of the unbroken
 * run of launchers and script shells above the tool. A shell above the
 * outermost launcher (`sh -c 'npm start &'`, which exits at once) is not
 * watched. Pure.
 */
export function launchersToWatch(chain: string[]): number {
  let watched = 0;
  for (let i = 0; i < chain.length; i++) {
    const args = chain[i]!;
    if (LAUNCHER.test(args)) watched = i + 1;
    else if (!SCRIPT_SHELL.test(args)) break;
  }
  return watched;
}

/** The launcher processes above `pid` that own it, nearest first (see {@link launchersToWatch}). */
export function wrapperAncestors(pid = process.pid): number[] {
  const pids: number[] = [];
  const chain: string[] = [];
  let current = info(pid)?.ppid;
  for (let depth = 0; current !== undefined && current > 1 && depth < 8; depth++) {
    const ancestor = info(current);
    if (!ancestor) break;
    pids.push(current);
    chain.push(ancestor.args);
    current = ancestor.ppid;
  }
  return pids.slice(0, launchersToWatch(chain));
}

/**
 * Calls `onGone` once, when any wrapper above this process has exited.
 * Polls every `intervalMs` (unref'd: it never keeps the process alive).
 * Returns a function that stops watching.
 */
export function watchWrappers(onGone: (pid: number) => void, intervalMs = 500): () => void {
  const watched = wrapperAncestors();
  if (watched.length === 0) return () => {};
  const timer = setInterval(() => {
    const gone = watched.find((pid) => !alive(pid));
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
