/**
 * The outbox row as plain data, whatever database keeps it (docs/design.md
 * "Firestore data model": `outbox/{eventId}`, or the Spanner `Outbox` table).
 * Times are milliseconds since the epoch.
 */

/** `pending` waits for a publish; `sent` reached Pub/Sub; `failed` needs an operator (redrivable). */
export type OutboxState = 'pending' | 'sent' | 'failed';
export const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'sent', 'failed'];

/** Which way in published a row: right after the commit, or the periodic sweep. */
export type PublishPath = 'fast-path' | 'sweep';

export interface OutboxRow {
  /** Document id / primary key, and the `eventId` attribute of the message (the consumers' dedup identity). */
  eventId: string;
  productId: string;
  sequence: number;
  /**
   * The whole event as of the change. Kept as stored (unknown), because a row
   * edited by hand must be judged again at publish time, not trusted.
   */
  event: unknown;
  state: OutboxState;
  /** Publish attempts that failed so far. */
  attempts: number;
  /** When the stock change was staged (in its transaction). */
  stagedAtMs: number;
  /**
   * When the row may next be claimed. A claim moves it to the end of the lease,
   * so one query (`pending` and due) finds both new rows and abandoned claims.
   */
  nextAttemptAtMs: number;
  leaseOwner: string | null;
  leaseExpiresAtMs: number | null;
  publishedAtMs: number | null;
  messageId: string | null;
  publishedBy: PublishPath | null;
  lastError: string | null;
  /** Set once final (sent): the TTL policy deletes the row after it. */
  expireAtMs: number | null;
  /**
   * The W3C `traceparent` of the request that made the stock change, when it
   * had one (lib/trace): the relay publishes under it, so the restock's log
   * lines group under the stock change's trace whichever way the row is
   * published. Kept by the Firestore adapter; the Spanner table has no column
   * for it (its relay publishes under its own trace).
   */
  traceparent?: string;
}

/** What a relay writes back after one publish attempt. */
export type Settlement =
  | { eventId: string; state: 'sent'; publishedAtMs: number; messageId: string; publishedBy: PublishPath; expireAtMs: number }
  | { eventId: string; state: 'pending'; attempts: number; nextAttemptAtMs: number; lastError: string }
  | { eventId: string; state: 'failed'; attempts: number; lastError: string };

/** Counts per state and the oldest pending row, for `restock outbox status` and the alert. */
export interface OutboxStats {
  pending: number;
  sent: number;
  failed: number;
  /** stagedAtMs of the oldest pending row; null when none is pending. */
  oldestPendingStagedAtMs: number | null;
}

/** The persistence a relay needs; the Firestore and Spanner adapters implement it. */
export interface OutboxStore {
  /**
   * Atomically takes a lease on up to `limit` claimable rows: the given ids
   * (fast path, schedule ignored) or the due pending rows oldest-first (sweep).
   * Rows another relay holds are left alone.
   */
  claim(request: ClaimRequest): Promise<OutboxRow[]>;
  /** Writes the outcomes back, each only if {@link settleDecision} allows it. */
  settle(owner: string, settlements: readonly Settlement[]): Promise<void>;
  get(eventId: string): Promise<OutboxRow | undefined>;
  list(state: OutboxState, limit: number): Promise<OutboxRow[]>;
  stats(): Promise<OutboxStats>;
  /** Puts `failed` rows back to `pending`, due now, attempts reset. Returns the ids redriven. */
  redrive(eventIds: readonly string[], nowMs: number): Promise<RedriveResult[]>;
  /** Every failed row's id (for `--all-failed`), up to `limit`. */
  failedIds(limit: number): Promise<string[]>;
}

export interface ClaimRequest {
  eventIds?: readonly string[];
  nowMs: number;
  leaseMs: number;
  owner: string;
  limit: number;
}

export type RedriveResult = { eventId: string; outcome: 'redriven' } | { eventId: string; outcome: 'not-found' } | { eventId: string; outcome: 'not-redrivable'; state: OutboxState };
