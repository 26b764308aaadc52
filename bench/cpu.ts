/**
 * CPU time of the stack's components, to say where a run's time went: each
 * component leads its own process group (the Java emulators run under a
 * wrapper), so a component's CPU is the sum over the processes of its group,
 * read from `/proc/<pid>/stat` (Linux).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** CPU seconds per named component. */
export type CpuSeconds = Record<string, number>;

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ; 100 on every Linux Node runs on). */
const TICKS_PER_SECOND = 100;

/**
 * The process group and user+system CPU ticks of one `/proc/<pid>/stat` line. Pure.
 * The command name may hold spaces and parentheses, so fields are counted from its last `)`.
 */
export function parseStat(stat: string): { pgrp: number; ticks: number } | undefined {
  const end = stat.lastIndexOf(') ');
  if (end < 0) return undefined;
  const f = stat.slice(end + 2).split(' ');
  // After the name: state(0) ppid(1) pgrp(2) ... utime(11) stime(12).
  const pgrp = Number(f[2]);
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(pgrp) && Number.isFinite(ticks) ? { pgrp, ticks } : undefined;
}

/**
 * CPU seconds used so far by each process group in `groups` (name → group id),
 * counting the live processes of each group. Processes that already exited are
 * not counted, so read it around a phase, not across restarts.
 */
export function cpuSecondsByGroup(groups: Record<string, number>): CpuSeconds {
  const byId = new Map(Object.entries(groups).map(([name, pgid]) => [pgid, name]));
  const out: CpuSeconds = Object.fromEntries(Object.keys(groups).map((n) => [n, 0]));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const parsed = parseStat(stat);
    const name = parsed && byId.get(parsed.pgrp);
    if (name) out[name]! += parsed.ticks / TICKS_PER_SECOND;
  }
  return out;
}

/** CPU seconds of this process so far. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** `after - before` per component, rounded to 0.01 s. */
export function cpuDiff(after: CpuSeconds, before: CpuSeconds): CpuSeconds {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, Math.round((v - (before[k] ?? 0)) * 100) / 100]));
}
