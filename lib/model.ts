/**
 * The Firestore data model (docs/design.md "Data model"): collection
 * names, document shapes and the identity of a notification. Every concern
 * reads and writes through these names so the model has one definition.
 *
 * Times are milliseconds since the epoch (`...Ms`), except `expireAt`, which
 * is a Firestore Timestamp because the TTL policy requires one.
 */
import { createHash } from 'node:crypto';
import type { CollectionReference, DocumentReference, Firestore, Timestamp } from '@google-cloud/firestore';
import type { Channel, ChannelAddresses } from './channels.ts';

/** The names of the collections, in one place. */
export const COLLECTIONS = {
  products: 'products',
  /** Sub-collection of a product: `products/{productId}/restockSubscriptions/{userId}`. */
  subscriptions: 'restockSubscriptions',
  fanouts: 'fanouts',
  deliveries: 'deliveries',
  rejectedEvents: 'rejectedEvents',
  /** Sub-collection of a fan-out: `fanouts/{eventKey}/chunks/{chunkTaskId}`, one receipt per chunk delivery claimed. */
  chunkReceipts: 'chunks',
  /** Sub-collection of a fan-out with waves: `fanouts/{eventKey}/waves/{waveDocId}`, one record per wave started. */
  waves: 'waves',
  /** Sub-collection of a fan-out: `fanouts/{eventKey}/ranges/g{generation}r{index}`, one per key range (lib/fanout/ranges.ts). */
  fanoutRanges: 'ranges',
  /**
   * Sub-collection of a product: `products/{productId}/pendingSubscriptions/{userId}`, a subscription
   * waiting for its double opt-in confirmation (lib/subscriptions/pending.ts). Fan-out never pages it.
   */
  pendingSubscriptions: 'pendingSubscriptions',
  /** `shoppers/{userId}`: the products the API subscribed a shopper to (lib/subscriptions/firestore-store.ts). */
  shoppers: 'shoppers',
  /** `confirmationSlots/{slotId}`: one per confirmation message sent to an address in a window (lib/consent/limit.ts). */
  confirmationSlots: 'confirmationSlots',
  /** `clicks/{clickKey}`: a shopper followed a message's tracked link (lib/clicks), once per (event, shopper, channel). */
  clicks: 'clicks',
  /** `conversions/{orderKey}`: an order the storefront reported, and the notification it is attributed to (lib/conversions). */
  conversions: 'conversions',
} as const;

/** `products/{productId}`. */
export function productRef(db: Firestore, productId: string): DocumentReference {
  return db.collection(COLLECTIONS.products).doc(productId);
}

/** `products/{productId}/restockSubscriptions`: who waits for a product. */
export function subscriptionsRef(db: Firestore, productId: string): CollectionReference {
  return productRef(db, productId).collection(COLLECTIONS.subscriptions);
}

/** The channels are one table (lib/channels.ts); the model names them through it. */
export { CHANNEL_SPECS, CHANNELS, DEAD_ADDRESS_CHANNELS, MAX_CHUNK_SIZE, MAX_WRITES_PER_COMMIT, type Channel, type ChannelAddresses } from './channels.ts';

/** `products/{productId}`: the last stock state seen, and what a message needs to say. */
export interface ProductDoc {
  productId: string;
  available: number;
  /** Sequence of the event that set `available`; events not newer are stale. */
  sequence: number;
  updatedAtMs: number;
  /** eventKey of the last event applied. */
  lastEventKey?: string;
  /** eventKey of the last event judged a restock. */
  lastRestockEventKey?: string;
  name?: string;
  url?: string;
  /** The product's own wave settings (from its inventory events); unset fields follow the global ones. */
  waves?: WaveOverride;
}

/** A product's wave settings, each optional: what is unset follows RESTOCK_WAVE_* (lib/config.ts). */
export interface WaveOverride {
  multiplier?: number;
  intervalMs?: number;
  minAvailableToNotify?: number;
}

/** The wave settings in force for one restock, fixed when it is first claimed. */
export interface WaveSettings {
  /** Shoppers per unit in stock; 0 is "everyone at once" (no waves). */
  multiplier: number;
  intervalMs: number;
  minAvailableToNotify: number;
}

/** A shopper's place in the sign-up queue: sign-up time, then id for ties. */
export interface FifoKey {
  createdAtMs: number;
  userId: string;
}

