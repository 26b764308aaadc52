/**
 * Delivery: the ledger and the chunk executor. The door of the concern:
 * `deliverRestockBatch` and the simulation call {@link handleDeliveryRequest};
 * `restock redrive` calls {@link redriveDeliveries}, `restock ledger-shards`
 * {@link upgradeLedgerShards}; the CLI reads the ledger
 * through its queries. The pure rules (rules.ts) are private to the folder;
 * tests import them from there.
 */
export { handleDeliveryRequest, type DeliveryRequest } from './entry.ts';
export { deliverChunk, type ChunkReport, type AttemptInfo } from './execute.ts';
export { redriveDeliveries, type RedriveResult } from './redrive.ts';
export { ShardUpgradeError, upgradeLedgerShards, type ShardUpgradeResult } from './shard-upgrade.ts';
export { NotRedrivableError } from './rules.ts';
export { DELIVERY_PROBLEMS, ChunkNotSettledError } from './problems.ts';
export { chunkReceiptRef, countByState, countChunkReceipts, countSentOfWave, countSentOnChannel, countSkippedHeld, entriesOfUser, pageOfEntries } from './ledger.ts';
