/**
 * The relay: claims pending rows with a lease, publishes each with its
 * `eventId` attribute, and writes back what happened. Two ways in, one code
 * path ({@link OutboxRelay.relay}): right after a commit, for the rows just
 * staged ({@link OutboxRelay.publishNow}, bounded wait), and the sweep for
 * whatever that missed ({@link OutboxRelay.sweep}: a crash after the commit, a
 * Pub/Sub outage, a timeout).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { errorFields, type Logger } from '../log.ts';
import { outgoingTraceparent, parseTraceparent, runWithTrace } from '../trace/index.ts';
import { publishability, settlementFor, type AttemptOutcome, type OutboundMessage, type RetryPolicy } from './decide.ts';
import type { OutboxRow, OutboxStore, PublishPath, Settlement } from './model.ts';
import type { Publisher } from './publisher.ts';
import type { MetricsRecorder } from '../metrics/index.ts';

/** `message` with the ambient trace as its `traceparent` attribute, which fan-out continues (lib/trace). */
function withTrace(message: OutboundMessage): OutboundMessage {
  const traceparent = outgoingTraceparent();
  return traceparent ? { ...message, attributes: { ...message.attributes, traceparent } } : message;
}

export interface RelayOptions extends RetryPolicy {
  /** How long a claim lasts; a relay that dies holding one delays its rows this long. */
  leaseMs: number;
  /** How long a sent row is kept before TTL deletes it. */
  sentTtlMs: number;
  /** Rows claimed per round trip by the sweep. */
  batchSize: number;
  log: Logger;
  now?: () => number;
  /** Lease owner name; default host:pid:random. */
  owner?: string;
  /** Records commit-to-publish lag of each published row (lib/metrics); absent records nothing. */
  metrics?: Pick<MetricsRecorder, 'outboxPublished'>;
}

/** What one call of the relay did. */
export interface RelayReport {
  claimed: number;
  sent: number;
  /** Publish failed; the row waits for its back-off. */
  retried: number;
  failed: number;
}

/** What the fast path saw within its bound. */
export interface FastPathReport {
  /** Every row given was published within the wait. */
  published: boolean;
  waitedMs: number;
}

const EMPTY: RelayReport = { claimed: 0, sent: 0, retried: 0, failed: 0 };

function add(a: RelayReport, b: RelayReport): RelayReport {
  return { claimed: a.claimed + b.claimed, sent: a.sent + b.sent, retried: a.retried + b.retried, failed: a.failed + b.failed };
}

export class OutboxRelay {
  readonly owner: string;
  private readonly now: () => number;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly store: OutboxStore,
    private readonly publisher: Publisher,
    private readonly options: RelayOptions,
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.now = options.now ?? Date.now;
  }

  /**
   * The fast path: publishes the rows of a transaction that just committed,
   * and resolves after at most `waitMs` whatever Pub/Sub does, so a stock update
   * never waits on it longer (promise 12). Work past the bound goes on in the
   * background under its lease; if it never ends, the sweep takes the row when
   * the lease runs out. Never throws: the change is committed, the row is safe.
   */
  async publishNow(eventIds: readonly string[], waitMs: number): Promise<FastPathReport> {
    const started = this.now();
    const work = this.relay({ eventIds, limit: eventIds.length }, 'fast-path').then(
      (r) => r.sent === eventIds.length,
      (err: unknown) => {
        this.options.log.warn('outbox fast path failed; the sweep will publish', { eventIds, err: errorFields(err) });
        return false;
      },
    );
    this.track(work);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
    });
    try {
      const published = await Promise.race([work, bound]);
      return { published, waitedMs: this.now() - started };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Publishes due pending rows, batch after batch, until none is left or
   * `budgetMs` has passed (a sweep must end well inside its function's timeout).
   * @throws whatever the store throws (the scheduler simply calls again).
   */
  async sweep(budgetMs: number): Promise<RelayReport & { batches: number }> {
    const deadline = this.now() + budgetMs;
    let total = EMPTY;
    let batches = 0;
    while (this.now() < deadline) {
      const report = await this.relay({ limit: this.options.batchSize }, 'sweep');
      if (report.claimed === 0) break;
      total = add(total, report);
      batches++;
    }
    return { ...total, batches };
  }

  /** Resolves once background fast-path work has ended (graceful shutdown, tests). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims (the given ids, or due rows), publishes, settles: the one code path of both ways in. */
  async relay(request: { eventIds?: readonly string[]; limit: number }, path: PublishPath): Promise<RelayReport> {
    const rows = await this.store.claim({
      ...(request.eventIds ? { eventIds: request.eventIds } : {}),
      nowMs: this.now(),
      leaseMs: this.options.leaseMs,
      owner: this.owner,
      limit: request.limit,
    });
    if (rows.length === 0) return EMPTY;
    const settlements = await Promise.all(rows.map((row) => this.attempt(row, path)));
    await this.store.settle(this.owner, settlements);
    const report = { ...EMPTY, claimed: rows.length };
    for (const s of settlements) {
      if (s.state === 'sent') report.sent++;
      else if (s.state === 'pending') report.retried++;
      else report.failed++;
    }
    return report;
  }

  /** Under the stock change's trace when the row kept it, else the ambient one (lib/trace). */
  private attempt(row: OutboxRow, path: PublishPath): Promise<Settlement> {
    const rowTrace = parseTraceparent(row.traceparent);
    return rowTrace ? runWithTrace(rowTrace, () => this.attemptInTrace(row, path)) : this.attemptInTrace(row, path);
  }

  private async attemptInTrace(row: OutboxRow, path: PublishPath): Promise<Settlement> {
    const log = this.options.log.child({ eventKey: row.eventId, productId: row.productId });
    const checked = publishability(row);
    let outcome: AttemptOutcome;
    if (!checked.ok) {
      outcome = { kind: 'unpublishable', reason: checked.reason };
    } else {
      try {
        outcome = { kind: 'published', messageId: await this.publisher.publish(withTrace(checked.message)), path };
      } catch (err) {
        outcome = { kind: 'publish-failed', error: `${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`.slice(0, 1000) };
      }
    }
    const nowMs = this.now();
    const settlement = settlementFor(row, outcome, nowMs, this.options);
    if (settlement.state === 'sent') {
      this.options.metrics?.outboxPublished(nowMs - row.stagedAtMs, path);
      log.info('outbox event published', { path, sequence: row.sequence, messageId: settlement.messageId, attempts: row.attempts + 1, commitToPublishMs: nowMs - row.stagedAtMs });
    } else if (settlement.state === 'pending') {
      log.warn('outbox publish failed; will retry', { path, attempts: settlement.attempts, nextAttemptAtMs: settlement.nextAttemptAtMs, error: settlement.lastError });
    } else {
      log.error('outbox row failed', { path, attempts: settlement.attempts, reason: settlement.lastError, outboxFailed: true });
    }
    return settlement;
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
