/**
 * `npm run simulate`: the deterministic simulation's command line.
 *
 *   npm run simulate -- --seeds 1000 --subscribers 500 --json   many seeds, a summary
 *   npm run simulate -- --seed 42 --subscribers 500              replay one seed, its trace
 *   npm run simulate -- --self-test                              the broken variants, each caught
 *   npm run simulate -- --production --subscribers 1000000       the production clock
 *   npm run simulate -- --production --subscribers 10000000 --var delivery_queue_count=5 --var function_config.deliverRestockBatch.max_instances=1000
 *                                                                 ... with variables set as terraform apply -var would
 *   npm run simulate -- --production --subscribers 1000000 --firestore cold warm   against a cold and a warm Firestore (the default)
 *   npm run simulate -- --production --sale-burst 300 --burst-ms 3000          a hot product's sale burst
 *
 * Exit status: 0 when every seed kept every promise (and, for the self-test,
 * every variant was caught); 1 otherwise; 2 for a bad flag.
 */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runSeed } from './world.ts';
import { runSeeds } from './seeds.ts';
import { MUTANTS, selfTest } from './self-test.ts';
import { analyticClock, productionClock, formatClock, formatRun, saleBurst } from './production/index.ts';
import type { Temperature } from './production/firestore-load.ts';
import type { TraceLine } from './scheduler.ts';

