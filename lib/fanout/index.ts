/**
 * Fan-out: turns one restock event into chunked delivery tasks.
 *
 * {@link handleFanout} is what `fanOutRestock` calls for each request;
 * {@link replayFanout} is what `restock replay` calls. Errors it throws:
 * {@link LeaseHeldError} / {@link LeaseLostError} (retry later),
 * {@link FanoutNotFoundError}, {@link FanoutNotReplayableError}, and
 * `EnqueueError` or Firestore errors (transient: retry).
 */
import { subscriptionsRef, type FanoutDoc } from '../model.ts';
import type { Incoming } from '../events/index.ts';
import { attemptId, type Runtime } from '../runtime.ts';
import type { Logger } from '../log.ts';
import { claimForEvent, claimStored, fanoutRef, type ClaimResult } from './claim.ts';
import { runFanout, type FanoutProgress } from './run.ts';
import { FanoutNotFoundError, FanoutNotReplayableError, LeaseHeldError } from './errors.ts';

export { LeaseHeldError, LeaseLostError, FanoutNotFoundError, FanoutNotReplayableError } from './errors.ts';
export { chunk, chunkTaskId, continuationTaskId, eventTaskPrefix, redriveTaskId } from './naming.ts';
export { recordRejectedEvent } from './rejected.ts';
export type { FanoutProgress } from './run.ts';

/** What became of one request to the fan-out. Every kind is an acknowledgement. */
export type FanoutOutcome =
  | ({ kind: 'completed' | 'continued'; eventKey: string; productId: string } & FanoutProgress)
  | { kind: 'duplicate'; eventKey: string; productId: string; state: FanoutDoc['state'] }
  | { kind: 'ignored'; eventKey: string; productId: string; reason: string };

/**
 * Handles one parsed request: claims the fan-out, then pages it to the end
 * (or to a hand-over).
 */
export async function handleFanout(rt: Runtime, incoming: Incoming, log: Logger): Promise<FanoutOutcome> {
  const owner = attemptId();
  const startedAtMs = rt.now();
  const o = { owner, nowMs: startedAtMs, leaseMs: rt.config.fanoutLeaseMs, threshold: rt.config.restockThreshold, maxSequenceJump: rt.config.maxSequenceJump };
  const claim: ClaimResult =
    incoming.kind === 'event' ? await claimForEvent(rt.db, incoming, o) : await claimStored(rt.db, incoming.eventKey, o);
  const { eventKey, productId } = claim.fanout;
  log = log.child({ eventKey, productId });
  if (claim.kind === 'done') {
    log.info('fan-out already settled; acknowledging', { state: claim.fanout.state });
    return { kind: 'duplicate', eventKey, productId, state: claim.fanout.state };
  }
  if (claim.kind === 'ignored') {
    log.info('event ignored', { reason: claim.fanout.reason });
    return { kind: 'ignored', eventKey, productId, reason: claim.fanout.reason ?? 'ignored' };
  }
  log.info(claim.fanout.attempts > 1 ? 'fan-out resumed from checkpoint' : 'fan-out started', {
    attempt: claim.fanout.attempts,
    cursor: claim.fanout.cursor,
    generation: claim.fanout.generation,
  });
  const result = await runFanout(rt, claim.fanout, { owner, startedAtMs, log });
  return { ...result, eventKey, productId };
}

export interface ReplayResult extends FanoutProgress {
  eventKey: string;
  productId: string;
  dryRun: boolean;
  /** The generation the replay ran (or would run) under. */
  generation: number;
  /** How it ended: `completed`, `continued` (handed to a continuation task), or `dry-run`. */
  outcome: 'completed' | 'continued' | 'dry-run';
}

/**
 * Runs the fan-out again for a stored event (`fanouts/{eventKey}`) under a new
 * generation, from the first subscriber: new task names, so no old name can
 * hide a chunk; the delivery ledger skips recipients already settled, so a
 * replay can only fill gaps. With `dryRun`, counts what would be enqueued
 * (a count aggregation) and writes nothing.
 * @throws FanoutNotFoundError, FanoutNotReplayableError, LeaseHeldError
 */
export async function replayFanout(
  rt: Runtime,
  eventKey: string,
  options: { dryRun: boolean; onProgress?: (p: FanoutProgress) => void },
): Promise<ReplayResult> {
  const { config } = rt;
  const log = rt.log.child({ eventKey });
  const snap = await fanoutRef(rt.db, eventKey).get();
  if (!snap.exists) throw new FanoutNotFoundError(eventKey);
  const stored = snap.data() as FanoutDoc;
  if (stored.state === 'ignored') throw new FanoutNotReplayableError(eventKey, stored.reason ?? 'ignored');
  const nowMs = rt.now();
  if (stored.state === 'running' && stored.leaseOwner && stored.leaseExpiresAtMs > nowMs) {
    throw new LeaseHeldError(eventKey, stored.leaseExpiresAtMs);
  }

  if (options.dryRun) {
    const count = await subscriptionsRef(rt.db, stored.productId).count().get();
    const recipients = count.data().count;
    return {
      eventKey,
      productId: stored.productId,
      dryRun: true,
      generation: stored.generation + 1,
      outcome: 'dry-run',
      recipients,
      chunks: Math.ceil(recipients / config.chunkSize),
      pages: Math.max(1, Math.ceil(recipients / config.pageSize)),
    };
  }

  const owner = attemptId();
  const claim = await claimStored(
    rt.db,
    eventKey,
    { owner, nowMs, leaseMs: config.fanoutLeaseMs, threshold: config.restockThreshold },
    (existing) => ({
      ...existing,
      state: 'running',
      generation: existing.generation + 1,
      cursor: null,
      pages: 0,
      chunks: 0,
      recipients: 0,
      completedAtMs: undefined,
    }),
  );
  if (claim.kind !== 'run') throw new FanoutNotReplayableError(eventKey, claim.fanout.reason ?? claim.fanout.state);
  log.info('replay started', { generation: claim.fanout.generation, productId: stored.productId });
  const result = await runFanout(rt, claim.fanout, {
    owner,
    startedAtMs: nowMs,
    log,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  return {
    eventKey,
    productId: stored.productId,
    dryRun: false,
    generation: claim.fanout.generation,
    outcome: result.kind,
    pages: result.pages,
    chunks: result.chunks,
    recipients: result.recipients,
  };
}
