/**
 * The fan-out's orchestration: {@link handleFanout} claims a fan-out for one
 * parsed request (an event or a continuation) and pages it to the end or to
 * a hand-over; {@link replayFanout} runs a stored one again for `restock
 * replay`. Errors they throw: {@link LeaseHeldError} / {@link LeaseLostError}
 * (retry later), {@link FanoutNotFoundError}, {@link FanoutNotReplayableError},
 * and `EnqueueError` or Firestore errors (transient: retry).
 */
import { subscriptionsRef, type FanoutDoc } from '../model.ts';
import type { Incoming } from '../events/index.ts';
import { attemptId, type Runtime } from '../runtime.ts';
import type { Logger } from '../log.ts';
import { EnqueueError } from '../tasks/index.ts';
import { claimForEvent, claimStored, failFanout, readFanout } from './store.ts';
import { replayRefusal, resetForReplay, type ClaimResult } from './rules.ts';
import { runFanout, type FanoutProgress } from './run.ts';
import { runWaves } from './waves.ts';
import { waveSettingsOf } from './wave-rules.ts';
import { claimStoredRange, failRange, type RangeRef } from './ranges-store.ts';
import { FanoutNotFoundError, FanoutNotReplayableError, LeaseHeldError, LeaseLostError } from './errors.ts';

/** What became of one request to the fan-out. Every kind is an acknowledgement. */
export type FanoutOutcome =
  | ({ kind: 'completed' | 'continued'; eventKey: string; productId: string } & FanoutProgress)
  | { kind: 'duplicate'; eventKey: string; productId: string; state: FanoutDoc['state'] }
  | { kind: 'ignored'; eventKey: string; productId: string; reason: string }
  /** The fan-out cannot progress: recorded `failed` with its error (visible, alerted, replayable). */
  | { kind: 'failed'; eventKey: string; productId: string; error: string }
  /** A continuation of a fan-out that is not stored: it can never succeed, so it is acknowledged. */
  | { kind: 'not-found'; eventKey: string };

/** Where the request stands among the retries of whoever delivers it. */
export interface FanoutAttempt {
  /**
   * True on the last attempt its sender will make (a continuation task on the
   * queue's last attempt, an event on the push subscription's last delivery
   * before the dead-letter topic): if this one fails, nobody continues the
   * fan-out, so it ends `failed` instead of staying `running`.
   */
  lastAttempt: boolean;
}

/**
 * Whether a failure of a fan-out attempt means it can no longer progress: the
 * queue refused a task for good (no retry changes that), or the attempt was
 * the last one its sender makes. A lease held or lost is someone else's work.
 */
export function cannotProgress(err: unknown, attempt: FanoutAttempt): boolean {
  if (err instanceof LeaseHeldError || err instanceof LeaseLostError) return false;
  if (err instanceof EnqueueError && err.permanent) return true;
  return attempt.lastAttempt;
}

/** A short, log-safe description of why a fan-out failed (stored as its `error`). */
export function failureText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 1000);
  return String(err).slice(0, 1000);
}

/**
 * Records a fan-out that cannot progress as `failed` with its error and logs
 * `fan-out failed` at ERROR (the alert's message). Resolves to the outcome to
 * acknowledge with, or undefined when the fan-out was left alone (settled
 * meanwhile, or another attempt holds it): then the error stands.
 */
async function fail(rt: Runtime, eventKey: string, productId: string, owner: string, err: unknown, log: Logger, range?: RangeRef): Promise<FanoutOutcome | undefined> {
  const error = failureText(err);
  let failed: FanoutDoc | undefined;
  try {
    // A range that cannot progress fails the whole fan-out: its recipients would otherwise never be enqueued.
    if (range) await failRange(rt.db, eventKey, range, error, { owner, nowMs: rt.now() });
    failed = await failFanout(rt.db, eventKey, error, { owner, nowMs: rt.now() });
  } catch (recordErr) {
    // Firestore is the likely cause of both; the original error stands and the sender retries.
    log.warn('could not record the fan-out as failed', { err: recordErr });
    return undefined;
  }
  if (!failed) return undefined;
  log.error('fan-out failed', { eventKey, productId, error, ...(range ? { range: range.index } : {}) });
  return { kind: 'failed', eventKey, productId, error };
}

/**
 * Handles one parsed request: claims the fan-out, then pages it to the end
 * (or to a hand-over).
 */
