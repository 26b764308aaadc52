/**
 * The transactional outbox kit an inventory service embeds (package subpath
 * `restock-fanout/outbox`, the Spanner adapter `restock-fanout/outbox/spanner`; docs/outbox.md): stage the `inventory.updated`
 * event in the same transaction as the stock change (Firestore or Spanner),
 * publish it right after the commit within a bounded wait, and sweep up what
 * that missed. Promises 10–12 of docs/design.md.
 */
export { OutboxValidationError, OutboxRowNotFoundError, OutboxNotRedrivableError, PublishTimeoutError } from './errors.ts';
export { OUTBOX_STATES, type OutboxRow, type OutboxState, type OutboxStats, type OutboxStore, type PublishPath, type Settlement, type ClaimRequest, type RedriveResult } from './model.ts';
export {
  backoffMs,
  canRedrive,
  claimDecision,
  publishability,
  settleDecision,
  settlementFor,
  MAX_EVENT_ID_LENGTH,
  type AttemptOutcome,
  type ClaimDecision,
  type OutboundMessage,
  type Publishability,
  type RetryPolicy,
} from './decide.ts';
export { stockChangeEvent, newRow, type StockChange, type ItemBefore, type ItemAfter } from './event.ts';
export { FirestoreOutbox, DEFAULT_ITEMS_COLLECTION, DEFAULT_OUTBOX_COLLECTION, type FirestoreOutboxOptions, type StagedChange } from './firestore.ts';
export { pubsubPublisher, type Publisher } from './publisher.ts';
export { OutboxRelay, type RelayOptions, type RelayReport, type FastPathReport } from './relay.ts';
export { sweepAndReport, SWEEP_LOG_MESSAGE, type SweepReport } from './sweep.ts';
export { relayOptionsFrom, outboxLocation, describeOutboxLocation, type OutboxLocation } from './settings.ts';
export { openOutboxStore, type OpenedOutbox } from './open.ts';
/** The structured logger the relay writes with (Cloud Logging's shape, personal data scrubbed). */
export { Logger } from '../log.ts';
