/**
 * `npm run chaos -- --seed S --subscribers N [--json]`: the demo's scenario
 * on a stack of its own, with faults drawn from the seed: both functions
 * SIGKILLed and restarted, the event redelivered (concurrently and after the
 * fact), shoppers unsubscribing and subscribing mid-run, and a sink that
 * answers 503, 429 with Retry-After, times out and refuses bad addresses.
 *
 * Prints a summary; with `--json`, the summary as one JSON object on the last
 * line. Exits 0 only if no shopper is missing and every key sent twice is
 * explained by a second claim in the ledger (a crash between send and record);
 * 1 otherwise; 2 for a usage error.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import pc from 'picocolors';
import { planChaos } from './chaos/plan.ts';
import { CHAOS_STACK_ENV, runChaos } from './chaos/run.ts';
import type { ChaosSummary } from './chaos/assess.ts';
import { REPO_ROOT, startStack, type Stack } from './stack/index.ts';

const program = new Command('chaos')
  .description('Run the restock scenario with seeded faults and account for every shopper.')
  .option('--seed <n>', 'seed of the faults (same seed, same plan)', '1')
  .option('--subscribers <n>', 'shoppers to seed', '1000')
  .option('--timeout <seconds>', 'give up after this long (from the publish)', '600')
  .option('--json', 'print the summary as one JSON object on the last line')
  .parse();
const opts = program.opts<{ seed: string; subscribers: string; timeout: string; json?: boolean }>();
const seed = Number(opts.seed);
const subscribers = Number(opts.subscribers);
const timeoutMs = Number(opts.timeout) * 1000;
if (!Number.isSafeInteger(seed)) usage(`--seed must be an integer (got ${opts.seed})`);
if (!Number.isInteger(subscribers) || subscribers < 2) usage(`--subscribers must be an integer of at least 2 (got ${opts.subscribers})`);
if (!(timeoutMs > 0)) usage(`--timeout must be a positive number of seconds (got ${opts.timeout})`);

function usage(message: string): never {
  process.stderr.write(`${pc.red('chaos:')} ${message}\n`);
  process.exit(2);
}

const say = (line: string): void => void process.stderr.write(line + '\n');

let stack: Stack | undefined;
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping...`);
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

function printSummary(s: ChaosSummary, logsDir: string): void {
  const good = (v: number): string => (v === 0 ? pc.green(String(v)) : pc.red(String(v)));
  const rows: [string, string][] = [
    ['shoppers', `${s.subscribers} seeded, ${s.unsubscribedDuringRun} unsubscribed and ${s.subscribedDuringRun} subscribed mid-run`],
    ['owed a notification', String(s.expected)],
    ['sent', String(s.sent)],
    ['rejected (bad address or token)', String(s.rejected)],
    ['exhausted (redrivable)', String(s.exhausted)],
    ['missing', good(s.missing)],
    ['keys sent twice', `${s.duplicateKeys} (${s.unexplainedDuplicateKeys === 0 ? pc.green('all') : pc.red(String(s.duplicateKeys - s.unexplainedDuplicateKeys))} explained by a crash between send and record)`],
    ['unique notified', `${s.uniqueNotified}${s.deliveredNotRecorded > 0 ? ` (${s.deliveredNotRecorded} delivered, then unsubscribed before the killed send was recorded)` : ''}`],
    ['settled but still subscribed', good(s.settledButSubscribed)],
    ['fan-out', `${s.fanoutState ?? '-'} after ${s.fanoutAttempts ?? '-'} attempts`],
    ['elapsed', `${(s.elapsedMs / 1000).toFixed(1)} s`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [`\n${pc.bold('Chaos run')}  seed ${s.seed}  product ${s.productId}  event ${s.eventKey}`];
  out.push(pc.dim(`faults injected (${s.faultsInjected}):`));
  for (const f of s.faults) out.push(pc.dim(`  ${(f.atMs / 1000).toFixed(1).padStart(6)} s  ${f.kind.padEnd(13)} ${f.detail}`));
  for (const [k, v] of rows) out.push(`  ${k.padEnd(width)}  ${v}`);
  out.push(pc.dim(`logs: ${logsDir}`));
  out.push(s.ok ? pc.green('\nEvery shopper is accounted for; no unexplained duplicate.') : pc.red(`\nFAILED: ${s.failure}`));
  process.stdout.write(out.join('\n') + '\n');
}

const plan = planChaos(seed, subscribers);
let summary: ChaosSummary | undefined;
let crash: unknown;
try {
  say(pc.dim(`starting a stack for chaos seed ${seed}...`));
  stack = await startStack({
    dir: join(REPO_ROOT, '.local', 'chaos', `seed-${seed}-${Date.now().toString(36)}`),
    env: { ...CHAOS_STACK_ENV },
    onComponentExit: (name, code, signal) => {
      if (!stopping) say(pc.dim(`  ${name} exited (code ${code}, signal ${signal})`));
    },
  });
  say(pc.dim(`stack ready in ${stack.startupMs.total} ms; sink faults: ${JSON.stringify(plan.sink)}`));
  ({ summary } = await runChaos(stack, plan, { timeoutMs, onProgress: say }));
} catch (err) {
  crash = err;
} finally {
  stopping = true;
  await stack?.stop();
}
if (!summary) {
  process.stderr.write(`${pc.red('chaos failed:')} ${(crash as Error)?.message ?? String(crash)}\n`);
  process.exit(1);
}
printSummary(summary, stack!.description.logsDir);
if (opts.json) process.stdout.write(JSON.stringify({ ...summary, sinkFaults: plan.sink }) + '\n');
process.exit(summary.ok ? 0 : 1);
