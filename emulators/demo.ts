/**
 * `npm run demo`: the whole pipeline end to end on the local stack.
 *
 * Uses the stack of `npm start` when one is running (`.local/stack.json`),
 * else starts its own on free ports and stops it at the end. Seeds N
 * subscribers of a sold-out product, publishes one restock event through
 * Pub/Sub, follows notifications arriving at the sink, and prints a summary.
 * Exits 0 only if every subscriber was notified exactly once.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import pc from 'picocolors';
import { COLLECTIONS, dedupKey, type FanoutDoc } from '../lib/model.ts';
import type { NotificationRecord, SinkStats } from './sink/index.ts';
import {
  clientsFor,
  DEFAULT_STATE_FILE,
  findRunningStack,
  inventoryEvent,
  publishEvent,
  REPO_ROOT,
  seedProduct,
  seedSubscribers,
  startStack,
  type Stack,
  type StackDescription,
} from './stack/index.ts';

/** The summary printed at the end; `--json` prints it as the last line. */
export interface DemoSummary {
  ok: boolean;
  productId: string;
  eventKey: string;
  subscribers: number;
  /** Delivery tasks the fan-out created (from `fanouts/{eventKey}`), null when unknown. */
  tasks: number | null;
  /** Subscribers whose notification the sink delivered. */
  notified: number;
  /** Keys the sink received in more than one request. */
  duplicates: number;
  /** Subscribers never notified. */
  missing: number;
  /** Keys the sink received that belong to nobody seeded (should be 0). */
  unexpected: number;
  rejected: number;
  /** Publish to last notification (or to giving up). */
  elapsedMs: number;
  /** Publish to first notification, null when none arrived. */
  firstNotificationMs: number | null;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  seedMs: number;
  fanoutState: string | null;
  /** Why the demo failed, when it did. */
  failure?: string;
}

const program = new Command('demo')
  .description('Seed subscribers, publish one restock event, and watch every subscriber get notified exactly once.')
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

async function sinkGet<T>(description: StackDescription, path: string): Promise<T> {
  const res = await fetch(description.sink + path);
  if (!res.ok) throw new Error(`sink ${path} answered ${res.status}`);
  return (await res.json()) as T;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function run(): Promise<DemoSummary> {
  const description = await stackToUse();
  const clients = clientsFor(description);
  try {
    const productId = `demo-${Date.now()}`;
    const eventKey = randomUUID();
    const product = { name: 'Trail Runner 2 (demo)', url: `https://shop.example/p/${productId}` };

    // Seed.
    const seedStarted = Date.now();
    await seedProduct(clients.firestore, productId, { available: 0, sequence: 1, ...product });
    const seedBar = tty ? new cliProgress.SingleBar({ format: 'seeding   [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    seedBar?.start(subscribers, 0);
    const docs = await seedSubscribers(clients.firestore, productId, subscribers, {
      channels: ['email'],
      onProgress: (n) => seedBar?.update(n),
    });
    seedBar?.stop();
    const seedMs = Date.now() - seedStarted;
    say(`seeded ${subscribers} subscribers of ${productId} in ${seedMs} ms`);
    const expected = new Set(docs.map((d) => dedupKey(eventKey, d.userId, 'email')));

    // Publish.
    const event = inventoryEvent({ productId, available: 25, previousAvailable: 0, sequence: 2, product });
    const publishedAtMs = Date.now();
    const messageId = await publishEvent(clients.pubsub, description.topic, event, { eventId: eventKey });
    say(`published restock event ${eventKey} (message ${messageId}); waiting for notifications...`);

    // Follow.
    const bar = tty ? new cliProgress.SingleBar({ format: 'notified  [{bar}] {value}/{total} {rate}/s  {state}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(subscribers, 0, { rate: 0, state: '' });
    const deadline = publishedAtMs + timeoutMs;
    let stats: SinkStats = await sinkGet(description, `/stats?productId=${productId}`);
    let fanout: FanoutDoc | undefined;
    let failure: string | undefined;
    let lastLineAtMs = Date.now();
    let reachedAtMs: number | undefined;
    for (;;) {
      await sleep(250);
      stats = await sinkGet<SinkStats>(description, `/stats?productId=${productId}`);
      const snap = await clients.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get();
      fanout = snap.exists ? (snap.data() as FanoutDoc) : undefined;
      const seconds = (Date.now() - publishedAtMs) / 1000;
      bar?.update(stats.delivered, { rate: Math.round(stats.delivered / seconds), state: fanout ? `fan-out ${fanout.state}` : '' });
      if (!tty && Date.now() - lastLineAtMs > 5000) {
        lastLineAtMs = Date.now();
        say(`  ${stats.delivered}/${subscribers} notified after ${seconds.toFixed(1)} s`);
      }
      if (fanout && (fanout.state === 'ignored' || fanout.state === 'failed')) {
        failure = `the fan-out ${fanout.state === 'ignored' ? 'ignored the event' : 'failed'}: ${fanout.reason ?? fanout.error ?? 'no reason recorded'}`;
        break;
      }
      if (stats.delivered + stats.rejected >= subscribers) {
        reachedAtMs ??= Date.now();
        if (Date.now() - reachedAtMs >= settleMs) break;
      }
      if (Date.now() >= deadline) {
        failure = `timed out after ${opts.timeout} s with ${stats.delivered} of ${subscribers} notified` +
          (fanout ? ` (fan-out ${fanout.state})` : ' (no fan-out record: did fanOutRestock accept the event? see its log)');
        break;
      }
    }
    bar?.stop();

    // Assess.
    const { notifications } = await sinkGet<{ notifications: NotificationRecord[] }>(description, `/notifications?productId=${productId}`);
    const sent = notifications.filter((n) => n.status === 'sent' && n.sentAtMs !== undefined);
    const notified = sent.filter((n) => expected.has(n.idempotencyKey)).length;
    const unexpected = notifications.filter((n) => !expected.has(n.idempotencyKey)).length;
    const latencies = sent.map((n) => n.sentAtMs! - publishedAtMs).sort((a, b) => a - b);
    const lastSentAtMs = sent.reduce((m, n) => Math.max(m, n.sentAtMs!), publishedAtMs);
    const summary: DemoSummary = {
      ok: false,
      productId,
      eventKey,
      subscribers,
      tasks: fanout?.chunks ?? null,
      notified,
      duplicates: stats.duplicateKeys,
      missing: subscribers - notified,
      unexpected,
      rejected: stats.rejected,
      elapsedMs: (failure ? Date.now() : lastSentAtMs) - publishedAtMs,
      firstNotificationMs: latencies[0] ?? null,
      p50LatencyMs: percentile(latencies, 50),
      p95LatencyMs: percentile(latencies, 95),
      seedMs,
      fanoutState: fanout?.state ?? null,
    };
    summary.ok = !failure && summary.notified === subscribers && summary.duplicates === 0 && summary.missing === 0 && unexpected === 0;
    if (!summary.ok) summary.failure = failure ?? 'not every subscriber was notified exactly once';
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
