/**
 * Every constant of the production clock, each with where it comes from.
 * `published` figures are Google's documented limits; `assumed` figures are
 * not published by Google (latencies vary by region, load and payload) and
 * are this model's inputs — change them here, in one place, and the clock
 * follows. Settings that `terraform/` deploys are not here: they are read
 * from `terraform/` itself (./terraform.ts).
 */

export interface Constant {
  value: number;
  unit: string;
  kind: 'published' | 'assumed';
  source: string;
}

const c = (value: number, unit: string, kind: Constant['kind'], source: string): Constant => ({ value, unit, kind, source });

export const CONSTANTS = {
  // Firestore
  sequentialIndexWritesPerSecond: c(
    500,
    'writes/s per collection',
    'published',
    'https://cloud.google.com/firestore/docs/solutions/shard-timestamp — "If a collection contains documents with sequential indexed values, Firestore limits the write rate to 500 writes per second"; also https://cloud.google.com/firestore/docs/best-practices (index exemptions)',
  ),
  maxWritesPerCommit: c(500, 'writes', 'published', 'https://cloud.google.com/firestore/quotas — "Maximum number of writes that can be passed to a Commit operation or performed in a transaction: 500"'),
  firestoreReadMs: c(8, 'ms per lookup RPC', 'assumed', 'not published; an in-region RPC (the 10 ms round trip issue 15 takes as typical) for a batched get of ≤ 200 small documents'),
  firestoreReadPerDocMs: c(0.02, 'ms per document', 'assumed', 'not published; server time per small document returned (ids-only pages, subscription reads)'),
  firestoreCommitMs: c(25, 'ms per commit', 'assumed', 'not published; a regional commit is a synchronous replicated write (Spanner-backed), a few tens of ms; https://cloud.google.com/firestore/docs/understand-reads-writes-scale describes the path'),
  firestoreCommitPerWriteMs: c(0.05, 'ms per write', 'assumed', 'not published; index fan-out of each write in a batched commit (https://cloud.google.com/firestore/docs/best-practices "index fanout")'),
  rampStartOpsPerSecond: c(
    500,
    'operations/s on a new key range',
    'published',
    'https://cloud.google.com/firestore/docs/best-practices#ramping_up_traffic — "We recommend starting with a maximum of 500 operations per second to a new collection and then increasing traffic by 50% every 5 minutes" (the "500/50/5" rule), for new collections and lexicographically close documents; index entries live in key ranges of their own (https://cloud.google.com/firestore/docs/understand-reads-writes-scale "Key ranges and splits": index entries take part in the same splitting as documents)',
  ),
  rampGrowth: c(1.5, 'capacity × per step', 'published', 'https://cloud.google.com/firestore/docs/best-practices#ramping_up_traffic — "increasing traffic by 50% every 5 minutes"'),
  rampStepMs: c(300_000, 'ms per step', 'published', 'https://cloud.google.com/firestore/docs/best-practices#ramping_up_traffic — "every 5 minutes"'),
  rangeQueueToleranceMs: c(
    1000,
    'ms of queued work on a range before a write is refused',
    'assumed',
    'not published. Google documents both answers to traffic beyond what a range has split for: raised latency (https://cloud.google.com/firestore/docs/resolve-latency, "Sustained traffic exceeding the 500-50-5 rule") and refusals, RESOURCE_EXHAUSTED "the ramp up limit for writes, please retry with exponential backoff" and ABORTED for "traffic increases that outpace load-based splitting" (https://cloud.google.com/firestore/docs/understand-error-codes). The clock queues reads and writes on a range up to this much, then refuses a write with RESOURCE_EXHAUSTED',
  ),
  documentWritesPerSecond: c(
    1,
    'sustained writes/s per document',
    'published',
    'the soft limit of 1 sustained write per second per document (https://cloud.google.com/firestore/quotas in its "Writes and transactions" table, as issue 39 and docs/design.md "Scale" take it; the best practices now say the exact rate "depends highly on the workload", https://cloud.google.com/firestore/docs/best-practices#updates_to_a_single_document: "At high enough write rates, the database will start to encounter contention, higher latency, or other errors"; ABORTED "Too much contention on these datastore entities" for "a document receiving too many updates per second" (https://cloud.google.com/firestore/docs/understand-error-codes)',
  ),
  documentWriteBurst: c(
    5,
    'writes one document takes at once above its sustained rate',
    'assumed',
    'not published: how far above 1 write/s a document goes before it answers ABORTED is "highly dependent on the workload" (https://cloud.google.com/firestore/docs/best-practices#updates_to_a_single_document). A ledger entry is written twice in a fraction of a second (claim, record) and a fan-out document a few times at its start, so a burst of a few writes is taken; beyond it a document sustains 1 write/s',
  ),
  commitRetryInitialMs: c(100, 'ms', 'published', 'the Node client\'s retry settings for Commit (https://cloud.google.com/nodejs/docs/reference/firestore/latest, @google-cloud/firestore 8: build/src/v1/firestore_client_config.json, "default" retry_params): initial_retry_delay_millis 100, retry_delay_multiplier 1.3, max_retry_delay_millis 60000, total_timeout_millis 600000, on RESOURCE_EXHAUSTED and UNAVAILABLE (WriteBatch.commit adds ABORTED); google-gax sleeps a random part of each delay'),
  commitRetryMultiplier: c(1.3, '×', 'published', 'as commitRetryInitialMs: https://cloud.google.com/nodejs/docs/reference/firestore/latest, the client config\'s retry_delay_multiplier'),
  commitRetryMaxMs: c(60_000, 'ms', 'published', 'as commitRetryInitialMs: https://cloud.google.com/nodejs/docs/reference/firestore/latest, the client config\'s max_retry_delay_millis'),
  commitRetryTotalMs: c(600_000, 'ms', 'published', 'as commitRetryInitialMs: https://cloud.google.com/nodejs/docs/reference/firestore/latest, the client config\'s total_timeout_millis'),

  // Cloud Tasks
  queueMaxDispatchesPerSecond: c(500, 'tasks/s per queue', 'published', 'https://cloud.google.com/tasks/docs/reference/rpc/google.cloud.tasks.v2#ratelimits — max_dispatches_per_second: "The maximum allowed value is 500"'),
  queueMaxConcurrentDispatches: c(5000, 'tasks per queue', 'published', 'https://cloud.google.com/tasks/docs/reference/rpc/google.cloud.tasks.v2#ratelimits — max_concurrent_dispatches: "The maximum allowed value is 5,000"'),
  queueBurstPerRate: c(0.2, 'tokens per (task/s)', 'published', 'https://cloud.google.com/tasks/docs/reference/rpc/google.cloud.tasks.v2#ratelimits — max_burst_size is chosen from the rate; the service reports rate / 5 (as emulators/cloud-tasks/queue-config.ts burstSizeFor)'),
  createTaskMs: c(30, 'ms per CreateTask', 'assumed', 'not published; an in-region unary RPC that persists the task'),
  dispatchOverheadMs: c(20, 'ms per dispatch', 'assumed', 'not published; from a token being taken to the HTTP request reaching the function (OIDC token minting included)'),

  // Cloud Run functions (gen2)
  coldStartMs: c(1500, 'ms', 'assumed', 'not published as a figure; https://cloud.google.com/run/docs/tips/general describes what it depends on. Node.js with the Google client libraries loaded: ~1-2 s is the commonly measured range'),
  requestOverheadMs: c(5, 'ms per request', 'assumed', 'not published; routing into a warm instance'),

  // Pub/Sub push
  pushDeliveryMs: c(100, 'ms publish → push request', 'assumed', 'not published as a figure; https://cloud.google.com/pubsub/docs/push (Pub/Sub adjusts the push rate to the success rate: one message is not throttled)'),

  pushOrderJitterMs: c(
    200,
    'ms a push may come late (each message its own draw)',
    'assumed',
    'not published as a figure; Pub/Sub delivers messages without ordering keys in any order (https://cloud.google.com/pubsub/docs/ordering), so a sale burst\'s events reach fanOutRestock out of order. The sale burst draws each push\'s delay from 0 to this',
  ),

  // Notification service (the downstream of this project, not Google's)
  notifierCallMs: c(100, 'ms per batch call', 'assumed', 'the figure of the design\'s origin (docs/design.md "Origin": 0.1 s per call of 100 recipients), also issue 15\'s sink latency'),
  channelsPerSubscriber: c(1, 'channels', 'assumed', 'one notification per shopper (email or push); a shopper on both channels doubles the ledger writes'),
} as const satisfies Record<string, Constant>;

