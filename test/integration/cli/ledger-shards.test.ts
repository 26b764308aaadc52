/**
 * Issue 39: the ledger's event queries go through its 256 shards (the indexes
 * led by the shard, terraform/firestore.tf), so `restock status` and
 * `restock redrive` must answer for an event whose entries fill every shard
 * exactly as one query by eventKey would: every entry counted once, pages in
 * document order across the groups of 30 shards. An event whose entries
 * predate the shard is said to be short, not counted as if it were whole,
 * until `restock ledger-shards` gives them theirs.
 *
 * Against the real Firestore emulator and the real CLI binary, on a database
 * of the test's own (RESTOCK_FIRESTORE_DATABASE): the upgrade reads the whole
 * ledger, and no other test's entries belong in it.
 */
import { randomUUID } from 'node:crypto';
import { FieldPath, Firestore, Timestamp } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { StatusReport } from '../../../cli/commands/status.ts';
import type { RedriveResult, ShardUpgradeResult } from '../../../lib/delivery/index.ts';
import { countByState, pageOfEntries, shardGroups } from '../../../lib/delivery/ledger.ts';
import { COLLECTIONS, dedupKey, LEDGER_SHARDS, ledgerShardOf, type DeliveryDoc, type DeliveryState, type FanoutDoc } from '../../../lib/model.ts';
import { stack } from '../../helpers/index.ts';
import { restock, restockJson } from '../../helpers/cli.ts';

const STATES: DeliveryState[] = ['sent', 'exhausted', 'failed', 'rejected'];