function count(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be a whole number >= ${min}, got "${value}"`);
    return n;
  };
}

/**
 * `--var name=value`, repeatable: a Terraform variable set to a number, as `terraform apply -var` would;
 * a dotted name sets one attribute of an object variable (`function_config.deliverRestockBatch.max_instances=1000`).
 */
function terraformVar(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const m = /^([a-z][a-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)=(-?\d+(?:\.\d+)?)$/.exec(value);
  if (!m) throw new InvalidArgumentError(`--var must be name=number (a Terraform variable of terraform/), got "${value}"`);
  return { ...previous, [m[1]!]: Number(m[2]) };
}

function showTrace(trace: TraceLine[], untilMs: number | undefined, lines: number): string {
  const upTo = untilMs === undefined ? trace : trace.filter((t) => t.atMs <= untilMs);
  return upTo
    .slice(-lines)
    .map((t) => `  +${String(t.atMs).padStart(9)} ms  ${t.actor.padEnd(18)} ${t.what}`)
    .join('\n');
}

const program = new Command('simulate')
  .description('Runs the pipeline\'s real flows in virtual time under seeded faults and checks every promise (docs/simulation.md).')
  .addOption(new Option('--seeds <n>', 'how many seeds to run').argParser(count('--seeds')).default(100))
  .addOption(new Option('--from <seed>', 'first seed').argParser(count('--from', 0)).default(1))
  .addOption(new Option('--seed <seed>', 'replay one seed and print its trace').argParser(count('--seed', 0)))
  .addOption(new Option('--subscribers <n>', 'shoppers waiting for the product').argParser(count('--subscribers')))
  .addOption(new Option('--jobs <n>', 'worker processes').argParser(count('--jobs')).default(Math.min(2, availableParallelism())))
  .addOption(new Option('--trace <lines>', 'trace lines to print with --seed').argParser(count('--trace', 0)).default(40))
  .addOption(new Option('--no-faults', 'run the seeds without faults'))
  .addOption(new Option('--self-test', 'run the broken variants of the core; each must be caught'))
  .addOption(new Option('--max-seeds <n>', 'self-test: seeds per variant before it counts as not caught').argParser(count('--max-seeds')).default(300))
  .addOption(new Option('--variant <name...>', 'self-test: only these variants'))
  .addOption(new Option('--production', 'the production clock: how long the deployment takes for --subscribers'))
  .addOption(new Option('--exempt-timestamps', 'production clock: as if the monotonic timestamp fields were exempted from indexing (default: read terraform/)'))
  .addOption(new Option('--indexed-timestamps', 'production clock: as if they were indexed (default: read terraform/)'))
  .addOption(new Option('--terraform <dir>', 'production clock: the Terraform to read settings from').default('terraform'))
  .addOption(new Option('--var <name=value>', 'production clock: a Terraform variable set as `terraform apply -var` would (repeatable)').argParser(terraformVar))
  .addOption(new Option('--sell-out-after-ms <ms>', 'production clock: sell the product out again this long after the restock and report what stopping cost (issue 40)').argParser((v) => Number(v)))
  .addOption(new Option('--analytic', 'production clock: only the analytic model (seconds, little memory), not lib/\'s flows'))
  .addOption(
    new Option('--firestore <temperature...>', 'production clock: the Firestores to run against, each a run: cold (every key range ramps 500/50/5), warm (only ranges new for the event ramp), unlimited (no ramp-up)')
      .choices(['cold', 'warm', 'unlimited'])
      .default(['cold', 'warm']),
  )
  .addOption(new Option('--self-ramp', 'production clock: the pipeline ramps itself on Firestore\'s refusals (a model of the delivery queues\' limits following them)'))
  .addOption(new Option('--sale-burst <units>', 'production clock: a hot product\'s sale burst instead: a restock of <units>, one sale per unit, a restock again').argParser(count('--sale-burst')))
  .addOption(new Option('--burst-ms <ms>', 'production clock: the sale burst is published over this many ms').argParser(count('--burst-ms', 0)).default(3000))
  .addOption(new Option('--json', 'print one JSON object'))
  .addOption(new Option('--worker').hideHelp())
  .addOption(new Option('--count <n>').argParser(count('--count', 0)).hideHelp())
  .addOption(new Option('--stride <n>').argParser(count('--stride')).default(1).hideHelp())
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program.parse();
const o = program.opts<{
  seeds: number;
  from: number;
  seed?: number;
  subscribers?: number;
  jobs: number;
  trace: number;
  faults: boolean;
  selfTest?: boolean;
  maxSeeds: number;
  variant?: string[];
  production?: boolean;
  sellOutAfterMs?: number;
  exemptTimestamps?: boolean;
  indexedTimestamps?: boolean;
  terraform: string;
  var?: Record<string, number>;
  analytic?: boolean;
  firestore: Temperature[];
  selfRamp?: boolean;
  saleBurst?: number;
  burstMs: number;
  json?: boolean;
  worker?: boolean;
  count?: number;
  stride: number;
}>();

const print = (value: unknown, human: string) => console.log(o.json ? JSON.stringify(value, null, 2) : human);

if (o.worker) {
  // One line of JSON per seed, for the parent (seeds.ts).
  for (let i = 0, seed = o.from; i < (o.count ?? 0); i++, seed += o.stride) {
    const r = await runSeed({ seed, subscribers: o.subscribers ?? 500, faults: o.faults, traceLimit: 0 });
    process.stdout.write(JSON.stringify({ seed, violations: r.violations, stats: r.stats }) + '\n');
  }
} else if (o.production && o.saleBurst !== undefined) {
  const fail = (err: unknown) => {
    console.error(`--terraform ${o.terraform}: ${(err as Error).message}`);
    process.exit(2);
  };
  const runs = [];
  for (const firestore of o.firestore) {
    runs.push(await saleBurst({ terraformDir: o.terraform, units: o.saleBurst, overMs: o.burstMs, vars: o.var ?? {}, firestore, ...(o.subscribers ? { subscribers: o.subscribers } : {}) }).catch(fail));
  }
  print(Object.fromEntries(runs.map((r) => [r!.temperature, r])), [`sale burst: ${o.saleBurst} units of one product sold one by one over ${o.burstMs} ms between two restocks`, ...runs.flatMap((r) => formatRun(r!))].join('\n'));
} else if (o.production) {
  if (o.exemptTimestamps && o.indexedTimestamps) {
    console.error('--exempt-timestamps and --indexed-timestamps contradict each other');
    process.exit(2);
  }
  const report = await (o.analytic ? analyticClock : productionClock)({
    subscribers: o.subscribers ?? 1_000_000,
    terraformDir: o.terraform,
    vars: o.var ?? {},
    ...(o.sellOutAfterMs !== undefined ? { sellOutAfterMs: o.sellOutAfterMs } : {}),
    ...(o.exemptTimestamps ? { timestampsIndexed: false } : o.indexedTimestamps ? { timestampsIndexed: true } : {}),
    firestore: o.firestore,
    selfRamp: Boolean(o.selfRamp),
  }).catch((err: unknown) => {
    console.error(`--terraform ${o.terraform}: ${(err as Error).message}`);
    process.exit(2);
  });
  print(report, formatClock(report));
} else if (o.selfTest) {
  const unknown = (o.variant ?? []).filter((v) => !MUTANTS.some((m) => m.name === v));
  if (unknown.length > 0) {
    console.error(`--variant: unknown ${unknown.join(', ')} (known: ${MUTANTS.map((m) => m.name).join(', ')})`);
    process.exit(2);
  }
  const subscribers = o.subscribers ?? 100;
  const report = await selfTest({
    maxSeeds: o.maxSeeds,
    subscribers,
    jobs: o.jobs,
    ...(o.variant ? { only: o.variant } : {}),
    onResult: (r) => {
      if (o.json) return;
      console.log(
        r.caught
          ? `caught   ${r.variant.padEnd(32)} by seed ${r.seed} (${r.invariant}: ${r.message})`
          : `MISSED   ${r.variant.padEnd(32)} ${r.error ?? `not caught in ${r.seedsRun} seeds`}`,
      );
    },
  });
  print(report, `self-test: ${report.caught} of ${report.of} broken variants caught within ${report.maxSeeds} seeds each (${subscribers} subscribers)`);
  process.exitCode = report.caught === report.of ? 0 : 1;
} else if (o.seed !== undefined) {
  const r = await runSeed({ seed: o.seed, subscribers: o.subscribers ?? 500, faults: o.faults });
  const first = r.violations[0];
  print(
    { seed: r.seed, violations: r.violations, stats: r.stats, traceDigest: r.traceDigest, trace: r.trace.slice(-o.trace) },
    [
      `seed ${r.seed}: ${r.violations.length === 0 ? 'every promise kept' : `${r.violations.length} violation(s)`}`,
      `  settings ${JSON.stringify(r.stats.settings)}`,
      `  ${r.stats.steps} steps, ${Math.round(r.stats.virtualMs / 1000)} s virtual, ${r.stats.deaths} process deaths, ${r.stats.crashes} crashes, ${r.stats.notifications} notifications taken (${r.stats.lostOutcomeResends} again after a lost outcome), ${r.stats.tasksAccepted} tasks, ${r.stats.deadLettered} dead-lettered, ${r.stats.replays} replays, ${r.stats.redrives} redrives`,
      `  trace digest ${r.traceDigest}`,
      ...r.violations.map((v) => `  VIOLATION ${v.invariant} at +${v.atMs} ms: ${v.message}`),
      first ? `trace up to the first violation (last ${o.trace} steps):` : `trace (last ${o.trace} steps):`,
      showTrace(r.trace, first?.atMs, o.trace),
    ].join('\n'),
  );
  process.exitCode = r.violations.length === 0 ? 0 : 1;
} else {
  const subscribers = o.subscribers ?? 500;
  const report = await runSeeds({ from: o.from, count: o.seeds, subscribers, jobs: o.jobs, faults: o.faults });
  const f = report.firstViolation;
  print(
    report,
    [
      `${report.seeds} seeds × ${subscribers} subscribers: ${report.violations} violating seed(s); ${report.seedsPerMinute} seeds/min on ${report.jobs} worker(s)`,
      `  ${report.totals.deaths ?? 0} process deaths, ${report.crashes.instances} crashes (unhandled rejections)${report.crashes.firstSeed !== undefined ? `, first in seed ${report.crashes.firstSeed}` : ''}, ${report.totals.lostOutcomeResends ?? 0} resends after a lost outcome, ${report.totals.deadLettered ?? 0} dead-lettered messages, ${report.totals.replays ?? 0} replays, ${report.totals.redrives ?? 0} redrives`,
      f ? `first violation: seed ${f.seed}, ${f.invariant} at +${f.atMs} ms: ${f.message}\n  replay: ${f.replay}` : 'every promise kept',
    ].join('\n'),
  );
  if (f && !o.json) {
    // Workers keep no trace (speed); the violating seed is run again here for its short trace.
    const again = await runSeed({ seed: f.seed, subscribers, faults: o.faults });
    console.log(`trace of seed ${f.seed} up to the violation (last ${o.trace} steps):\n${showTrace(again.trace, f.atMs, o.trace)}`);
  }
  process.exitCode = report.violations === 0 ? 0 : 1;
}
