/**
 * Firestore's capacity as Google documents it, for the production clock:
 *
 * - **key ranges ramp up** ("500/50/5"): a key range that had no recent
 *   traffic serves 500 operations/s, and 50 % more every 5 minutes of
 *   traffic as Firestore splits it (`rampCapacity`). A range is a collection's
 *   documents, or an index's entries under one prefix: an index led by
 *   fields that are the same for a whole event (`eventKey`, `state`) keeps
 *   that event's entries in one narrow range, new for every event
 *   (`rangeOf`); an index led by a per-shopper value spreads them over the
 *   whole index; one led by the ledger's shard keeps an event under one
 *   prefix per shard, each a range of its own when warm. A monotonic field's last range is the 500 writes/s the clock
 *   already holds sequential indexes to (./world.ts), so it is left out here.
 * - **one document sustains about one write a second** (with a small burst).
 *
 * Beyond either, reads wait and writes wait up to a tolerance, then are
 * refused: RESOURCE_EXHAUSTED on a range ("the ramp up limit for writes"),
 * ABORTED on a document ("too much contention"). Every figure is a constant
 * of ./constants.ts with its source. Pure functions, and one stateful
 * `FirestoreLoad` the world asks before each RPC.
 */
import { CONSTANTS as K, CONSTANT_IN_A_BURST, MONOTONIC_FIELDS, SPREAD_OVER_PREFIXES } from './constants.ts';
import { indexMutations, type IndexConfig, type IndexEntry } from './index-entries.ts';

/** Where a shard's value starts in a range's name ({@link rangeOf}). */
const SHARD_MARK = ` ${[...SPREAD_OVER_PREFIXES][0]}=`;

type Data = Record<string, unknown>;

/** The ramp-up rule: operations/s a new range starts at, growth per step, step length. */
export interface RampRule {
  startOpsPerSecond: number;
  growth: number;
  stepMs: number;
}

/** Google's "500/50/5". */
export const RAMP_500_50_5: RampRule = { startOpsPerSecond: K.rampStartOpsPerSecond.value, growth: K.rampGrowth.value, stepMs: K.rampStepMs.value };

/** Operations/s a range serves `ageMs` after its traffic began: 500, then 50 % more at each 5-minute step. */
export function rampCapacity(ageMs: number, rule: RampRule = RAMP_500_50_5): number {
  return rule.startOpsPerSecond * rule.growth ** Math.floor(Math.max(0, ageMs) / rule.stepMs);
}

/**
 * The fewest milliseconds one range that starts cold needs to serve `ops`
 * operations under the rule, whatever the client does: the range's capacity
 * used in full from the first millisecond. A lower bound on any pipeline that
 * sends `ops` operations to one new range.
 */
export function rampLowerBoundMs(ops: number, rule: RampRule = RAMP_500_50_5): number {
  let left = ops;
  let t = 0;
  for (let step = 0; ; step++) {
    const perMs = (rule.startOpsPerSecond * rule.growth ** step) / 1000;
    const inStep = perMs * rule.stepMs;
    if (left <= inStep) return t + left / perMs;
    left -= inStep;
    t += rule.stepMs;
  }
}

/**
 * The key range an index entry lives in: the index (under its parent
 * collection when collection-scoped) and the values of its leading fields as
 * long as they are the same for a whole burst (./constants.ts
 * CONSTANT_IN_A_BURST); undefined when the next field is monotonic and the
 * entry is being inserted (the index's last range: the sequential limit's).
 */
export function rangeOf(entry: IndexEntry, inserted: boolean): string | undefined {
  const collection = entry.parent.slice(entry.parent.lastIndexOf('/') + 1);
  let key = `${entry.scope === 'COLLECTION' ? entry.parent : collection} index ${entry.index}`;
  for (let i = 0; i < entry.fields.length; i++) {
    const f = entry.fields[i]!;
    if (CONSTANT_IN_A_BURST.has(f) || SPREAD_OVER_PREFIXES.has(f)) {
      const v = entry.values[i];
      key += ` ${f}=${typeof v === 'string' ? `"${v}"` : String(v)}`;
      continue;
    }
    if (inserted && (MONOTONIC_FIELDS[collection] ?? []).includes(f)) return undefined;
    break;
  }
  return key;
}

/** The operations one document write puts on each range: one on its collection's documents, one per index entry inserted or removed. */
export function rangesOfWrite(config: IndexConfig, path: string, before: Data | undefined, after: Data | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string | undefined) => k !== undefined && out.set(k, (out.get(k) ?? 0) + 1);
  add(`${path.slice(0, path.lastIndexOf('/'))} documents`);
  const m = indexMutations(config, path, before, after);
  for (const e of m.inserted) add(rangeOf(e, true));
  for (const e of m.removed) add(rangeOf(e, false));
  return out;
}

/** How much recent traffic the ranges had before the restock. */
export type Temperature =
  /** None: every range ramps from 500/s at its first operation. */
  | 'cold'
  /** Ranges that existed before the event serve whatever they are asked (recent traffic split them); ranges new for this event (its key in their name) ramp. */
  | 'warm'
  /** No ramp at all (the clock before issue 39): what the pipeline would do on a Firestore that never refuses. */
  | 'unlimited';

/** One range's state: when its traffic began and until when its queued work keeps it busy. */
interface RangeState {
  startMs: number;
  busyUntilMs: number;
  ops: number;
  refusals: number;
}

