/**
 * `npm run bench:dead-tokens -- [--products 8] [--shoppers 30] [--repeats 3] [--json]`:
 * dead-token cleanup under load, before and after issue 13's rewrite, on the
 * running local stack (`npm start`; `.local/stack.json`, or RESTOCK_STACK_FILE).
 *
 * The load: `--shoppers` shoppers, each subscribed to `--products` products
 * with one push token that FCM calls unregistered; every product is restocked
 * at once, so every product's chunk finds all the tokens dead and cleans up
 * the shoppers' other subscriptions at the same time: the same documents,
 * from `--products` deliveries at once.
 *
 * - before: one transaction per chunk that runs one collection-group query per
 *   shopper and locks every subscription it found (the shape before issue 13,
 *   kept here as the baseline);
 * - after: `forgetDeadAddresses`, one `channels.push in [...]` query per 30
 *   tokens and batches with `lastUpdateTime` preconditions.
 *
 * Reported per variant: wall time of the concurrent cleanups (median of the
 * repeats), cleanups that failed, and subscriptions left holding a dead token
 * (must be none but the restocked product's own).
 */
import { FieldValue, type Firestore } from '@google-cloud/firestore';
import { Command } from 'commander';
import { forgetDeadAddresses, cleanupOf, type DeadAddress } from '../lib/delivery/dead-addresses.ts';
import { COLLECTIONS, subscriptionsRef, type SubscriptionDoc } from '../lib/model.ts';
import { runTransaction } from '../lib/transaction.ts';
import { clientsFor, findRunningStack } from '../emulators/stack/index.ts';

/** The cleanup as it was before issue 13: a transaction per chunk, a query per shopper. */
async function forgetInOneTransaction(db: Firestore, dead: readonly DeadAddress[], nowMs: number): Promise<number> {
  const users = [...new Set(dead.map((d) => d.userId))];
  return runTransaction(db, async (tx) => {
    const snaps = await Promise.all(users.map((u) => tx.get(db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', u))));
    let changed = 0;
    for (const doc of snaps.flatMap((s) => s.docs)) {
      const cleanup = cleanupOf(doc.data() as SubscriptionDoc, dead);
      if (cleanup.action === 'keep') continue;
      if (cleanup.action === 'delete') tx.delete(doc.ref);
      else tx.update(doc.ref, { ...Object.fromEntries(cleanup.channels.map((c) => [`channels.${c}`, FieldValue.delete()])), updatedAtMs: nowMs });
      changed++;
    }
    return changed;
  });
}

type Cleanup = (db: Firestore, dead: readonly DeadAddress[], nowMs: number) => Promise<number>;

interface RoundResult {
  elapsedMs: number;
  failed: number;
  changed: number;
  deadLeft: number;
}

async function round(db: Firestore, cleanup: Cleanup, label: string, products: number, shoppers: number): Promise<RoundResult> {
  const run = `${label}-${Date.now().toString(36)}`;
  const productIds = Array.from({ length: products }, (_, p) => `bench-dead-${run}-p${p}`);
  const users = Array.from({ length: shoppers }, (_, u) => ({ userId: `bench-dead-${run}-u${u}`, token: `bad-${run}-t${u}` }));
  const writer = db.bulkWriter({ throttling: false });
  const nowMs = Date.now();
  for (const productId of productIds) {
    for (const { userId, token } of users) {
      // Half the shoppers also have email: their subscriptions are narrowed, the others deleted.
      const channels = Number(userId.split('-u')[1]) % 2 === 0 ? { push: token, email: `${userId}@example.com` } : { push: token };
      void writer.set(subscriptionsRef(db, productId).doc(userId), { userId, productId, channels, createdAtMs: nowMs, updatedAtMs: nowMs } satisfies SubscriptionDoc);
    }
  }
  await writer.close();
  let seeded = 0;
  for (const productId of productIds) seeded += (await subscriptionsRef(db, productId).count().get()).data().count;
  if (seeded !== products * shoppers) throw new Error(`seeded ${seeded} of ${products * shoppers} subscriptions`);

  let failed = 0;
  let changed = 0;
  const started = performance.now();
  await Promise.all(
    productIds.map(async (productId) => {
      const dead = users.map(({ userId, token }) => ({ userId, channel: 'push' as const, address: token, productId }));
      try {
        const n = await cleanup(db, dead, Date.now());
        changed += n;
      } catch {
        failed++;
      }
    }),
  );
  const elapsedMs = Math.round(performance.now() - started);
  let deadLeft = 0;
  for (const productId of productIds) {
    const snap = await subscriptionsRef(db, productId).get();
    deadLeft += snap.docs.filter((d) => typeof d.get('channels.push') === 'string').length;
  }
  // Every subscription is another product's: with two or more cleanups, none may keep a dead token.
  return { elapsedMs, failed, changed, deadLeft };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const program = new Command('bench:dead-tokens')
    .option('--products <n>', 'products restocked at once (concurrent cleanups)', (v) => Number.parseInt(v, 10), 8)
    .option('--shoppers <n>', 'shoppers with a dead token, subscribed to every product', (v) => Number.parseInt(v, 10), 30)
    .option('--repeats <n>', 'rounds per variant', (v) => Number.parseInt(v, 10), 3)
    .option('--json', 'print one JSON document')
    .parse();
  const opts = program.opts<{ products: number; shoppers: number; repeats: number; json?: boolean }>();
  const stateFile = process.env.RESTOCK_STACK_FILE ?? '.local/stack.json';
  const description = await findRunningStack(stateFile);
  if (!description) throw new Error(`no running stack described in ${stateFile}: start one with npm start`);
  const clients = clientsFor(description);
  try {
    const variants: [string, Cleanup][] = [
      ['before: transaction per chunk, query per shopper', forgetInOneTransaction],
      ['after: in-query per 30 tokens, conditional batches', forgetDeadAddresses],
    ];
    const results: Record<string, { elapsedMs: number; rounds: RoundResult[] }> = {};
    for (const [label, cleanup] of variants) {
      const rounds: RoundResult[] = [];
      for (let i = 0; i < opts.repeats; i++) rounds.push(await round(clients.firestore, cleanup, label.split(':')[0]!, opts.products, opts.shoppers));
      results[label] = { elapsedMs: median(rounds.map((r) => r.elapsedMs)), rounds };
    }
    const report = { products: opts.products, shoppers: opts.shoppers, repeats: opts.repeats, results };
    if (opts.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`${opts.products} concurrent cleanups, each of ${opts.shoppers} dead tokens held by the same ${opts.shoppers} shoppers on ${opts.products} products`);
      for (const [label, r] of Object.entries(results)) {
        console.log(`  ${label}: median ${r.elapsedMs} ms; per round ${r.rounds.map((x) => `${x.elapsedMs} ms (${x.failed} failed, ${x.changed} changed, ${x.deadLeft} dead tokens left)`).join(', ')}`);
      }
    }
  } finally {
    await clients.close();
  }
}

await main();
