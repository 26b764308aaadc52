/**
 * `npm run bench:subscribe -- [--clients 64] [--subscriptions 5000] [--products 100] [--json]`:
 * a hot product's subscribe storm (issue 12). C concurrent HTTP clients create
 * M subscriptions, each for a different shopper, on ONE sold-out product
 * through the real `restockSubscriptions` function on the Firestore emulator;
 * then M more spread over `--products` products. Every first answer counts
 * (no retries), so a 503 shows up as a 503.
 *
 * Also a phase of `npm run bench` (bench/run.ts calls {@link runSubscribeBench}
 * on its own stack). Standalone it starts a stack of its own on free ports.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Firestore } from '@google-cloud/firestore';
import { Command } from 'commander';
import { subscribeConcurrently, type SubscribeJob, type SubscribeLoadResult } from '../emulators/scenario/subscribe.ts';
import { clientsFor, seedProduct, startStack, type StackDescription } from '../emulators/stack/index.ts';
import { subscriptionsRef } from '../lib/model.ts';

/** Issue 12's targets for the one-product phase. */
export const SUBSCRIBE_TARGETS = { minCreatesPerSecond: 300, maxP99Ms: 500, maxNon2xx: 0 } as const;

export interface SubscribeBenchOptions {
  clients: number;
  subscriptions: number;
  /** Products of the spread phase. */
  products: number;
  onProgress?: (line: string) => void;
}

/** One phase: the load figures and what Firestore holds afterwards. */
export interface SubscribePhase extends SubscribeLoadResult {
  products: number;
  /** Subscriptions stored for the phase's products, counted after it (should equal `created`). */
  stored: number;
  /** Answers that were not 2xx, by status. */
  non2xx: Record<string, number>;
}

/** The JSON line of `npm run bench:subscribe -- --json` (and the `subscribe` field of `npm run bench --json`). */
export interface SubscribeBenchResult {
  clients: number;
  subscriptions: number;
  loadAverage: [number, number, number];
  /** Load average when the run ended: the machine is shared, so both are worth knowing. */
  loadAverageAfter: [number, number, number];
  oneProduct: SubscribePhase;
  spread: SubscribePhase;
  targets: { createsPerSecond: boolean; p99: boolean; non2xx: boolean };
}

function job(runId: string, productOf: (i: number) => string): (i: number) => SubscribeJob {
  return (i) => {
    const userId = `shopper-${runId}-${i}`;
    return { productId: productOf(i), userId, body: { channels: { email: `${userId}@example.com` }, locale: 'en-US' } };
  };
}

async function phase(
  apiUrl: string,
  firestore: Firestore,
  productIds: string[],
  runId: string,
  o: SubscribeBenchOptions,
): Promise<SubscribePhase> {
  for (const productId of productIds) await seedProduct(firestore, productId, { available: 0, sequence: 1 });
  const load = await subscribeConcurrently(apiUrl, o.subscriptions, job(runId, (i) => productIds[i % productIds.length]!), {
    clients: o.clients,
    onProgress: (done) => o.onProgress?.(`  ${done}/${o.subscriptions}`),
    progressEvery: Math.max(1, Math.floor(o.subscriptions / 5)),
  });
  let stored = 0;
  for (const productId of productIds) stored += (await subscriptionsRef(firestore, productId).count().get()).data().count;
  const non2xx = Object.fromEntries(Object.entries(load.statuses).filter(([s]) => !/^2\d\d$/.test(s)));
  return { ...load, products: productIds.length, stored, non2xx };
}

/**
 * Runs both phases against the stack of `description` (after a warm-up of
 * `clients` creates, not counted). Needs a stack whose `restockSubscriptions`
 * runs with the default per-user cap or more (each shopper subscribes once).
 */