/** The monotonic fields each collection's hot path writes with a value near "now" (lib/delivery/ledger.ts, lib/fanout/claim.ts). */
export const MONOTONIC_FIELDS: Record<string, readonly string[]> = {
  deliveries: ['createdAtMs', 'updatedAtMs', 'leaseExpiresAtMs', 'sentAtMs', 'expireAt'],
  fanouts: ['startedAtMs', 'updatedAtMs', 'leaseExpiresAtMs', 'firstTaskAtMs', 'completedAtMs'],
};

/**
 * Fields that are the same for every write of one event's burst (or take a
 * handful of values): an index that puts a monotonic field after only these
 * is one hot range, and an index led by them keeps one event's entries in one
 * narrow key range per value (./firestore-load.ts). Any other field is taken
 * to spread its entries over the index (per-shopper or per-document values).
 */
export const CONSTANT_IN_A_BURST = new Set(['eventKey', 'productId', 'state', 'channel', 'attempts', 'lastError', 'wave', 'generation', 'recipients', 'locale']);

/**
 * Fields with a small fixed set of values that spread one event's writes over
 * that many index prefixes: the ledger's shard (lib/model.ts `ledgerShardOf`,
 * 256 values from the entry's hashed id). An index led by one holds an event
 * in one prefix per value; warm, each is a range of its own, new for the
 * event, ramping apart from the others; cold, the index had no traffic to
 * split it and is one range (./firestore-load.ts).
 */
export const SPREAD_OVER_PREFIXES = new Set(['shard']);
