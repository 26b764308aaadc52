/**
 * `npm run bench:contention -- [--json]`: every transaction of the system
 * under concurrency (issue 12, "the same look at every other transaction"),
 * measured on a local stack of its own. docs/performance.md, "Transactions
 * under concurrency", says what each contends on and what these figures mean.
 *
 * 1. Subscribe, storage only: 64 concurrent creates for different shoppers of
 *    one product, the old transactional shape (read subscription and product,
 *    count the user's subscriptions, write; as `lib/subscriptions` did before
 *    issue 12, kept here as the naive baseline is in naive.ts; one attempt
 *    each) against the path the API uses now (`putSubscription`).
 * 2. Fan-out claim: K events of ONE product published together (every claim
 *    transaction reads and writes `products/{productId}`), against K events of
 *    K products (nothing shared).
 * 3. Delivery claim: the same chunk dispatched by K tasks at once (a duplicate
 *    delivery: every claim reads the same ledger entries), against one task.
 * 4. `restock replay` of one completed fan-out by two operators at once (both
 *    claim `fanouts/{eventKey}`).
 * 5. Stock updates beside deliveries (issue 40): a product's stock-state
 *    transaction (read and write `products/{productId}`, as the fan-out's
 *    claim of each stock event does) run one after another while the chunks
 *    of a restock of that product are claimed, each claim asking the stock
 *    check: as the claim does it (the product read beside the subscriptions,
 *    outside any transaction), against the rejected shape that reads the
 *    product inside every chunk's claim transaction; and with no claims at all.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Firestore } from '@google-cloud/firestore';
import { Command } from 'commander';
import { parseConfig } from '../lib/config.ts';
import { COLLECTIONS, LEDGER_SHARDS, productRef, subscriptionsRef, type DeliveryDoc, type FanoutDoc, type ProductDoc } from '../lib/model.ts';
import { claimChunk } from '../lib/delivery/ledger.ts';
import { chunk } from '../lib/tasks/index.ts';
import { FirestoreSubscriptionStore, putSubscription } from '../lib/subscriptions/index.ts';
import { deliveryQueueFor, enqueueHttpTask } from '../lib/tasks/index.ts';
import { percentile, seedAudience, sinkGet } from '../emulators/scenario/index.ts';
import { clientsFor, emulatorEnv, inventoryEvent, publishEvent, REPO_ROOT, seedSubscribers, startStack, type StackClients, type StackDescription } from '../emulators/stack/index.ts';
import type { SinkStats } from '../emulators/sink/index.ts';

interface Timed {
  ok: number;
  failed: number;
  elapsedMs: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Failures by error code or name. */
  errors: Record<string, number>;
}

