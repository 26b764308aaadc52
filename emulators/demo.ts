/**
 * `npm run demo`: the whole pipeline end to end on the local stack.
 *
 * Uses the stack of `npm start` when one is running (`.local/stack.json`),
 * else starts its own on free ports and stops it at the end. Seeds N
 * subscribers of a sold-out product, sells it out and restocks it through the
 * inventory stand-in (whose outbox publishes the event to Pub/Sub),
 * follows notifications arriving at the sink, and prints a summary.
 * Exits 0 only if every subscriber was notified exactly once.
 */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import pc from 'picocolors';
import { publishAndFollow, seedAudience, type RestockRunSummary } from './scenario/index.ts';
import {
  clientsFor,
  DEFAULT_STATE_FILE,
  findRunningStack,
  REPO_ROOT,
  startStack,
  type Stack,
  type StackDescription,
} from './stack/index.ts';

/**
 * The summary printed at the end; `--json` prints it as the last line. It is
 * the scenario's summary without the raw timestamps, which the latencies already say.
 */
export type DemoSummary = Omit<RestockRunSummary, 'publishedAtMs' | 'lastSentAtMs'>;

const program = new Command('demo')
  .description('Seed subscribers, restock the product through the inventory service, and watch every subscriber get notified exactly once.')
  .option('--subscribers <n>', 'subscribers to seed', '10000')
  .option('--timeout <seconds>', 'give up after this long (from the publish)', '600')
  .option('--json', 'print the summary as one JSON object on the last line')
  .option('--settle <ms>', 'after the last expected notification, watch this long for duplicates', '1500')
  .option('--state-file <path>', 'where a running stack describes itself', DEFAULT_STATE_FILE)
  .parse();
const opts = program.opts<{ subscribers: string; timeout: string; json?: boolean; settle: string; stateFile: string }>();
const subscribers = Number(opts.subscribers);
const timeoutMs = Number(opts.timeout) * 1000;
const settleMs = Number(opts.settle);
if (!Number.isInteger(subscribers) || subscribers < 1) fail(`--subscribers must be a positive integer (got ${opts.subscribers})`);
if (!(timeoutMs > 0)) fail(`--timeout must be a positive number of seconds (got ${opts.timeout})`);

const say = (line: string): void => void process.stderr.write(line + '\n');
const tty = process.stderr.isTTY === true;

function fail(message: string): never {
  process.stderr.write(`${pc.red('demo:')} ${message}\n`);
  process.exit(2);
}

let ownStack: Stack | undefined;
let stoppingOnSignal = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stoppingOnSignal) return;
    stoppingOnSignal = true;
    say(`\n${signal}: stopping...`);
    void (ownStack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function stackToUse(): Promise<StackDescription> {
  const running = await findRunningStack(opts.stateFile);
  if (running) {
    say(pc.dim(`using the running stack (${opts.stateFile})`));
    return running;
  }
  say(pc.dim('no running stack found: starting one (npm start keeps one running between demos)...'));
  ownStack = await startStack({
    dir: join(REPO_ROOT, '.local', 'demo-stack'),
    onProgress: (m) => say(pc.dim(`  ${m}`)),
    onComponentExit: (name, code, signal, logFile) => {
      if (!stoppingOnSignal) say(pc.red(`${name} exited (code ${code}, signal ${signal}); see ${logFile}`));
    },
  });
  say(pc.dim(`stack ready in ${ownStack.startupMs.total} ms (logs: ${ownStack.description.logsDir})`));
  return ownStack.description;
}

async function run(): Promise<DemoSummary> {
  const description = await stackToUse();
  const clients = clientsFor(description);
  try {
    const seedBar = tty ? new cliProgress.SingleBar({ format: 'seeding   [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    seedBar?.start(subscribers, 0);
    const audience = await seedAudience(clients, {
      subscribers,
      productId: `demo-${Date.now()}`,
      productName: 'Trail Runner 2 (demo)',
      onProgress: (n) => seedBar?.update(n),
    });
    seedBar?.stop();
    say(`seeded ${subscribers} subscribers of ${audience.productId} in ${audience.seedMs} ms`);

    const bar = tty ? new cliProgress.SingleBar({ format: 'notified  [{bar}] {value}/{total} {rate}/s  {state}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    let lastLineAtMs = Date.now();
    const { publishedAtMs: _p, lastSentAtMs: _l, ...summary } = await publishAndFollow(description, clients, audience, {
      via: 'inventory',
      timeoutMs,
      settleMs,
      onPublished: ({ eventKey, messageId }) => {
        say(`restocked ${audience.productId} through the inventory service (event ${eventKey}, ${messageId}); waiting for notifications...`);
        bar?.start(subscribers, 0, { rate: 0, state: '' });
      },
      onTick: ({ delivered, fanout, elapsedMs }) => {
        const seconds = elapsedMs / 1000;
        bar?.update(delivered, { rate: Math.round(delivered / seconds), state: fanout ? `fan-out ${fanout.state}` : '' });
        if (!tty && Date.now() - lastLineAtMs > 5000) {
          lastLineAtMs = Date.now();
          say(`  ${delivered}/${subscribers} notified after ${seconds.toFixed(1)} s`);
        }
      },
    });
    bar?.stop();
    return summary;
  } finally {
    await clients.close();
  }
}

function printTable(s: DemoSummary): void {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toLocaleString('en-US')} ms`);
  const rows: [string, string, boolean?][] = [
    ['subscribers', s.subscribers.toLocaleString('en-US')],
    ['tasks', s.tasks === null ? '-' : String(s.tasks)],
    ['notified', s.notified.toLocaleString('en-US'), s.notified === s.subscribers],
    ['duplicate sends', String(s.duplicates), s.duplicates === 0],
    ['missing', String(s.missing), s.missing === 0],
    ['stock update', ms(s.stockUpdateMs)],
    ['commit → publish', ms(s.commitToPublishMs)],
    ['elapsed', ms(s.elapsedMs)],
    ['first notification', ms(s.firstNotificationMs)],
    ['latency p50', ms(s.p50LatencyMs)],
    ['latency p95', ms(s.p95LatencyMs)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [`\n${pc.bold('Restock demo')}  product ${s.productId}  event ${s.eventKey}`];
  for (const [k, v, good] of rows) {
    const value = good === undefined ? v : good ? pc.green(v) : pc.red(v);
    out.push(`  ${k.padEnd(width)}  ${value}`);
  }
  out.push(s.ok ? pc.green('\nEvery subscriber was notified exactly once.') : pc.red(`\nFAILED: ${s.failure}`));
  process.stdout.write(out.join('\n') + '\n');
}

let summary: DemoSummary | undefined;
let crash: unknown;
try {
  summary = await run();
} catch (err) {
  crash = err;
} finally {
  await ownStack?.stop();
}
if (!summary) {
  process.stderr.write(`${pc.red('demo failed:')} ${(crash as Error)?.message ?? String(crash)}\n`);
  process.exit(1);
}
printTable(summary);
if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
process.exit(summary.ok ? 0 : 1);
