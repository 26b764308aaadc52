/**
 * Key ranges: the pure decisions of a fan-out that pages its audience as K
 * ranges in parallel (docs/how-it-works.md "Key ranges"). How many ranges,
 * where to split, what a range's claim and checkpoint write, and when the
 * last range to finish completes the fan-out. `ranges-store.ts` and `run.ts`
 * carry them out.
 *
 * ## Where to split, and why this way
 *
 * Firestore has no way to hand out split points of one product's
 * subscriptions directly:
 * - `PartitionQuery` (`CollectionGroup.getPartitions`) only takes the
 *   database as parent ("Document resource names are not supported") and a
 *   query with no filters or cursors: it would partition every product's
 *   `restockSubscriptions` at once, and return few or no split points inside
 *   one product's share of them.
 * - An offset query (`offset(n).limit(1)`) finds an exact quantile but
 *   Firestore bills (and scans) every skipped document: K-1 of them cost
 *   about (K-1)/2 times a full read of the audience.
 * - A bucket field written at subscribe time would split exactly, but every
 *   existing subscription needs a back-fill first, and one written by an old
 *   version without it would silently fall outside every range (promise 3).
 *
 * So the split points are interpolated: document ids are read as numbers in
 * the alphabet of ids actually seen (the first chunk's ids and the last id),
 * and K-1 points are placed evenly between the fan-out's cursor and the last
 * id. Uniform ids (UUIDs, Firebase Auth uids) come out balanced at once;
 * skewed ones (sequential numbers) are then measured with count aggregations
 * (billed one read per 1,000 index entries, capped with a limit) and the
 * ranges still too large are split again between their own first and last
 * ids, a few rounds at most. Balance only affects speed: whatever the split
 * points, the ranges `(after, s1], (s1, s2], ..., (sK-1, end)` are disjoint
 * and cover everything after the cursor, because Firestore itself evaluates
 * both bounds of each range in its own order.
 */
import type { FanoutDoc, FanoutRangeDoc, FanoutRangePlan } from '../model.ts';
import { isValidDocumentId } from '../model.ts';
import type { Checkpoint, CheckpointMode, ClaimOptions } from './rules.ts';

/** The settings that bound K. */
export interface RangeBounds {
  /** Subscribers per range wanted (RESTOCK_FANOUT_RANGE_TARGET). */
  target: number;
  /** RESTOCK_FANOUT_MIN_RANGES. */
  min: number;
  /** RESTOCK_FANOUT_MAX_RANGES. */
  max: number;
  /** RESTOCK_PAGE_SIZE: a range is never smaller than a page, or it costs a chain for nothing. */
  pageSize: number;
}

/**
 * How many ranges to split `remaining` subscribers into: about one per
 * `target`, within [min, max], and never more than there are pages (a range
 * of less than a page is a chain for nothing). 1 means: do not split.
 */
export function decideRangeCount(remaining: number, b: RangeBounds): number {
  if (b.max <= 1 || remaining <= b.pageSize) return 1;
  const wanted = Math.min(b.max, Math.max(b.min, Math.ceil(remaining / b.target)));
  return Math.max(1, Math.min(wanted, Math.ceil(remaining / b.pageSize)));
}

/** The count a planner asks for at most: enough to choose K, no more (a count aggregation scans what it counts). */
export function countCap(b: RangeBounds): number {
  return b.max * b.target + 1;
}

/** Firestore's order of document ids: their UTF-8 bytes. */
export function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The characters of `ids`, each once, in Firestore's order: the digits split points are written in. */
export function keyAlphabet(ids: readonly string[]): string[] {
  const chars = new Set<string>();
  for (const id of ids) for (const ch of id) chars.add(ch);
  return [...chars].sort(compareIds);
}

/** Digits of the interpolation below the common prefix: enough to tell 10^6 ranges apart in any alphabet. */
const DIGITS = 12;