async function timedAll(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<Timed> {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now();
        try {
          await op(i);
          ok++;
        } catch (err) {
          const e = err as { code?: unknown; name?: string; cause?: { code?: unknown } };
          const key = String(e.cause?.code ?? e.code ?? e.name ?? 'error');
          errors[key] = (errors[key] ?? 0) + 1;
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const r = (v: number | null) => (v === null ? null : Math.round(v));
  return { ok, failed: n - ok, elapsedMs: Math.round(performance.now() - started), p50Ms: r(percentile(latencies, 50)), p99Ms: r(percentile(latencies, 99)), errors };
}

/**
 * The subscribe transaction as it was before issue 12 (reads, a count
 * aggregation, one write), run once: no retries, so what contention does to
 * it shows as failures rather than as minutes of retrying (the API retried a
 * loser up to 20 times, which is why a storm took minutes to fail).
 */
function oldTransactionalCreate(db: Firestore, productId: string, userId: string): Promise<void> {
  return db.runTransaction(async (tx) => {
    const ref = subscriptionsRef(db, productId).doc(userId);
    if ((await tx.get(ref)).exists) return;
    await tx.get(productRef(db, productId));
    await tx.get(db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', userId).count());
    const nowMs = Date.now();
    tx.set(ref, { userId, productId, channels: { email: `${userId}@example.com` }, createdAtMs: nowMs, updatedAtMs: nowMs });
  }, { maxAttempts: 1 });
}

async function subscribeStorage(db: Firestore, creates: number, clients: number) {
  const run = async (shape: 'transaction' | 'now') => {
    const productId = `contention-sub-${shape}-${randomUUID().slice(0, 6)}`;
    await productRef(db, productId).set({ productId, available: 0, sequence: 1, updatedAtMs: Date.now() });
    const store = new FirestoreSubscriptionStore(db);
    const timed = await timedAll(creates, clients, (i) => {
      const userId = `contention-${productId}-${i}`;
      return shape === 'transaction'
        ? oldTransactionalCreate(db, productId, userId)
        : putSubscription(store, productId, userId, { channels: { email: `${userId}@example.com` } }, { restockThreshold: 0, maxSubscriptionsPerUser: 50, nowMs: Date.now() });
    });
    const stored = (await subscriptionsRef(db, productId).count().get()).data().count;
    return { ...timed, stored };
  };
  return { transaction: await run('transaction'), now: await run('now') };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Publishes `events` at once; resolves when every fan-out is settled, with the time and the states. */
async function publishTogether(description: StackDescription, clients: StackClients, events: { productId: string; sequence: number; available: number; previousAvailable: number }[]) {
  const keys = events.map(() => randomUUID());
  const started = Date.now();
  await Promise.all(events.map((e, i) => publishEvent(clients.pubsub, description.topic, inventoryEvent(e), { eventId: keys[i]! })));
  const states = await waitFor('the fan-outs to settle', 300_000, async () => {
    const snaps = await clients.firestore.getAll(...keys.map((k) => clients.firestore.collection(COLLECTIONS.fanouts).doc(k)));
    const docs = snaps.map((s) => s.data() as FanoutDoc | undefined);
    if (docs.some((d) => !d || d.state === 'running')) return undefined;
    const count: Record<string, number> = {};
    for (const d of docs) count[d!.state] = (count[d!.state] ?? 0) + 1;
    return count;
  });
  return { events: events.length, elapsedMs: Date.now() - started, states };
}

async function fanoutClaims(description: StackDescription, clients: StackClients, k: number) {
  const one = `contention-fan-${randomUUID().slice(0, 6)}`;
  // Alternating sold out / restocked, in sequence order: each claim reads and writes products/{one}.
  const sameProduct = Array.from({ length: k }, (_, i) => ({ productId: one, sequence: i + 2, available: i % 2 === 0 ? 25 : 0, previousAvailable: i % 2 === 0 ? 0 : 25 }));
  const manyProducts = Array.from({ length: k }, (_, i) => ({ productId: `${one}-p${i}`, sequence: 2, available: 25, previousAvailable: 0 }));
  for (const p of [one, ...manyProducts.map((e) => e.productId)]) await productRef(clients.firestore, p).set({ productId: p, available: 0, sequence: 1, updatedAtMs: Date.now() });
  return { oneProduct: await publishTogether(description, clients, sameProduct), manyProducts: await publishTogether(description, clients, manyProducts) };
}

async function deliveryClaims(description: StackDescription, clients: StackClients, duplicates: number, recipients: number) {
  const config = parseConfig(description.env);
  const run = async (tasks: number) => {
    const audience = await seedAudience(clients, { subscribers: recipients });
    const eventKey = randomUUID();
    const body = { version: 1, eventKey, productId: audience.productId, generation: 0, product: { ...audience.product, available: 25 }, userIds: audience.userIds };
    const started = Date.now();
    await Promise.all(
      Array.from({ length: tasks }, (_, i) =>
        enqueueHttpTask(clients.tasks!, config, { queue: deliveryQueueFor(config, `contention-${eventKey}-${i}`), taskId: `contention-${eventKey}-${i}`, url: description.functions.deliverRestockBatch, body, audience: description.functions.deliverRestockBatch }),
      ),
    );
    await waitFor('the ledger to settle', 300_000, async () => {
      const snap = await clients.firestore.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).get();
      return snap.size === recipients && snap.docs.every((d) => ['sent', 'rejected', 'exhausted'].includes((d.data() as DeliveryDoc).state)) ? true : undefined;
    });
    const elapsedMs = Date.now() - started;
    const stats = await sinkGet<SinkStats>(description.sink, `/stats?productId=${encodeURIComponent(audience.productId)}`);
    return { tasks, recipients, elapsedMs, delivered: stats.delivered, duplicateKeys: stats.duplicateKeys };
  };
  return { single: await run(1), duplicated: await run(duplicates) };
}

/** One stock update as the fan-out's claim makes it: a transaction that reads and writes `products/{productId}`. */
async function stockUpdate(db: Firestore, productId: string, available: number): Promise<void> {
  await db.runTransaction(async (tx) => {
    const ref = productRef(db, productId);
    const p = (await tx.get(ref)).data() as ProductDoc;
    tx.set(ref, { ...p, available, sequence: p.sequence + 1, updatedAtMs: Date.now() });
  });
}

/**
 * Stock updates of one product, one after another, while `claims` chunk claims of a restock of it run (all at
 * once, `concurrency` at a time): their latencies. `shape` says how each claim reads the product.
 */
async function stockBesideClaims(clients: StackClients, o: { chunks: number; updates: number; shape: 'outside' | 'inside-transaction' | 'no-claims' }) {
  const db = clients.firestore;
  const productId = `contention-stock-${o.shape}-${randomUUID().slice(0, 6)}`;
  const eventKey = randomUUID();
  const subs = await seedSubscribers(db, productId, o.chunks * 100);
  await productRef(db, productId).set({ productId, available: 5, sequence: 2, updatedAtMs: Date.now(), lastRestockEventKey: eventKey });
  const tasks = chunk(subs.map((s) => s.userId), 100).map((userIds) => ({ version: 1 as const, eventKey, productId, generation: 0, product: { available: 5 }, userIds }));
  const claim = async (task: (typeof tasks)[number]) => {
    if (o.shape === 'outside') {
      await claimChunk(db, task, { nowMs: Date.now(), leaseMs: 120_000, ttlDays: 1, threshold: 0, ledgerShards: LEDGER_SHARDS });
      return;
    }
    // The rejected shape: the stock check inside the claim's transaction, which holds products/{id} while it runs.
    await db.runTransaction(async (tx) => {
      const [product, ...snaps] = await tx.getAll(productRef(db, productId), ...task.userIds.map((u) => subscriptionsRef(db, productId).doc(u)));
      if (!product?.exists) throw new Error('no product');
      for (const s of snaps) tx.set(db.collection(`${COLLECTIONS.deliveries}-contention`).doc(`${eventKey}-${s.id}`), { state: 'sending', at: Date.now() });
    });
  };
  const claims = o.shape === 'no-claims' ? Promise.resolve() : Promise.all(tasks.map(claim));
  const latencies: number[] = [];
  for (let i = 0; i < o.updates; i++) {
    const t0 = performance.now();
    await stockUpdate(db, productId, i % 2 === 0 ? 4 : 5);
    latencies.push(Math.round(performance.now() - t0));
  }
  const claimsStarted = performance.now();
  await claims;
  latencies.sort((a, b) => a - b);
  return { shape: o.shape, chunks: o.shape === 'no-claims' ? 0 : o.chunks, updates: o.updates, p50Ms: percentile(latencies, 50), maxMs: latencies.at(-1) ?? null, claimsLeftAfterUpdatesMs: Math.round(performance.now() - claimsStarted) };
}

function restockCli(description: StackDescription, args: string[]): Promise<{ code: number | null; ms: number; stderr: string }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(RESTOCK_.*|NODE_OPTIONS|.*_EMULATOR_HOST)$/.test(k)));
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'restock.js'), ...args], { env: { ...env, ...description.env, ...emulatorEnv(description) }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, ms: Date.now() - started, stderr: stderr.trim().split('\n').at(-1) ?? '' }));
  });
}