/** What the load did to a run, for the report. */
export interface LoadStats {
  /** Ranges that ramped, with their operations and refusals, busiest first. */
  ranges: { range: string; ops: number; refusals: number; newForEvent: boolean }[];
  refusedWrites: { resourceExhausted: number; aborted: number };
  /** Virtual ms reads waited on busy ranges. */
  readWaitMs: number;
}

/**
 * Firestore's ranges and documents during one run: asked by the world before
 * each read (how long it waits) and each commit (admitted, or refused with a
 * gRPC code).
 */
export class FirestoreLoad {
  private readonly ranges = new Map<string, RangeState>();
  private readonly documents = new Map<string, { tokens: number; atMs: number }>();
  private resourceExhausted = 0;
  private aborted = 0;
  private readWaitMs = 0;

  constructor(
    private readonly temperature: Temperature,
    /** The event's key: a range whose name holds it is new for this event (its index prefix, its chunk receipts). */
    private readonly eventKey: string,
    private readonly rule: RampRule = RAMP_500_50_5,
  ) {}

  /**
   * Cold, an index no recent traffic split is one range, whatever prefixes
   * its entries land in (as a collection's documents are): the prefixes of
   * every shard (`SPREAD_OVER_PREFIXES`) fold into their index. Warm, each
   * shard's prefix of the event is a range of its own, new for the event.
   */
  private byRange(ops: Map<string, number>): Map<string, number> {
    if (this.temperature !== 'cold') return ops;
    const out = new Map<string, number>();
    for (const [range, n] of ops) {
      const at = range.indexOf(SHARD_MARK);
      const key = at < 0 ? range : range.slice(0, at);
      out.set(key, (out.get(key) ?? 0) + n);
    }
    return out;
  }

  private ramps(range: string): boolean {
    if (this.temperature === 'unlimited') return false;
    return this.temperature === 'cold' || range.includes(this.eventKey);
  }

  private state(range: string, nowMs: number): RangeState {
    let s = this.ranges.get(range);
    if (!s) this.ranges.set(range, (s = { startMs: nowMs, busyUntilMs: nowMs, ops: 0, refusals: 0 }));
    return s;
  }

  /** When `ops` more operations on `range` would be done, if queued now. */
  private doneAt(range: string, ops: number, nowMs: number): number {
    const s = this.state(range, nowMs);
    const start = Math.max(nowMs, s.busyUntilMs);
    return start + (ops / rampCapacity(start - s.startMs, this.rule)) * 1000;
  }

  /** Milliseconds a read of `ops` documents from these ranges waits behind queued work (it is queued too). */
  read(ops: Map<string, number>, nowMs: number): number {
    let wait = 0;
    for (const [range, n] of this.byRange(ops)) {
      if (!this.ramps(range)) continue;
      const done = this.doneAt(range, n, nowMs);
      const s = this.state(range, nowMs);
      s.busyUntilMs = done;
      s.ops += n;
      wait = Math.max(wait, done - nowMs);
    }
    this.readWaitMs += wait;
    return wait;
  }

  /**
   * Admits a commit: its operations per range, and the documents it writes.
   * Resolves to the ms it waits, or refuses it (nothing is booked): ABORTED
   * when a document is over its sustained rate and burst, RESOURCE_EXHAUSTED
   * when a range would be busy longer than the tolerance.
   */
  write(ops: Map<string, number>, documents: readonly string[], nowMs: number): { waitMs: number } | { refused: 'ABORTED' | 'RESOURCE_EXHAUSTED'; what: string } {
    if (this.temperature !== 'unlimited') {
      for (const d of documents) {
        const b = this.documents.get(d) ?? { tokens: K.documentWriteBurst.value, atMs: nowMs };
        b.tokens = Math.min(K.documentWriteBurst.value, b.tokens + ((nowMs - b.atMs) / 1000) * K.documentWritesPerSecond.value);
        b.atMs = nowMs;
        this.documents.set(d, b);
        if (b.tokens < 1) {
          this.aborted++;
          return { refused: 'ABORTED', what: d };
        }
      }
    }
    let wait = 0;
    const plan: [RangeState, number, number][] = [];
    for (const [range, n] of this.byRange(ops)) {
      if (!this.ramps(range)) continue;
      const done = this.doneAt(range, n, nowMs);
      const s = this.state(range, nowMs);
      if (done - nowMs > K.rangeQueueToleranceMs.value) {
        s.refusals++;
        this.resourceExhausted++;
        return { refused: 'RESOURCE_EXHAUSTED', what: range };
      }
      plan.push([s, done, n]);
      wait = Math.max(wait, done - nowMs);
    }
    for (const [s, done, n] of plan) {
      s.busyUntilMs = done;
      s.ops += n;
    }
    if (this.temperature !== 'unlimited') for (const d of documents) this.documents.get(d)!.tokens -= 1;
    return { waitMs: wait };
  }

  /** Writes refused so far (both kinds). */
  refusals(): number {
    return this.resourceExhausted + this.aborted;
  }

  stats(): LoadStats {
    return {
      ranges: [...this.ranges]
        .map(([range, s]) => ({ range, ops: s.ops, refusals: s.refusals, newForEvent: range.includes(this.eventKey) }))
        .sort((a, b) => b.ops - a.ops),
      refusedWrites: { resourceExhausted: this.resourceExhausted, aborted: this.aborted },
      readWaitMs: Math.round(this.readWaitMs),
    };
  }
}
