/**
 * Many seeds, spread over worker processes (each runs its share in turn and
 * reports one JSON line per seed), and the report of the whole: how many ran,
 * which violated what, seeds per minute. A worker is this same program with
 * `--worker`; under the self-test it loads a broken variant of lib/.
 */
import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Violation } from './invariants.ts';
import type { RunResult } from './world.ts';

/** What a worker reports per seed. */
export interface SeedLine {
  seed: number;
  violations: Violation[];
  stats: RunResult['stats'];
}

export interface SeedsReport {
  seeds: number;
  subscribers: number;
  jobs: number;
  /** Seeds with at least one violation. */
  violations: number;
  violatingSeeds: number[];
  firstViolation?: { seed: number; invariant: string; message: string; atMs: number; replay: string };
  elapsedMs: number;
  seedsPerMinute: number;
  /** Instances the real code crashed (an unhandled rejection kills a functions-framework instance). */
  crashes: { instances: number; seeds: number; firstSeed?: number };
  totals: Record<string, number>;
}

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Node flags that let a worker load TypeScript (tsx's loader), whatever ran the parent (tsx, vitest). */
export const TSX_IMPORT = ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];

export interface SeedsOptions {
  from: number;
  count: number;
  subscribers: number;
  jobs: number;
  /** Draw faults (default true). */
  faults?: boolean;
  /** Stop every worker at the first violation (the self-test). */
  stopAtFirst?: boolean;
  /** Node flags of the workers (the self-test adds its load hook). */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  onSeed?: (line: SeedLine) => void;
}

/** Runs seeds `from .. from+count-1` over `jobs` worker processes. */
export async function runSeeds(o: SeedsOptions): Promise<SeedsReport> {
  const started = Date.now();
  const lines: SeedLine[] = [];
  const jobs = Math.max(1, Math.min(o.jobs, o.count));
  let stop = false;
  const workers = Array.from({ length: jobs }, (_, j) => {
    const child = fork(MAIN, ['--worker', '--from', String(o.from + j), '--count', String(Math.ceil((o.count - j) / jobs)), '--stride', String(jobs), '--subscribers', String(o.subscribers), ...(o.faults === false ? ['--no-faults'] : [])], {
      execArgv: o.execArgv ?? TSX_IMPORT,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (text) => {
      // Only the worker's seed lines: a log line of lib/ (JSON too) is not one.
      if (!text.startsWith('{"seed":')) return;
      const line = JSON.parse(text) as SeedLine;
      lines.push(line);
      o.onSeed?.(line);
      if (o.stopAtFirst && line.violations.length > 0) {
        stop = true;
        for (const w of workers) w.child.kill();
      }
    });
    const done = new Promise<void>((resolve, reject) =>
      child.on('exit', (code, signal) => (code === 0 || stop || signal ? resolve() : reject(new Error(`simulation worker exited ${code}: ${stderr.trim().split('\n').slice(-5).join('\n')}`)))),
    );
    return { child, done };
  });
  await Promise.all(workers.map((w) => w.done));
  lines.sort((a, b) => a.seed - b.seed);
  const violating = lines.filter((l) => l.violations.length > 0);
  const first = violating[0];
  const totals: Record<string, number> = {};
  for (const l of lines) for (const [k, v] of Object.entries(l.stats)) if (typeof v === 'number') totals[k] = (totals[k] ?? 0) + v;
  const crashed = lines.filter((l) => l.stats.crashes > 0);
  const elapsedMs = Date.now() - started;
  return {
    seeds: lines.length,
    subscribers: o.subscribers,
    jobs,
    violations: violating.length,
    violatingSeeds: violating.map((l) => l.seed).slice(0, 20),
    ...(first
      ? { firstViolation: { seed: first.seed, ...first.violations[0]!, replay: `npm run simulate -- --seed ${first.seed} --subscribers ${o.subscribers}` } }
      : {}),
    elapsedMs,
    seedsPerMinute: Math.round((lines.length / Math.max(1, elapsedMs)) * 60_000),
    crashes: { instances: totals.crashes ?? 0, seeds: crashed.length, ...(crashed[0] ? { firstSeed: crashed[0].seed } : {}) },
    totals,
  };
}