/**
 * Why a restock stopped telling shoppers before it reached them all (lib/restock
 * `restockStanding`): the product `sold-out` again, or a newer restock
 * `superseded` it.
 */
export type RestockStop = 'sold-out' | 'superseded';

/** A restock that stopped paging: why, and when the fan-out (or key range) saw it. */
export interface StoppedAt {
  reason: RestockStop;
  atMs: number;
}

/** Why a restock in waves ended. */
export type WaveStopReason = 'audience-exhausted' | 'below-minimum' | RestockStop;

/** The wave being paged: the stock it saw and the last shopper it takes. */
export interface CurrentWave {
  startedAtMs: number;
  /** Units in stock when the wave started (`products/{id}` as the pipeline saw it). */
  available: number;
  /** Shoppers the wave may take: ceil(multiplier × available). */
  target: number;
  /** The last shopper the wave takes, fixed when it starts, so a retried page never takes more. */
  boundary: FifoKey;
  /** Whether `boundary` was the last shopper waiting when the wave started. */
  last: boolean;
  taken: number;
  chunks: number;
}

/**
 * `fanouts/{eventKey}.waves`: where a restock in waves stands. `waiting` for
 * wave `index` until `nextWaveAtMs`, `paging` wave `index`, or `done`.
 */
export interface WavesState {
  settings: WaveSettings;
  /** 1-based: the wave being paged or awaited. */
  index: number;
  phase: 'waiting' | 'paging' | 'done';
  nextWaveAtMs: number;
  /** The last shopper enqueued, in sign-up order; null before the first. */
  cursor: FifoKey | null;
  current?: CurrentWave;
  stopReason?: WaveStopReason;
}

/** `fanouts/{eventKey}/waves/{waveDocId}`: one wave as it started and ended, for `restock status`. */
export interface WaveDoc {
  generation: number;
  index: number;
  startedAtMs: number;
  available: number;
  target: number;
  taken: number;
  chunks: number;
  completedAtMs?: number;
}

/** `products/{productId}/restockSubscriptions/{userId}`. */
export interface SubscriptionDoc {
  userId: string;
  productId: string;
  /** At least one of them. */
  channels: ChannelAddresses;
  locale?: string;
  /** The shopper's IANA time zone (`Europe/Berlin`): their send window is read on its clock; absent, RESTOCK_DEFAULT_TIME_ZONE's. */
  timeZone?: string;
  createdAtMs: number;
  updatedAtMs: number;
  /** How the shopper agreed to be told (absent on subscriptions written before consent records existed). */
  consent?: ConsentRecord;
}

/**
 * How a channel's address came to be consented: `confirmed` (double opt-in:
 * the shopper followed the confirmation link), `storefront-verified` (the
 * storefront said it had verified the address: a logged-in customer's
 * confirmed email, a push token from its own app), or `not-required` (the
 * channel is not in RESTOCK_DOUBLE_OPT_IN).
 */
export type ConsentMethod = 'confirmed' | 'storefront-verified' | 'not-required';

/** The consent record of a subscription: when, through which storefront, under which wording, and how each address was vouched for. */
export interface ConsentRecord {
  /** When the storefront asked (the PUT that carried the wish). */
  givenAtMs: number;
  /** The storefront that asked, as logs name callers (a service account's email, `anonymous` on the emulators). */
  storefront: string;
  /** The version of the wording the shopper saw, as the storefront sent it. */
  wording?: string;
  /** Per channel of the subscription: how its address is vouched for. */
  channels: Partial<Record<Channel, ConsentMethod>>;
  /** With double opt-in: when the shopper confirmed. */
  confirmedAtMs?: number;
}

/**
 * `products/{productId}/pendingSubscriptions/{userId}`: a subscription that
 * waits for its double opt-in confirmation. Never paged by fan-out (it is not
 * in `restockSubscriptions`), so nobody unconfirmed is ever notified; deleted
 * by the confirmation (which writes the subscription), by erasure, or by
 * Firestore's TTL policy on `expireAt` (RESTOCK_CONFIRMATION_TTL_HOURS). Reads
 * treat it as gone from `expireAt` on (TTL deletes within about a day).
 */
