/**
 * The fan-out's decisions, pure over plain data: the first claim of an event,
 * who may take over a stored fan-out (lease), what a checkpoint writes, when
 * a fan-out that cannot progress ends `failed`, and what a replay resets.
 * The key ranges' decisions are in `ranges.ts`.
 * `store.ts` reads the document in a transaction and carries them out.
 */
import { canMoveFanout, type FanoutDoc, type FanoutRangeDoc, type ProductDoc, type StoppedAt, type WaveSettings } from '../model.ts';
import type { ReceivedEvent } from '../events/index.ts';
import { decideStockUpdate } from '../restock/index.ts';
import { initialWaves, restartWaves, waveSettingsFor } from './wave-rules.ts';

/** Who is claiming, when, for how long, and the restock threshold. */
export interface ClaimOptions {
  owner: string;
  nowMs: number;
  leaseMs: number;
  threshold: number;
  /** RESTOCK_MAX_SEQUENCE_JUMP; unbounded when omitted. */
  maxSequenceJump?: number;
  /** The global wave settings (RESTOCK_WAVE_*); a product's own win. Omitted: no waves. */
  waves?: WaveSettings;
  /** RESTOCK_LEDGER_SHARDS, recorded on the fan-out: its deliveries shard the ledger entries in this many. */
  ledgerShards: number;
}

/** What a claim decided. */
export type ClaimResult =
  /** This attempt holds the lease and must page from `fanout.cursor` (or, with `range`, that key range from its cursor). */
  | { kind: 'run'; fanout: FanoutDoc; range?: FanoutRangeDoc }
  /** An earlier attempt finished, ignored or failed this event: acknowledge, do nothing. */
  | { kind: 'done'; fanout: FanoutDoc }
  /** Decided now: not a restock, or stale. Stored so redeliveries are cheap. */
  | { kind: 'ignored'; fanout: FanoutDoc };

/** A takeover decision: the claim, or the lease another attempt holds until `leaseExpiresAtMs`. */
export type TakeoverDecision = ClaimResult | { kind: 'held'; leaseExpiresAtMs: number };

/**
 * Whether an attempt may take over a stored fan-out. A settled one
 * (`complete`, `ignored`, `failed`) is left alone: only a replay reopens it. A
 * lease held by another attempt that has not expired is respected.
 */
export function decideTakeover(existing: FanoutDoc, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): TakeoverDecision {
  if (existing.state !== 'running') return { kind: 'done', fanout: existing };
  if (existing.leaseOwner && existing.leaseOwner !== o.owner && existing.leaseExpiresAtMs > o.nowMs) {
    return { kind: 'held', leaseExpiresAtMs: existing.leaseExpiresAtMs };
  }
  return {
    kind: 'run',
    fanout: { ...existing, state: 'running', leaseOwner: o.owner, leaseExpiresAtMs: o.nowMs + o.leaseMs, attempts: existing.attempts + 1, updatedAtMs: o.nowMs },
  };
}

/**
 * How many ids a fan-out reads in its next page: the first page of a chain
 * that starts at the first subscriber (the fan-out's own, or a wave's) is one
 * chunk, so its task exists after one chunk's ids are read rather than a whole
 * page's and the first notification goes out sooner (promise 9); every other
 * page is `pageSize`.
 */
export function pageSizeFor(first: boolean, s: { chunkSize: number; pageSize: number }): number {
  return first ? Math.min(s.chunkSize, s.pageSize) : s.pageSize;
}

/** What the first claim of a received event writes: the fan-out, and the product's next stock state (unless stale). */
export interface FirstClaim {
  result: ClaimResult;
  product: ProductDoc | undefined;
}

/**
 * The first claim of an event nobody has claimed yet: is it a restock (and how
 * it moves the product's stock state), and so does it run or is it ignored.
 */
export function decideFirstClaim(received: Pick<ReceivedEvent, 'eventKey' | 'event' | 'publishTimeMs'>, stored: ProductDoc | undefined, o: ClaimOptions): FirstClaim {
  const { eventKey, event } = received;
  // Every change is stored only while waves are in force (they size a wave from the stored stock).
  const wavesInForce = o.waves !== undefined && waveSettingsFor(o.waves, stored?.waves).multiplier > 0;
  const decision = decideStockUpdate(stored, event, eventKey, o.threshold, o.nowMs, o.maxSequenceJump, wavesInForce || event.waves !== undefined);
  const product = decision.kind === 'stale' || decision.kind === 'jump' ? stored : decision.next;
  const base: FanoutDoc = {
    eventKey,
    productId: event.productId,
    state: 'ignored',
    event: event as unknown as Record<string, unknown>,
    product: {
      available: event.available,
      ...(product?.name !== undefined ? { name: product.name } : {}),
      ...(product?.url !== undefined ? { url: product.url } : {}),
    },
    leaseOwner: null,
    leaseExpiresAtMs: 0,
    cursor: null,
    generation: 0,
    attempts: 1,
    pages: 0,
    chunks: 0,
    recipients: 0,
    startedAtMs: o.nowMs,
    updatedAtMs: o.nowMs,
    chunkReceipts: true,
    // Its deliveries write every ledger entry with its shard: the event queries find them all.
    ledgerShards: o.ledgerShards,
    ...(received.publishTimeMs !== undefined ? { publishTimeMs: received.publishTimeMs } : {}),
  };
  if (decision.kind === 'stale' || decision.kind === 'jump') {
    const reason =
      decision.kind === 'stale'
        ? `stale: sequence ${event.sequence} is not newer than ${decision.storedSequence}`
        : `sequence jump: ${event.sequence} is more than RESTOCK_MAX_SEQUENCE_JUMP (${decision.maxSequenceJump}) past ${decision.storedSequence}; if the producer really moved on, repair with restock product reset-stock`;
    return { result: { kind: 'ignored', fanout: { ...base, reason, completedAtMs: o.nowMs } }, product: undefined };
  }
  if (decision.kind === 'not-restock') {
    const reason = `not a restock: ${decision.previousAvailable} -> ${event.available} (threshold ${o.threshold})`;
    return { result: { kind: 'ignored', fanout: { ...base, reason, completedAtMs: o.nowMs } }, product: decision.next };
  }
  // Waves are decided once, here, with the stock change: a setting changed mid-restock does not reorder it.
  const waves = o.waves ? initialWaves(waveSettingsFor(o.waves, decision.next.waves), o.nowMs) : undefined;
  const running: FanoutDoc = { ...base, state: 'running', leaseOwner: o.owner, leaseExpiresAtMs: o.nowMs + o.leaseMs, ...(waves ? { waves } : {}) };
  return { result: { kind: 'run', fanout: running }, product: decision.next };
}