export async function runSubscribeBench(description: StackDescription, o: SubscribeBenchOptions): Promise<SubscribeBenchResult> {
  const loadAverage = loadavg() as [number, number, number];
  const clients = clientsFor(description);
  const apiUrl = description.functions.restockSubscriptions;
  const runId = `${Date.now().toString(36)}-${randomUUID().slice(0, 4)}`;
  try {
    const warmProduct = `storm-warm-${runId}`;
    await seedProduct(clients.firestore, warmProduct, { available: 0, sequence: 1 });
    await subscribeConcurrently(apiUrl, o.clients, job(`${runId}-warm`, () => warmProduct), { clients: o.clients });

    o.onProgress?.(`subscribe: ${o.subscriptions} creates on one product, ${o.clients} clients...`);
    const oneProduct = await phase(apiUrl, clients.firestore, [`storm-${runId}`], `${runId}-one`, o);
    o.onProgress?.(`subscribe: one product: ${phaseLine(oneProduct)}; now spread over ${o.products} products...`);
    const spread = await phase(
      apiUrl,
      clients.firestore,
      Array.from({ length: o.products }, (_, k) => `storm-${runId}-p${k}`),
      `${runId}-spread`,
      o,
    );
    o.onProgress?.(`subscribe: ${o.products} products: ${phaseLine(spread)}`);
    const non2xx = Object.values(oneProduct.non2xx).reduce((a, b) => a + b, 0);
    return {
      clients: o.clients,
      subscriptions: o.subscriptions,
      loadAverage,
      loadAverageAfter: loadavg() as [number, number, number],
      oneProduct,
      spread,
      targets: {
        createsPerSecond: oneProduct.perSecond >= SUBSCRIBE_TARGETS.minCreatesPerSecond,
        p99: oneProduct.p99Ms !== null && oneProduct.p99Ms <= SUBSCRIBE_TARGETS.maxP99Ms,
        non2xx: non2xx <= SUBSCRIBE_TARGETS.maxNon2xx,
      },
    };
  } finally {
    await clients.close();
  }
}

function phaseLine(p: SubscribePhase): string {
  return `${p.succeeded}/${p.jobs} 2xx in ${p.elapsedMs} ms, ${p.perSecond}/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, non-2xx ${JSON.stringify(p.non2xx)}, stored ${p.stored}`;
}

/** The human-readable table (plain text: it goes into docs/performance.md as is). */
export function formatSubscribeTable(r: SubscribeBenchResult): string {
  const mark = (ok: boolean): string => (ok ? 'ok' : 'MISSED');
  const counts = (c: Record<string, number>): string =>
    Object.keys(c).length === 0 ? 'none' : Object.entries(c).map(([s, n]) => `${s}: ${n}`).join(', ');
  const row = (name: string, p: SubscribePhase): string[] => [
    `  ${name}: ${p.succeeded}/${p.jobs} answered 2xx in ${(p.elapsedMs / 1000).toFixed(2)} s`,
    `    creates/s ${p.perSecond}   latency p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, max ${p.maxMs} ms`,
    `    non-2xx ${counts(p.non2xx)}   stored ${p.stored} (created ${p.created})`,
    ...p.samples.map((s) => `    e.g. ${s}`),
  ];
  return [
    `Subscribe storm: ${r.clients} clients, ${r.subscriptions} creates per phase, load average ${r.loadAverage.map((l) => l.toFixed(2)).join(' ')} (after: ${r.loadAverageAfter.map((l) => l.toFixed(2)).join(' ')})`,
    ...row('one product', r.oneProduct),
    ...row(`${r.spread.products} products`, r.spread),
    `  targets (one product): >= ${SUBSCRIBE_TARGETS.minCreatesPerSecond} creates/s ${mark(r.targets.createsPerSecond)}, ` +
      `p99 <= ${SUBSCRIBE_TARGETS.maxP99Ms} ms ${mark(r.targets.p99)}, zero non-2xx ${mark(r.targets.non2xx)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const program = new Command('bench:subscribe')
    .description('C concurrent clients create M subscriptions on one product through the real function, then over many products.')
    .option('--clients <n>', 'concurrent HTTP clients', '64')
    .option('--subscriptions <n>', 'creates per phase', '5000')
    .option('--products <n>', 'products of the spread phase', '100')
    .option('--json', 'print the result as one JSON object on the last line')
    .parse();
  const opts = program.opts<{ clients: string; subscriptions: string; products: string; json?: boolean }>();
  const numbers = { '--clients': Number(opts.clients), '--subscriptions': Number(opts.subscriptions), '--products': Number(opts.products) };
  for (const [flag, v] of Object.entries(numbers)) {
    if (!Number.isInteger(v) || v < 1) {
      process.stderr.write(`bench:subscribe: ${flag} must be a positive integer (got ${v})\n`);
      process.exit(2);
    }
  }
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  say(`starting a local stack (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})...`);
  const stack = await startStack();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stack.stop().finally(() => process.exit(130)));
  let result: SubscribeBenchResult;
  try {
    result = await runSubscribeBench(stack.description, {
      clients: numbers['--clients'],
      subscriptions: numbers['--subscriptions'],
      products: numbers['--products'],
      onProgress: say,
    });
  } finally {
    await stack.stop();
  }
  process.stdout.write(`${formatSubscribeTable(result)}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench:subscribe failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
