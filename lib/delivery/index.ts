/**
 * Delivery: the ledger and the chunk executor. `deliverRestockBatch` calls
 * {@link parseDeliveryTask}, {@link verifyTaskToken} and {@link deliverChunk};
 * `restock redrive` calls {@link redriveDeliveries}; the CLI reads the ledger
 * through the store's queries.
 */
export { parseDeliveryTask, InvalidDeliveryTaskError, deliveryTaskSchema, MAX_DELIVERY_TASK_BYTES, type DeliveryTask } from '../tasks/index.ts';
export { deliverChunk, type ChunkReport, type AttemptInfo } from './execute.ts';
export { verifyTaskToken, MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError } from '../auth/index.ts';
export { redriveDeliveries, type RedriveResult } from './redrive.ts';
export { DELIVERY_PROBLEMS, ChunkNotSettledError } from './problems.ts';
export {
  deliveryRef,
  chunkReceiptRef,
  claimChunk,
  recordOutcomes,
  countByState,
  countChunkReceipts,
  countSentOfWave,
  entriesOf,
  entriesOfUser,
  pageOfEntries,
  type ChunkClaim,
  type RecordResult,
} from './ledger.ts';
// The pure decisions, exported so a simulation can run (or break) exactly these.
export {
  decideRecipient,
  emptyPlan,
  isFinalDelivery,
  isLeaseLive,
  isRedrivable,
  mayClaim,
  outcomeOf,
  planChunkClaim,
  planFirstAttempt,
  planRedrive,
  redriveStates,
  subscriptionDone,
  NotRedrivableError,
  UNSUBSCRIBED_ERROR,
  type ClaimContext,
  type ClaimPlan,
  type ClaimedDelivery,
  type LedgerEntry,
  type LedgerWrite,
  type Outcome,
  type RecipientLedger,
  type RecipientPlan,
  type SendResult,
} from './rules.ts';