/** Progress to persist at a checkpoint. */
export type Checkpoint = Pick<FanoutDoc, 'cursor' | 'pages' | 'chunks' | 'recipients'> & {
  firstTaskAtMs?: number;
  /** Set once the chain stopped paging because a newer stock event ended the restock (lib/restock `restockStanding`). */
  stopped?: StoppedAt;
};

/** How a checkpoint ends the attempt's hold: keep the lease, hand it back (continuation), or finish. */
export type CheckpointMode = 'renew' | 'release' | 'finish';

/**
 * The document a checkpoint writes, or `lost` when this attempt no longer
 * owns the lease (another took over: it must stop, so only one attempt pages).
 * The first task's time is recorded once: an earlier attempt's wins.
 */
export function decideCheckpoint(current: FanoutDoc | undefined, progress: Checkpoint, mode: CheckpointMode, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): FanoutDoc | 'lost' {
  if (!current || current.leaseOwner !== o.owner || current.state !== 'running') return 'lost';
  const firstTaskAtMs = current.firstTaskAtMs ?? progress.firstTaskAtMs;
  const keep = mode === 'renew';
  return {
    ...current,
    ...progress,
    ...(firstTaskAtMs !== undefined ? { firstTaskAtMs } : {}),
    updatedAtMs: o.nowMs,
    leaseExpiresAtMs: keep ? o.nowMs + o.leaseMs : 0,
    leaseOwner: keep ? o.owner : null,
    ...(mode === 'finish' ? { state: 'complete' as const, completedAtMs: o.nowMs } : {}),
  };
}

/**
 * The document that records a fan-out as `failed` with `error`, or undefined
 * when it must not be touched: it is not `running` (settled states never
 * reopen), or another attempt holds a live lease on it (that attempt is
 * progressing, and will decide for itself).
 */
export function decideFailure(current: FanoutDoc | undefined, error: string, o: Pick<ClaimOptions, 'owner' | 'nowMs'>): FanoutDoc | undefined {
  if (!current || !canMoveFanout(current.state, 'failed') || current.state !== 'running') return undefined;
  if (current.leaseOwner && current.leaseOwner !== o.owner && current.leaseExpiresAtMs > o.nowMs) return undefined;
  return { ...current, state: 'failed', error, leaseOwner: null, leaseExpiresAtMs: 0, completedAtMs: o.nowMs, updatedAtMs: o.nowMs };
}

/** Why a stored fan-out cannot be replayed now. */
export type ReplayRefusal = { kind: 'ignored'; reason: string } | { kind: 'held'; leaseExpiresAtMs: number };

/** Whether a stored fan-out may be replayed now: never an ignored one, never under another attempt's live lease. */
export function replayRefusal(stored: FanoutDoc, nowMs: number): ReplayRefusal | undefined {
  if (stored.state === 'ignored') return { kind: 'ignored', reason: stored.reason ?? 'ignored' };
  if (stored.state === 'running' && stored.leaseOwner && stored.leaseExpiresAtMs > nowMs) return { kind: 'held', leaseExpiresAtMs: stored.leaseExpiresAtMs };
  return undefined;
}

/**
 * A replay's fresh start: the next generation (new task names, so no old name
 * hides a chunk), from the first subscriber, counters at zero, running again
 * whether it had completed or failed, and marked as one whose chunks get receipts.
 */
export function resetForReplay(existing: FanoutDoc): FanoutDoc {
  // The ranges of the old generation are left behind: the new one plans its own after its first chunk.
  const { completedAtMs: _completed, error: _error, ranges: _ranges, stopped: _stopped, ...rest } = existing;
  // Delivery writes a receipt for every chunk of the new generation, whatever the fan-out's age.
  return {
    ...rest,
    state: 'running',
    generation: existing.generation + 1,
    cursor: null,
    pages: 0,
    chunks: 0,
    recipients: 0,
    chunkReceipts: true,
    ...(existing.waves ? { waves: restartWaves(existing.waves) } : {}),
  };
}
