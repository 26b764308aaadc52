/**
 * The one-off upgrade of a ledger written before entries carried a shard
 * (issue 39): every query of an event goes through the shard-led indexes,
 * which hold only entries that have a `shard`, so an older entry is invisible
 * to `restock status` and `restock redrive` until it gets one. Entries live
 * RESTOCK_LEDGER_TTL_DAYS (30 by default), so an upgraded deployment meets
 * them for a month; this gives them their shard now.
 *
 * Idempotent and resumable: it pages the whole ledger by document id (no
 * index needed), writes only entries whose shard is missing or from another
 * shard count, then marks every fan-out (`ledgerShards`) so status stops
 * warning about its event. Run it after the upgraded functions are deployed
 * (an old instance still running would write entries without a shard).
 */
import { FieldPath, type BulkWriterError, type Firestore } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { COLLECTIONS, LEDGER_SHARDS, ledgerShardOf } from '../model.ts';

/** What an upgrade did (or, with `dryRun`, would do). */
export interface ShardUpgradeResult {
  /** Ledger entries read. */
  scanned: number;
  /** Entries given their shard (or that would be). */
  sharded: number;
  /** Entries that vanished between the read and the write (their TTL ran out): nothing to do. */
  gone: number;
  /** Fan-outs read, and those marked as having every entry sharded (or that would be). */
  fanouts: number;
  fanoutsMarked: number;
  dryRun: boolean;
}

const PAGE = 500;

/** Some writes of an upgrade failed after the client's retries; what was written stays, and a second run continues. */
export class ShardUpgradeError extends Error {
  override readonly name = 'ShardUpgradeError';
  constructor(
    readonly failed: number,
    first: BulkWriterError,
  ) {
    super(`${failed} ledger or fan-out write(s) failed after retries (first: ${first.documentRef.path}: ${first.message}); run it again to continue`, { cause: first });
  }
}

/**
 * Gives every ledger entry without its shard the shard of its id, then marks
 * every fan-out `ledgerShards`. Writes go through the client's BulkWriter,
 * which ramps its own rate by Google's 500/50/5 rule and retries what
 * Firestore refuses; an entry deleted meanwhile (TTL) is counted `gone`.
 * @throws whatever Firestore throws on a read, or a write that failed after
 *   BulkWriter's retries: running it again continues where it left off.
 */
export async function upgradeLedgerShards(db: Firestore, options: { dryRun: boolean; shards?: number; onProgress?: (r: ShardUpgradeResult) => void }): Promise<ShardUpgradeResult> {
  const shards = options.shards ?? LEDGER_SHARDS;
  const result: ShardUpgradeResult = { scanned: 0, sharded: 0, gone: 0, fanouts: 0, fanoutsMarked: 0, dryRun: options.dryRun };
  const writer = db.bulkWriter();
  const failures: BulkWriterError[] = [];
  writer.onWriteError((err) => {
    if ((err.code as number) === status.NOT_FOUND && err.documentRef.parent.id === COLLECTIONS.deliveries) {
      result.gone++;
      result.sharded--;
      return false;
    }
    if (err.failedAttempts < 10) return true;
    failures.push(err);
    return false;
  });
  // The writes' promises settle through onWriteError; a failure is reported once, after close().
  const write = (p: Promise<unknown>) => void p.catch(() => undefined);

  for (let cursor: string | undefined; ; ) {
    let query = db.collection(COLLECTIONS.deliveries).orderBy(FieldPath.documentId()).select('shard').limit(PAGE);
    if (cursor) query = query.startAfter(cursor);
    const { docs } = await query.get();
    for (const d of docs) {
      const shard = ledgerShardOf(d.id, shards);
      if (d.get('shard') === shard) continue;
      result.sharded++;
      if (!options.dryRun) write(writer.update(d.ref, { shard }));
    }
    result.scanned += docs.length;
    options.onProgress?.({ ...result });
    if (docs.length < PAGE) break;
    cursor = docs.at(-1)!.id;
  }
  // Fan-outs only once every entry has its shard: a marked event is one whose counts are whole.
  if (!options.dryRun) await writer.flush();
  for (let cursor: string | undefined; ; ) {
    let query = db.collection(COLLECTIONS.fanouts).orderBy(FieldPath.documentId()).select('ledgerShards').limit(PAGE);
    if (cursor) query = query.startAfter(cursor);
    const { docs } = await query.get();
    for (const d of docs) {
      if (d.get('ledgerShards') === shards) continue;
      result.fanoutsMarked++;
      if (!options.dryRun) write(writer.update(d.ref, { ledgerShards: shards }));
    }
    result.fanouts += docs.length;
    if (docs.length < PAGE) break;
    cursor = docs.at(-1)!.id;
  }
  await writer.close();
  if (failures.length > 0) throw new ShardUpgradeError(failures.length, failures[0]!);
  options.onProgress?.({ ...result });
  return result;
}