export interface PendingSubscriptionDoc {
  userId: string;
  productId: string;
  channels: ChannelAddresses;
  locale?: string;
  /** The shopper's IANA time zone, carried to the subscription on confirmation. */
  timeZone?: string;
  /** The consent record as it will be once confirmed (without `confirmedAtMs`). */
  consent: ConsentRecord;
  /** The channel whose address the confirmation message goes to. */
  confirmChannel: Channel;
  /** When this pending request was written: the confirmation link names it, so an older link confirms nothing newer. */
  createdAtMs: number;
  /** When the confirmation message was accepted by the sender; absent until then (a repeated PUT sends it again). */
  sentAtMs?: number;
  expireAt: Timestamp;
}

/**
 * Where a fan-out is: `running` (an attempt holds or held its lease and more
 * pages remain), `complete` (every chunk enqueued), `ignored` (not a restock,
 * or stale), `failed` (it cannot progress: visible, alerted, replayable).
 */
export type FanoutState = 'running' | 'complete' | 'ignored' | 'failed';
/** Every fan-out state. */
export const FANOUT_STATES: readonly FanoutState[] = ['running', 'complete', 'ignored', 'failed'];

/**
 * The fan-out states each state may move to; nothing else is allowed.
 * `complete` and `failed` go back to `running` only through a replay (a new
 * generation); `ignored` never moves.
 */
export const FANOUT_TRANSITIONS: Readonly<Record<FanoutState, readonly FanoutState[]>> = {
  running: ['running', 'complete', 'failed'],
  complete: ['running'],
  failed: ['running'],
  ignored: [],
};

/** `fanouts/{eventKey}`: the progress of one event's fan-out. */
export interface FanoutDoc {
  eventKey: string;
  productId: string;
  state: FanoutState;
  /** Why an event was ignored (`not-restock`, `stale`) or why it failed. */
  reason?: string;
  /** The validated event, so a replay does not need the original message. */
  event: Record<string, unknown>;
  /** Product details carried in every task payload (read once). */
  product: { name?: string; url?: string; available: number };
  leaseOwner: string | null;
  leaseExpiresAtMs: number;
  /** Document id of the last subscriber whose chunk is known enqueued; null before the first page. */
  cursor: string | null;
  /** Bumped by `restock replay`: part of task names, so replayed chunks are not hidden by old names. */
  generation: number;
  attempts: number;
  pages: number;
  chunks: number;
  recipients: number;
  publishTimeMs?: number;
  startedAtMs: number;
  firstTaskAtMs?: number;
  completedAtMs?: number;
  updatedAtMs: number;
  error?: string;
  /** Present when this restock is told in waves (docs/waves.md); absent: everyone at once. */
  waves?: WavesState;
  /**
   * Set when the fan-out stopped paging because a newer stock event ended the
   * restock (issue 40): the subscribers after `cursor` were never enqueued and
   * keep their subscriptions. With key ranges, the first range that stopped.
   */
  stopped?: StoppedAt;
  /**
   * True when delivery writes a chunk receipt for each of this fan-out's
   * chunks (every fan-out started or replayed since receipts exist): only
   * then does `restock status` count receipts against `chunks`. An older
   * fan-out is judged by its ledger and the queue alone.
   */
  chunkReceipts?: true;
  /**
   * The {@link LEDGER_SHARDS} this fan-out's ledger entries carry their shard
   * in (set by every fan-out started since the ledger has shards, and by
   * `restock ledger-shards` once it has added the shard to an older event's
   * entries). Absent, or another count: the event's entries may lack the
   * shard the event queries go through, and `restock status` says its counts
   * may be short instead of answering them as if they were whole.
   */
  ledgerShards?: number;
  /**
   * Set once the audience after the first chunk was split into key ranges,
   * each paged by its own continuation chain (`fanouts/{eventKey}/ranges`).
   * Absent: one range, paged from `cursor` (every fan-out before ranges).
   */
  ranges?: FanoutRangePlan;
}

/** How a fan-out's audience was split: ranges `(after, splits[0]]`, `(splits[0], splits[1]]`, ..., `(splits[K-2], end)`. */
export interface FanoutRangePlan {
  /** K, the number of ranges (`splits.length + 1`). */
  count: number;
  /** The fan-out's cursor when it split: everything up to it was enqueued before the ranges. */
  after: string | null;
  /** Document ids bounding the ranges, strictly increasing (none is necessarily a subscriber). */
  splits: string[];
  /** Subscribers counted after `after` when it split (at most the count's cap). */
  audience: number;
  plannedAtMs: number;
}