async function replays(description: StackDescription, clients: StackClients, recipients: number) {
  const audience = await seedAudience(clients, { subscribers: recipients });
  const done = await publishTogether(description, clients, [{ productId: audience.productId, sequence: 2, available: 25, previousAvailable: 0 }]);
  const eventKey = (await clients.firestore.collection(COLLECTIONS.fanouts).where('productId', '==', audience.productId).get()).docs[0]!.id;
  const [a, b] = await Promise.all([restockCli(description, ['replay', eventKey, '--yes', '--json']), restockCli(description, ['replay', eventKey, '--yes', '--json'])]);
  return { firstFanoutMs: done.elapsedMs, exitCodes: [a.code, b.code], ms: [a.ms, b.ms], refused: [a, b].filter((r) => r.code !== 0).map((r) => r.stderr) };
}

async function main(): Promise<void> {
  const opts = new Command('bench:contention')
    .description('Every transaction of the system under concurrency, on a local stack of its own.')
    .option('--creates <n>', 'subscription creates per shape', '64')
    .option('--clients <n>', 'concurrent creates', '64')
    .option('--events <n>', 'events published together (fan-out claim) and duplicate tasks (delivery claim)', '8')
    .option('--json', 'print the result as one JSON object on the last line')
    .option('--stock-only', 'run only the stock updates beside delivery claims (issue 40)')
    .parse()
    .opts<{ creates: string; clients: string; events: string; json?: boolean; stockOnly?: boolean }>();
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const loadAverage = loadavg();
  say(`starting a local stack (load average ${loadAverage.map((l) => l.toFixed(2)).join(' ')})...`);
  const stack = await startStack();
  const clients = clientsFor(stack.description);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stack.stop().finally(() => process.exit(130)));
  try {
    const k = Number(opts.events);
    if (opts.stockOnly) {
      const stock = {
        noClaims: await stockBesideClaims(clients, { chunks: 40, updates: 10, shape: 'no-claims' }),
        outside: await stockBesideClaims(clients, { chunks: 40, updates: 10, shape: 'outside' }),
        insideTransaction: await stockBesideClaims(clients, { chunks: 40, updates: 10, shape: 'inside-transaction' }),
      };
      for (const v of Object.values(stock)) process.stdout.write(`stock update beside ${v.chunks} chunk claims (${v.shape}): p50 ${v.p50Ms} ms, max ${v.maxMs} ms of ${v.updates}\n`);
      if (opts.json) process.stdout.write(`${JSON.stringify({ loadAverage, loadAverageAfter: loadavg(), stock })}\n`);
      return;
    }
    say('subscribe, storage only: the old transaction, then the path the API uses now...');
    const subscribe = await subscribeStorage(clients.firestore, Number(opts.creates), Number(opts.clients));
    say(`  ${JSON.stringify(subscribe)}`);
    say(`fan-out claim: ${k} events of one product together, then ${k} events of ${k} products...`);
    const fanout = await fanoutClaims(stack.description, clients, k);
    say(`  ${JSON.stringify(fanout)}`);
    say(`delivery claim: one chunk of 100 by one task, then by ${Math.min(k, 4)} tasks at once...`);
    const delivery = await deliveryClaims(stack.description, clients, Math.min(k, 4), 100);
    say(`  ${JSON.stringify(delivery)}`);
    say('restock replay: two operators replay one completed fan-out at once...');
    const replay = await replays(stack.description, clients, 200);
    say(`  ${JSON.stringify(replay)}`);
    say('stock updates beside 40 chunk claims of a restock of the same product: no claims, the stock check outside the claim, inside its transaction...');
    const stock = {
      noClaims: await stockBesideClaims(clients, { chunks: 40, updates: 10, shape: 'no-claims' }),
      outside: await stockBesideClaims(clients, { chunks: 40, updates: 10, shape: 'outside' }),
      insideTransaction: await stockBesideClaims(clients, { chunks: 40, updates: 10, shape: 'inside-transaction' }),
    };
    say(`  ${JSON.stringify(stock)}`);
    const result = { loadAverage, loadAverageAfter: loadavg(), subscribe, fanout, delivery, replay, stock };
    process.stdout.write(
      [
        `Transactions under concurrency (load average ${loadAverage.map((l) => l.toFixed(2)).join(' ')}; after ${result.loadAverageAfter.map((l) => l.toFixed(2)).join(' ')})`,
        `  subscribe, ${opts.clients} at once on one product, old transaction: ${subscribe.transaction.ok}/${opts.creates} ok in ${subscribe.transaction.elapsedMs} ms, p99 ${subscribe.transaction.p99Ms} ms, errors ${JSON.stringify(subscribe.transaction.errors)}`,
        `  subscribe, same load, preconditions (now):  ${subscribe.now.ok}/${opts.creates} ok in ${subscribe.now.elapsedMs} ms, p99 ${subscribe.now.p99Ms} ms, errors ${JSON.stringify(subscribe.now.errors)}`,
        `  fan-out claim, ${k} events of one product: settled in ${fanout.oneProduct.elapsedMs} ms ${JSON.stringify(fanout.oneProduct.states)}; of ${k} products: ${fanout.manyProducts.elapsedMs} ms ${JSON.stringify(fanout.manyProducts.states)}`,
        `  delivery claim, one chunk of 100: 1 task ${delivery.single.elapsedMs} ms; ${delivery.duplicated.tasks} tasks at once ${delivery.duplicated.elapsedMs} ms, duplicate sends ${delivery.duplicated.duplicateKeys}`,
        `  restock replay twice at once: exit codes ${replay.exitCodes.join(', ')} in ${replay.ms.join(' / ')} ms${replay.refused.length ? `; refused: ${replay.refused.join(' | ')}` : ''}`,
        ...Object.values(stock).map((s) => `  stock update beside ${s.chunks} chunk claims (${s.shape}): p50 ${s.p50Ms} ms, max ${s.maxMs} ms of ${s.updates}`),
      ].join('\n') + '\n',
    );
    if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await clients.close();
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:contention failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