describe('the ledger through its shards', { timeout: 600_000 }, () => {
  const s = stack();
  const database = `shards-${randomUUID().slice(0, 8)}`;
  const cli = { stack: s.description, env: { RESTOCK_FIRESTORE_DATABASE: database }, timeoutMs: 240_000 };
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = s.description.firestore;
  const db = new Firestore({ projectId: s.description.projectId, databaseId: database });
  if (saved === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
  else process.env.FIRESTORE_EMULATOR_HOST = saved;
  afterAll(() => db.terminate());

  const nowMs = Date.now();
  const fanout = (eventKey: string, productId: string, sharded: boolean): FanoutDoc => ({
    eventKey, productId, state: 'complete', event: {}, product: { name: 'Sharded', available: 5 }, leaseOwner: null, leaseExpiresAtMs: 0,
    cursor: null, generation: 0, attempts: 1, pages: 1, chunks: 0, recipients: 0, startedAtMs: nowMs, updatedAtMs: nowMs, completedAtMs: nowMs,
    ...(sharded ? { ledgerShards: LEDGER_SHARDS } : {}),
  });
  /** `n` entries of one event, states in turn; with `shard` as delivery writes them, or without as before issue 39. */
  const entries = (eventKey: string, productId: string, n: number, withShard: boolean): DeliveryDoc[] =>
    Array.from({ length: n }, (_, i) => {
      const key = dedupKey({ productId, userId: `user-${i}`, createdAtMs: nowMs + i }, 'email');
      const state = STATES[i % STATES.length]!;
      return {
        dedupKey: key, eventKey, productId, userId: `user-${i}`, channel: 'email', state, attempts: 1, leaseExpiresAtMs: null,
        lastError: state === 'sent' ? null : `answer ${i}`, sentAtMs: state === 'sent' ? nowMs : null, createdAtMs: nowMs + i, updatedAtMs: nowMs + i,
        expireAt: Timestamp.fromMillis(nowMs + 86_400_000), ...(withShard ? { shard: ledgerShardOf(key) } : {}),
      };
    });
  async function seed(f: FanoutDoc, docs: DeliveryDoc[]): Promise<void> {
    await db.collection(COLLECTIONS.fanouts).doc(f.eventKey).set(f);
    for (let i = 0; i < docs.length; i += 500) {
      const batch = db.batch();
      for (const d of docs.slice(i, i + 500)) batch.set(db.collection(COLLECTIONS.deliveries).doc(d.dedupKey), d);
      await batch.commit();
    }
  }
  const countsOf = (docs: DeliveryDoc[]) => Object.fromEntries(STATES.map((st) => [st, docs.filter((d) => d.state === st).length]));

  // 640 entries of one event, in most of the 256 shards and every group of 30 (the emulator runs each value of an `in`
  // as a scan of the collection, so the test keeps the collection small).
  const big = { eventKey: `evt-sharded-${randomUUID()}`, productId: 'sku-sharded' };
  const bigEntries = entries(big.eventKey, big.productId, 640, true);
  // Another event's entries in the same shards (other sign-ups, so other ids), which no query of the first may count.
  const other = { eventKey: `evt-other-${randomUUID()}`, productId: 'sku-other' };
  // An event fanned out before the upgrade: 40 entries without a shard, 4 written since (a retry) with one.
  const legacy = { eventKey: `evt-legacy-${randomUUID()}`, productId: 'sku-legacy' };
  const legacyEntries = entries(legacy.eventKey, legacy.productId, 44, false).map((d, i) => (i < 4 ? { ...d, shard: ledgerShardOf(d.dedupKey) } : d));

  beforeAll(async () => {
    await seed(fanout(big.eventKey, big.productId, true), bigEntries);
    await seed(fanout(other.eventKey, other.productId, true), entries(other.eventKey, other.productId, 60, true));
    await seed(fanout(legacy.eventKey, legacy.productId, false), legacyEntries);
  }, 120_000);

  test('the seeded event fills most shards and every group of 30', () => {
    const shards = new Set(bigEntries.map((d) => d.shard!));
    expect(shards.size).toBeGreaterThan(200);
    expect(shardGroups().every((g) => g.some((x) => shards.has(x)))).toBe(true);
    expect(LEDGER_SHARDS).toBe(256);
  });

  test('the counts status takes (one aggregation per state and group of 30 shards) count an event spread over the shards exactly, and nothing of another event in the same shards', async () => {
    // lib's countByState, as `restock status` calls it: through the CLI, 63 counts of a 700-entry collection took more than
    // the CLI's 30 s a query on this loaded machine's emulator, which runs each value of an `in` as a scan (docs/operate.md).
    const counts = await countByState(db, big.eventKey);

    expect(counts).toMatchObject({ ...countsOf(bigEntries), sending: 0, unsubscribed: 0, soldOutBeforeSend: 0 });
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(640);
    expect(await countByState(db, other.eventKey)).toMatchObject({ sent: 15, exhausted: 15, failed: 15, rejected: 15 });
  });

  test('pages of an event\u2019s entries run in document order across the shard groups: every entry once, none skipped at a group\u2019s edge', async () => {
    const wanted = bigEntries.filter((d) => d.state === 'exhausted' || d.state === 'failed').map((d) => d.dedupKey).sort();
    const seen: string[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await pageOfEntries(db, big.eventKey, ['exhausted', 'failed'], 23, cursor);
      seen.push(...page.map((d) => d.id));
      if (page.length < 23) break;
      cursor = page.at(-1)!.id;
    }

    expect(seen).toEqual(wanted);
    // The same pages as one query by eventKey alone would give (the emulator serves it without an index).
    const direct = await db.collection(COLLECTIONS.deliveries).where('eventKey', '==', big.eventKey).where('state', 'in', ['exhausted', 'failed']).orderBy(FieldPath.documentId()).get();
    expect(seen).toEqual(direct.docs.map((d) => d.id));
  });

  test('a redrive finds every exhausted entry of the event through the shards', async () => {
    const result = await restockJson<RedriveResult>(['redrive', big.eventKey, '--dry-run'], cli);

    expect(result.deliveries).toBe(160);
  });

  test('an event fanned out before the upgrade is said to be short and not settled, and ledger-shards makes its counts whole', async () => {
    // Prepare / act: status of the event whose entries mostly have no shard.
    const before = await restockJson<StatusReport>(['status', legacy.eventKey], cli);
    const text = await restock(['status', legacy.eventKey], cli);

    // Assess: only the 4 sharded entries are found, and the report says why it is short.
    expect(before.deliveries.total).toBe(4);
    expect(before.ledgerUnsharded).toBe(true);
    expect(before.settled).toBe(false);
    expect(text.stdout).toMatch(/ledger not sharded: .*restock ledger-shards/);

    // A dry run counts and writes nothing.
    const dry = await restockJson<ShardUpgradeResult>(['ledger-shards', '--dry-run'], cli);
    expect(dry).toMatchObject({ dryRun: true, sharded: 40, fanoutsMarked: 1 });
    expect((await restockJson<StatusReport>(['status', legacy.eventKey], cli)).deliveries.total).toBe(4);

    // Act: the upgrade.
    const done = await restockJson<ShardUpgradeResult>(['ledger-shards', '--yes'], cli);

    expect(done).toMatchObject({ dryRun: false, scanned: 640 + 60 + 44, sharded: 40, gone: 0, fanouts: 3, fanoutsMarked: 1 });
    const after = await restockJson<StatusReport>(['status', legacy.eventKey], cli);
    expect(after.deliveries).toMatchObject({ ...countsOf(legacyEntries), total: 44 });
    expect(after.ledgerUnsharded).toBe(false);
    // Run again, it finds nothing left to do.
    expect(await restockJson<ShardUpgradeResult>(['ledger-shards', '--yes'], cli)).toMatchObject({ sharded: 0, fanoutsMarked: 0 });
  });
});