/** The states of one key range: it pages (`running`), reached its end (`complete`), or cannot progress (`failed`). */
export type FanoutRangeState = 'running' | 'complete' | 'failed';

/**
 * `fanouts/{eventKey}/ranges/g{generation}r{index}`: one key range's chain,
 * with its own cursor, lease and counters, so K chains never write one
 * document (Firestore favours about one write a second per document).
 */
export interface FanoutRangeDoc {
  eventKey: string;
  generation: number;
  index: number;
  /** Exclusive lower bound (null: from the first subscriber). */
  after: string | null;
  /** Inclusive upper bound (null: to the last subscriber). */
  until: string | null;
  state: FanoutRangeState;
  /** Document id of the last subscriber of this range whose chunk is known enqueued; null before its first page. */
  cursor: string | null;
  leaseOwner: string | null;
  leaseExpiresAtMs: number;
  attempts: number;
  pages: number;
  chunks: number;
  recipients: number;
  startedAtMs: number;
  firstTaskAtMs?: number;
  completedAtMs?: number;
  updatedAtMs: number;
  error?: string;
  /** Set when this range stopped paging because a newer stock event ended the restock. */
  stopped?: StoppedAt;
}

/**
 * Where one notification is: `sending` (claimed, lease running), `sent`,
 * `failed` (retryable, lease released), `rejected` (permanent: bad address,
 * unregistered token), `exhausted` (retries used up; redrivable),
 * `unsubscribed` (the shopper left before the notification was confirmed), or
 * `soldOutBeforeSend` (never sent: a newer stock event ended the restock
 * before this notification's chunk was claimed; the subscription is kept, and
 * the next restock may take the entry), or `held` (outside the shopper's send
 * window: a delayed task claims it again when the window opens, `heldUntilMs`;
 * the subscription is kept).
 */
export type DeliveryState = 'sending' | 'sent' | 'failed' | 'rejected' | 'exhausted' | 'unsubscribed' | 'soldOutBeforeSend' | 'held';
/** Every delivery state, in the order `restock status` lists them. */
export const DELIVERY_STATES: readonly DeliveryState[] = ['sending', 'sent', 'failed', 'rejected', 'exhausted', 'unsubscribed', 'soldOutBeforeSend', 'held'];
/** States a delivery never leaves by itself: the ledger counts them as settled. */
export const FINAL_DELIVERY_STATES: readonly DeliveryState[] = ['sent', 'rejected', 'exhausted', 'unsubscribed', 'soldOutBeforeSend'];
/** Final states that never reopen, not even by a redrive or a later restock. */
export const CLOSED_DELIVERY_STATES: readonly DeliveryState[] = ['sent', 'rejected', 'unsubscribed'];
/**
 * The only states `restock redrive` may take deliveries out of (`sending` only
 * once its lease expired: its attempt died). A rule of the domain, checked by
 * lib/delivery whoever calls it.
 */
export const REDRIVABLE_DELIVERY_STATES = ['exhausted', 'failed', 'sending'] as const satisfies readonly DeliveryState[];
/** One of {@link REDRIVABLE_DELIVERY_STATES}. */
export type RedrivableState = (typeof REDRIVABLE_DELIVERY_STATES)[number];

/**
 * The delivery states each state may move to; nothing else is allowed.
 * `sending` → `sending` is a claim after the lease expired; `exhausted` →
 * `sending` by a redrive's task or a later restock of the same sign-up;
 * `soldOutBeforeSend` → `sending` only by a later restock (its own restock
 * is over for good); closed states never move. Any open entry, and an
 * `exhausted` one a redrive or later restock takes, ends `soldOutBeforeSend`
 * when the claim finds its restock stopped (lib/restock `restockStanding`).
 * What a claim would take while the shopper's send window is closed is
 * `held` instead; a `held` entry is claimed (`sending`) by the delayed task
 * when the window opens, ends `soldOutBeforeSend` if the restock is over by
 * then, or `unsubscribed` if the shopper left.
 */
export const DELIVERY_TRANSITIONS: Readonly<Record<DeliveryState, readonly DeliveryState[]>> = {
  sending: ['sending', 'sent', 'failed', 'rejected', 'exhausted', 'unsubscribed', 'soldOutBeforeSend', 'held'],
  failed: ['sending', 'unsubscribed', 'soldOutBeforeSend', 'held'],
  exhausted: ['sending', 'soldOutBeforeSend', 'held'],
  soldOutBeforeSend: ['sending', 'soldOutBeforeSend', 'held'],
  held: ['sending', 'held', 'soldOutBeforeSend', 'unsubscribed'],
  sent: [],
  rejected: [],
  unsubscribed: [],
};