export async function handleFanout(rt: Runtime, incoming: Incoming, log: Logger, attempt: FanoutAttempt = { lastAttempt: false }): Promise<FanoutOutcome> {
  const owner = attemptId();
  const startedAtMs = rt.now();
  const o = {
    owner,
    nowMs: startedAtMs,
    leaseMs: rt.config.fanoutLeaseMs,
    threshold: rt.config.restockThreshold,
    maxSequenceJump: rt.config.maxSequenceJump,
    ledgerShards: rt.config.ledgerShards,
    waves: waveSettingsOf(rt.config),
  };
  let claim: ClaimResult;
  try {
    claim =
      incoming.kind === 'event'
        ? await claimForEvent(rt.db, incoming, o)
        : incoming.range
          ? await claimStoredRange(rt.db, incoming.eventKey, incoming.range, o)
          : await claimStored(rt.db, incoming.eventKey, o);
  } catch (err) {
    if (err instanceof FanoutNotFoundError) {
      log.error('continuation of an unknown fan-out; acknowledging', { eventKey: incoming.eventKey });
      return { kind: 'not-found', eventKey: incoming.eventKey };
    }
    if (cannotProgress(err, attempt)) {
      const productId = incoming.kind === 'event' ? incoming.event.productId : ((await readFanout(rt.db, incoming.eventKey).catch(() => undefined))?.productId ?? '');
      const range = incoming.kind === 'continuation' ? incoming.range : undefined;
      const failed = await fail(rt, incoming.eventKey, productId, owner, err, log.child({ productId }), range);
      if (failed) return failed;
    }
    throw err;
  }
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
  try {
    // A restock in waves (docs/waves.md) takes its own path; without waves the paging is as it always was.
    const result = claim.fanout.waves
      ? await runWaves(rt, claim.fanout, { owner, startedAtMs, log })
      : await runFanout(rt, claim.fanout, { owner, startedAtMs, log, ...(claim.range ? { range: claim.range } : {}) });
    if (result.kind === 'completed') rt.metrics?.fanoutEnded(rt.now() - claim.fanout.startedAtMs, 'completed');
    return { ...result, eventKey, productId };
  } catch (err) {
    if (cannotProgress(err, attempt)) {
      const failed = await fail(rt, eventKey, productId, owner, err, log, claim.range);
      if (failed) rt.metrics?.fanoutEnded(rt.now() - claim.fanout.startedAtMs, 'failed');
      if (failed) return failed;
    }
    throw err;
  }
}

/** What a replay did (or, with `dryRun`, would do). */
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
 * (a count aggregation) and writes nothing. A replay that cannot finish
 * (the queue refuses, Firestore fails) leaves the fan-out `failed` with the
 * error, and throws it.
 * @throws FanoutNotFoundError, FanoutNotReplayableError, LeaseHeldError, EnqueueError
 */
export async function replayFanout(
  rt: Runtime,
  eventKey: string,
  options: { dryRun: boolean; onProgress?: (p: FanoutProgress) => void },
): Promise<ReplayResult> {
  const { config } = rt;
  const log = rt.log.child({ eventKey });
  const stored = await readFanout(rt.db, eventKey);
  const nowMs = rt.now();
  const refusal = replayRefusal(stored, nowMs);
  if (refusal?.kind === 'ignored') throw new FanoutNotReplayableError(eventKey, refusal.reason);
  if (refusal?.kind === 'held') throw new LeaseHeldError(eventKey, refusal.leaseExpiresAtMs);

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
    { owner, nowMs, leaseMs: config.fanoutLeaseMs, threshold: config.restockThreshold, ledgerShards: config.ledgerShards },
    resetForReplay,
  );
  if (claim.kind !== 'run') throw new FanoutNotReplayableError(eventKey, claim.fanout.reason ?? claim.fanout.state);
  log.info('replay started', { generation: claim.fanout.generation, productId: stored.productId });
  let result: Awaited<ReturnType<typeof runFanout>>;
  try {
    result = await (claim.fanout.waves ? runWaves : runFanout)(rt, claim.fanout, {
      owner,
      startedAtMs: nowMs,
      log,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (err) {
    // Nobody retries a replay by itself: a replay that cannot finish is a failed fan-out, not a running one.
    if (cannotProgress(err, { lastAttempt: true })) await fail(rt, eventKey, stored.productId, owner, err, log.child({ productId: stored.productId }));
    throw err;
  }
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