/** The alphabet's index of the greatest character not after `ch` (-1: before all): monotone, so ids keep their order. */
function digitOf(ch: string | undefined, alphabet: readonly string[]): number {
  if (ch === undefined) return -1;
  let lo = 0;
  let hi = alphabet.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (compareIds(alphabet[mid]!, ch) <= 0) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** `id`'s characters after `prefixLength` as a number in base |alphabet|+1 (0 stands for "no character"). */
function toNumber(id: string, prefixLength: number, alphabet: readonly string[]): bigint {
  const chars = [...id].slice(prefixLength);
  const base = BigInt(alphabet.length + 1);
  let n = 0n;
  for (let i = 0; i < DIGITS; i++) n = n * base + BigInt(digitOf(chars[i], alphabet) + 1);
  return n;
}

function fromNumber(n: bigint, prefix: string, alphabet: readonly string[]): string {
  const base = BigInt(alphabet.length + 1);
  const digits: number[] = [];
  for (let i = 0; i < DIGITS; i++) {
    digits.unshift(Number(n % base));
    n /= base;
  }
  let out = prefix;
  for (const d of digits) {
    // "No character" in the middle cannot be written: the string ends there, which sorts lowest, as 0 does.
    if (d === 0) break;
    out += alphabet[d - 1];
  }
  return out;
}

function commonPrefix(a: string, b: string): string {
  const ca = [...a];
  const cb = [...b];
  let i = 0;
  while (i < ca.length && i < cb.length && ca[i] === cb[i]) i++;
  return ca.slice(0, i).join('');
}

/**
 * Up to `parts - 1` split points strictly between `lo` (null: before every id)
 * and `hi`, placed evenly in the key space of `alphabet`, strictly increasing
 * in Firestore's order, each a valid document id. Fewer when the space
 * between them is too narrow to hold that many.
 */
export function interpolateSplits(lo: string | null, hi: string, parts: number, alphabet: readonly string[]): string[] {
  if (parts < 2 || alphabet.length === 0 || (lo !== null && compareIds(lo, hi) >= 0)) return [];
  const low = lo ?? '';
  const prefix = commonPrefix(low, hi);
  const prefixLength = [...prefix].length;
  const a = toNumber(low, prefixLength, alphabet);
  const b = toNumber(hi, prefixLength, alphabet);
  if (b <= a) return [];
  const out: string[] = [];
  for (let i = 1; i < parts; i++) {
    const split = fromNumber(a + ((b - a) * BigInt(i)) / BigInt(parts), prefix, alphabet);
    if (!isValidDocumentId(split) || compareIds(split, hi) >= 0) continue;
    if (lo !== null && compareIds(split, lo) <= 0) continue;
    if (out.length > 0 && compareIds(split, out.at(-1)!) <= 0) continue;
    out.push(split);
  }
  return out;
}

/** One range's bounds: `(after, until]`, null meaning unbounded. */
export interface RangeBoundsOf {
  after: string | null;
  until: string | null;
}

/** The ranges a plan stands for, in order: `(after, s1], (s1, s2], ..., (sK-1, end)`. */
export function rangesOf(plan: Pick<FanoutRangePlan, 'after' | 'splits'>): RangeBoundsOf[] {
  const bounds = [plan.after, ...plan.splits];
  return bounds.map((after, i) => ({ after, until: plan.splits[i] ?? null }));
}

/** How one planning round measured a range: how many subscribers it holds (up to the count's cap). */
export interface MeasuredRange extends RangeBoundsOf {
  count: number;
}

/**
 * Which measured ranges to split again, and into how many: those holding
 * more than 1.5 targets, largest first, as long as the plan stays within
 * `max` ranges. Empty when the plan is balanced enough (or full).
 */
export function rangesToRefine(measured: readonly MeasuredRange[], b: Pick<RangeBounds, 'target' | 'max' | 'pageSize'>): { index: number; parts: number }[] {
  let room = b.max - measured.length;
  const out: { index: number; parts: number }[] = [];
  const bySize = measured.map((m, index) => ({ index, count: m.count })).sort((x, y) => y.count - x.count);
  for (const { index, count } of bySize) {
    if (room <= 0 || count <= b.target * 1.5 || count <= b.pageSize) break;
    const parts = Math.min(room + 1, Math.ceil(count / b.target));
    if (parts < 2) continue;
    out.push({ index, parts });
    room -= parts - 1;
  }
  return out.sort((x, y) => x.index - y.index);
}

/** The splits of `ranges` with `extra` split points added inside them, in order. */
export function mergeSplits(ranges: readonly RangeBoundsOf[], extra: ReadonlyMap<number, readonly string[]>): string[] {
  const out: string[] = [];
  ranges.forEach((r, i) => {
    for (const s of extra.get(i) ?? []) {
      if ((r.after === null || compareIds(s, r.after) > 0) && (r.until === null || compareIds(s, r.until) < 0)) out.push(s);
    }
    if (r.until !== null) out.push(r.until);
  });
  return out.filter((s, i) => i === 0 || compareIds(s, out[i - 1]!) > 0);
}

/** The id of range `index` of `generation`: `g{generation}r{index}`. */
export function rangeDocId(generation: number, index: number): string {
  return `g${generation}r${index}`;
}

/**
 * The range documents a plan creates: every one `running` from its lower
 * bound, unleased, so whoever starts it (the planner for range 0, a task for
 * the others, a redelivery that finds the planner gone) claims it the same way.
 */
export function initialRanges(fanout: Pick<FanoutDoc, 'eventKey' | 'generation'>, plan: FanoutRangePlan, o: Pick<ClaimOptions, 'nowMs'>): FanoutRangeDoc[] {
  return rangesOf(plan).map(({ after, until }, index) => ({
    eventKey: fanout.eventKey,
    generation: fanout.generation,
    index,
    after,
    until,
    state: 'running',
    cursor: null,
    leaseOwner: null,
    leaseExpiresAtMs: 0,
    attempts: 0,
    pages: 0,
    chunks: 0,
    recipients: 0,
    startedAtMs: o.nowMs,
    updatedAtMs: o.nowMs,
  }));
}

/** What a range's claim decided: run it (holding its lease), it is done (or its fan-out moved on), or another attempt holds it. */
export type RangeTakeover =
  | { kind: 'run'; range: FanoutRangeDoc }
  | { kind: 'done'; reason: string }
  | { kind: 'held'; leaseExpiresAtMs: number };

/**
 * Whether an attempt may page range `range` of `parent` now: only while the
 * fan-out runs the range's generation, the range is `running`, and no other
 * attempt holds a live lease on it.
 */
export function decideRangeTakeover(parent: FanoutDoc | undefined, range: FanoutRangeDoc | undefined, o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>): RangeTakeover {
  if (parent?.state !== 'running') return { kind: 'done', reason: `fan-out is ${parent?.state ?? 'missing'}` };
  if (!range || range.generation !== parent.generation) return { kind: 'done', reason: 'range belongs to another generation' };
  if (range.state !== 'running') return { kind: 'done', reason: `range is ${range.state}` };
  if (range.leaseOwner && range.leaseOwner !== o.owner && range.leaseExpiresAtMs > o.nowMs) return { kind: 'held', leaseExpiresAtMs: range.leaseExpiresAtMs };
  return { kind: 'run', range: { ...range, leaseOwner: o.owner, leaseExpiresAtMs: o.nowMs + o.leaseMs, attempts: range.attempts + 1, updatedAtMs: o.nowMs } };
}

/** What a range's checkpoint writes: the range, and the fan-out when this was the last range to finish. */
export interface RangeCheckpointWrite {
  range: FanoutRangeDoc;
  parent?: FanoutDoc;
}

/**
 * The documents a range's checkpoint writes, or `lost` when this attempt no
 * longer owns the range (taken over), or the fan-out stopped running (failed
 * through another range, or replayed): it must stop. With `finish`, the
 * range completes, and when every other range of the generation is complete
 * too (`siblings`: the other ranges as read in the same transaction), so
 * does the fan-out, its counters the sum of its head and all ranges.
 */
export function decideRangeCheckpoint(
  parent: FanoutDoc | undefined,
  range: FanoutRangeDoc | undefined,
  progress: Checkpoint,
  mode: CheckpointMode,
  o: Pick<ClaimOptions, 'owner' | 'nowMs' | 'leaseMs'>,
  siblings: readonly (FanoutRangeDoc | undefined)[] = [],
): RangeCheckpointWrite | 'lost' {
  if (parent?.state !== 'running' || !range || range.leaseOwner !== o.owner || range.state !== 'running') return 'lost';
  if (range.generation !== parent.generation) return 'lost';
  const keep = mode === 'renew';
  const firstTaskAtMs = range.firstTaskAtMs ?? progress.firstTaskAtMs;
  const next: FanoutRangeDoc = {
    ...range,
    cursor: progress.cursor,
    pages: progress.pages,
    chunks: progress.chunks,
    recipients: progress.recipients,
    ...(firstTaskAtMs !== undefined ? { firstTaskAtMs } : {}),
    ...(progress.stopped && !range.stopped ? { stopped: progress.stopped } : {}),
    updatedAtMs: o.nowMs,
    leaseOwner: keep ? o.owner : null,
    leaseExpiresAtMs: keep ? o.nowMs + o.leaseMs : 0,
    ...(mode === 'finish' ? { state: 'complete' as const, completedAtMs: o.nowMs } : {}),
  };
  if (mode !== 'finish') return { range: next };
  const all = [next, ...siblings.filter((s): s is FanoutRangeDoc => s !== undefined && s.index !== range.index)];
  const count = parent.ranges?.count ?? 1;
  if (all.length < count || all.some((r) => r.state !== 'complete' || r.generation !== parent.generation)) return { range: next };
  return { range: next, parent: completeFromRanges(parent, all, o.nowMs) };
}

/** The fan-out completed by its ranges: the head's counters plus every range's. */
export function completeFromRanges(parent: FanoutDoc, ranges: readonly FanoutRangeDoc[], nowMs: number): FanoutDoc {
  // A restock that stopped in any range stopped (issue 40): the fan-out says so, with the first range that saw it.
  const stopped = ranges.flatMap((r) => (r.stopped ? [r.stopped] : [])).sort((a, b) => a.atMs - b.atMs)[0] ?? parent.stopped;
  return {
    ...parent,
    ...(stopped ? { stopped } : {}),
    state: 'complete',
    ...totalOfRanges(parent, ranges),
    leaseOwner: null,
    leaseExpiresAtMs: 0,
    completedAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}

/** A fan-out's counters: what it enqueued before it split (its head), and each range's. */
type Counters = Pick<FanoutDoc, 'pages' | 'chunks' | 'recipients'>;

/** What the fan-out enqueued before it split (its own counters until it completes). */
export function rangeHead(parent: Counters): Counters {
  return { pages: parent.pages, chunks: parent.chunks, recipients: parent.recipients };
}

/**
 * The whole fan-out's counters: its head's plus every range's. The one rule
 * behind the completed fan-out, a range's answer and a restart's answer.
 */
export function totalOfRanges(parent: Counters, ranges: readonly Counters[]): Counters {
  return ranges.reduce<Counters>((sum, r) => ({ pages: sum.pages + r.pages, chunks: sum.chunks + r.chunks, recipients: sum.recipients + r.recipients }), rangeHead(parent));
}

/**
 * The range document that records range `range` as `failed` with `error`, or
 * undefined when it must not be touched (settled, or another attempt holds a
 * live lease on it). The fan-out itself is failed by `decideFailure`.
 */
export function decideRangeFailure(range: FanoutRangeDoc | undefined, error: string, o: Pick<ClaimOptions, 'owner' | 'nowMs'>): FanoutRangeDoc | undefined {
  if (range?.state !== 'running') return undefined;
  if (range.leaseOwner && range.leaseOwner !== o.owner && range.leaseExpiresAtMs > o.nowMs) return undefined;
  return { ...range, state: 'failed', error, leaseOwner: null, leaseExpiresAtMs: 0, completedAtMs: o.nowMs, updatedAtMs: o.nowMs };
}

/**
 * The plan and the fan-out document that records it: the fan-out keeps its
 * head (what it enqueued before splitting), hands its own lease back (the
 * ranges hold leases of their own), and stays `running` until the last range
 * completes it. `lost` when this attempt no longer owns the fan-out.
 */
export function decideSplit(current: FanoutDoc | undefined, head: Checkpoint, plan: FanoutRangePlan, o: Pick<ClaimOptions, 'owner' | 'nowMs'>): FanoutDoc | 'lost' {
  if (!current || current.leaseOwner !== o.owner || current.state !== 'running' || current.ranges) return 'lost';
  const firstTaskAtMs = current.firstTaskAtMs ?? head.firstTaskAtMs;
  return {
    ...current,
    cursor: head.cursor,
    pages: head.pages,
    chunks: head.chunks,
    recipients: head.recipients,
    ...(firstTaskAtMs !== undefined ? { firstTaskAtMs } : {}),
    ranges: plan,
    leaseOwner: null,
    leaseExpiresAtMs: 0,
    updatedAtMs: o.nowMs,
  };
}