/** States a new ledger entry starts in: claimed for sending, not sent because its restock had stopped, or held for the shopper's send window. */
export const INITIAL_DELIVERY_STATES: readonly DeliveryState[] = ['sending', 'soldOutBeforeSend', 'held'];

/** Whether the table allows `from` → `to` (`from` undefined: a new ledger entry, which starts in {@link INITIAL_DELIVERY_STATES}). */
export function canMoveDelivery(from: DeliveryState | undefined, to: DeliveryState): boolean {
  return from === undefined ? INITIAL_DELIVERY_STATES.includes(to) : DELIVERY_TRANSITIONS[from].includes(to);
}

/** Whether the table allows a fan-out to move `from` → `to` (`from` undefined: a new fan-out). */
export function canMoveFanout(from: FanoutState | undefined, to: FanoutState): boolean {
  return from === undefined ? to === 'running' || to === 'ignored' : FANOUT_TRANSITIONS[from].includes(to);
}

/**
 * `deliveries/{dedupKey}`: the ledger entry of one notification of one
 * sign-up. `eventKey` is the restock that last claimed it: a later restock
 * that takes an entry left untold (`soldOutBeforeSend`, `exhausted`,
 * `failed`) makes it its own.
 */
export interface DeliveryDoc {
  dedupKey: string;
  eventKey: string;
  productId: string;
  userId: string;
  channel: Channel;
  state: DeliveryState;
  attempts: number;
  leaseExpiresAtMs: number | null;
  lastError: string | null;
  sentAtMs: number | null;
  createdAtMs: number;
  updatedAtMs: number;
  expireAt: Timestamp;
  /** The wave (1-based) whose chunk claimed this notification, when the restock ran in waves. */
  wave?: number;
  /** When the shopper's send window opens: set while `held`, and kept when the held send was then skipped. */
  heldUntilMs?: number;
  /**
   * Why a held send was not made when its window opened (the restock had
   * stopped: `sold-out` or `superseded`); `restock status` counts them as
   * `skippedSoldOut` and `skippedSuperseded`.
   */
  skipped?: RestockStop;
  /**
   * {@link ledgerShardOf} the document id: the field that leads the ledger's
   * event indexes, so one event's entries spread over {@link LEDGER_SHARDS}
   * index prefixes instead of one new prefix (docs/performance.md, issue 39).
   * Absent on entries written before the shard existed: the event queries do
   * not find them until `restock ledger-shards` adds it (docs/operate.md).
   */
  shard?: number;
}

/**
 * `fanouts/{eventKey}/chunks/{chunkTaskId}`: written by delivery in the same
 * commit as a chunk's ledger claim, so every recipient of the chunk is then
 * either in the ledger or known to have left. `restock status` counts them
 * against the fan-out's `chunks`: a chunk whose task died before delivery
 * could claim it keeps the event unsettled.
 */
export interface ChunkReceiptDoc {
  generation: number;
  recipients: number;
  /** When Firestore's TTL policy deletes the receipt: with the ledger entries it accounts for (RESTOCK_LEDGER_TTL_DAYS). */
  expireAt: Timestamp;
}

/** `rejectedEvents/{eventKey}`: an event that failed validation (never retried). */
export interface RejectedEventDoc {
  eventKey: string;
  reason: string;
  /** Field path of the first problem, when known. */
  field?: string;
  /**
   * An excerpt of the input: `message.data` decoded, personal data masked,
   * then cut to {@link RAW_INPUT_LIMIT} characters (lib/fanout/rejected.ts).
   */
  raw: string;
  /** sha256 (hex) of the whole input as received: matches a report without keeping it. */
  rawSha256?: string;
  /** Length of the whole input, in characters. */
  rawChars?: number;
  receivedAtMs: number;
  /** When Firestore's TTL policy deletes the record. */
  expireAt: Timestamp;
}

/** Characters of a rejected event's raw input that are kept. */
export const RAW_INPUT_LIMIT = 4096;

/**
 * A sign-up: one subscription of one shopper to one product, from its
 * creation to its removal. `createdAtMs` tells sign-ups apart: the API keeps
 * it across a PUT to an existing subscription and sets it anew only when the
 * subscription is created (the first time, or after it was removed).
 */
