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

  // Notification service (the downstream of this project, not Google's)
  notifierCallMs: c(100, 'ms per batch call', 'assumed', 'the figure of the design\'s origin (docs/design.md "Origin": 0.1 s per call of 100 recipients), also issue 15\'s sink latency'),
  channelsPerSubscriber: c(1, 'channels', 'assumed', 'one notification per shopper (email or push); a shopper on both channels doubles the ledger writes'),
} as const satisfies Record<string, Constant>;

/** The monotonic fields each collection's hot path writes with a value near "now" (lib/delivery/ledger.ts, lib/fanout/claim.ts). */
export const MONOTONIC_FIELDS: Record<string, readonly string[]> = {
  deliveries: ['createdAtMs', 'updatedAtMs', 'leaseExpiresAtMs', 'sentAtMs', 'expireAt'],
  fanouts: ['startedAtMs', 'updatedAtMs', 'leaseExpiresAtMs', 'firstTaskAtMs', 'completedAtMs'],
};

/** Fields that are the same for every write of one event's burst: an index that puts a monotonic field after only these is one hot range. */
export const CONSTANT_IN_A_BURST = new Set(['eventKey', 'productId', 'state']);