export interface Signup {
  productId: string;
  userId: string;
  createdAtMs: number;
}

/**
 * The dedup key of a notification: `sha256(productId:userId:createdAtMs:channel)`,
 * hex, scoped to the sign-up rather than to one restock event (promise 15: one
 * message per sign-up and channel, whatever number of restocks reach it). It
 * names the ledger document and is sent as each notification's `idempotencyKey`: a second
 * restock's claim finds the first one's entry for the same sign-up.
 */
export function dedupKey(signup: Signup, channel: Channel): string {
  return createHash('sha256').update(`${signup.productId}:${signup.userId}:${signup.createdAtMs}:${channel}`).digest('hex');
}

/**
 * How many index prefixes one event's ledger entries are spread over. Every
 * index of an event's entries is led by the entry's shard, so an event's
 * writes land in this many key ranges, each new for the event and each
 * ramping on its own under Firestore's 500/50/5 rule. Chosen from the
 * production clock: 1,000,000 shoppers put 2,000,000 operations on the
 * event's `sending` prefixes (the claim inserts, the record removes), 7,813
 * a shard, which the rule serves in 15.6 s; 10,000,000 would need 667 shards
 * for a minute (20,000,000 operations, 30,000 a range in its first minute) and
 * 2.6 minutes with 256. An event query goes through every shard in groups of
 * 30 (Firestore's limit of values in one `in`): 9 queries a count.
 */
export const LEDGER_SHARDS = 256;

/**
 * The shard of a ledger entry, from its document id (a dedup key, hex): the
 * id's first 8 hex digits scaled to [0, shards). Monotonic in the id, so the
 * entries of shards in increasing order are in document-id order, and a page
 * through them keeps the document id as its cursor. Ledger ids are dedup
 * keys (64 hex digits); anything else lands in shard 0.
 */
export function ledgerShardOf(id: string, shards: number = LEDGER_SHARDS): number {
  const prefix = Number.parseInt(id.slice(0, 8).padEnd(8, '0'), 16);
  return Number.isNaN(prefix) ? 0 : Math.floor((prefix / 2 ** 32) * shards);
}

/**
 * Whether a string can be a Firestore document id: 1–1500 bytes, no `/`,
 * not `.` or `..`, not `__…__`.
 */
export function isValidDocumentId(id: string): boolean {
  return (
    id.length > 0 &&
    Buffer.byteLength(id, 'utf8') <= 1500 &&
    !id.includes('/') &&
    id !== '.' &&
    id !== '..' &&
    !/^__.*__$/.test(id)
  );
}

/**
 * `clicks/{clickKey}`: the first time a shopper followed the tracked link of
 * one notification (event, shopper, channel). Created once, never updated;
 * personal data (user id): exported, and pseudonymised by erasure.
 */
export interface ClickDoc {
  eventKey: string;
  productId: string;
  userId: string;
  channel: Channel;
  /** The wave (1-based) that sent the message, when the restock ran in waves. */
  wave?: number;
  clickedAtMs: number;
  /** When Firestore's TTL policy deletes it: with the ledger entry it counts against (RESTOCK_LEDGER_TTL_DAYS). */
  expireAt: Timestamp;
}

/** What an order is attributed to: a notification the shopper clicked, one they only received, or none within the window. */
export type Attribution = 'direct' | 'assisted' | 'unattributed';

/**
 * `conversions/{orderKey}` (sha256 of the order id): one order the storefront
 * reported (`POST /v1/conversions`) and its attribution, decided once when it
 * is recorded. Personal data (user id, order id): exported; erasure replaces
 * the user id by the pseudonym and removes the order id, keeping the amounts.
 */
export interface ConversionDoc {
  orderId: string;
  userId: string;
  productId: string;
  /** The amount in the currency's minor units (cents for USD, yen for JPY). */
  valueMinor: number;
  /** ISO 4217, upper case. */
  currency: string;
  purchasedAtMs: number;
  recordedAtMs: number;
  attribution: Attribution;
  /** The restock, channel and wave of the notification it is attributed to; absent when unattributed. */
  eventKey?: string;
  channel?: Channel;
  wave?: number;
  /** When that notification was sent. */
  notifiedAtMs?: number;
  expireAt: Timestamp;
}
