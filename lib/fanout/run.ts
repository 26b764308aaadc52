/**
 * The paging loop: read subscribers a page at a time (ids only), cut chunks,
 * enqueue a delivery task per chunk with bounded concurrency, checkpoint the
 * cursor, and hand over to a continuation task before the time limit.
 *
 * Memory is bounded by two pages (the one being enqueued and the one being
 * read ahead), whatever the audience (promise 7); tasks are created while
 * paging continues, so the queue starts delivering the first chunk at once
 * (promise 9).
 *
 * A large audience is split into key ranges after its first chunk
 * (`split.ts`, `ranges.ts`): each range is a chain of its own (this loop,
 * with the range's bounds, lease and checkpoints), started as a task, so K
 * chains page in parallel; the fan-out completes when the last range does.
 * Every promise above holds per chain: each reads two pages at most, and
 * checkpoints only what is enqueued.
 */
import { FieldPath, type QueryDocumentSnapshot } from '@google-cloud/firestore';
import pLimit from 'p-limit';
import { productRef, subscriptionsRef, type FanoutDoc, type FanoutRangeDoc, type FanoutRangePlan, type ProductDoc, type RestockStop } from '../model.ts';
import { restockStanding } from '../restock/index.ts';
import type { Runtime } from '../runtime.ts';
import type { Logger } from '../log.ts';
import {
  chunk,
  chunkTaskId,
  continuationTaskId,
  deliveryTaskFor,
  enqueueContinuationTask,
  enqueueDeliveryTask,
  rangeContinuationTaskId,
  type ContinuationTask,
} from '../tasks/index.ts';
import { checkpoint } from './store.ts';
import { checkpointRange, claimRange, readRanges, writeSplit, type RangeRef } from './ranges-store.ts';
import { rangeHead, totalOfRanges } from './ranges.ts';
import { planSplit } from './split.ts';
import { pageSizeFor, type Checkpoint, type CheckpointMode } from './rules.ts';
import { LeaseLostError } from './errors.ts';

/** How far a fan-out got: pages read, chunks enqueued, recipients in them. */
export interface FanoutProgress {
  pages: number;
  chunks: number;
  recipients: number;
}

/** How one attempt at paging ended (an error is thrown otherwise). */
export type RunResult =
  | ({ kind: 'completed' } & FanoutProgress)
  | ({ kind: 'continued'; cursor: string | null } & FanoutProgress);

/** Who runs the attempt, since when, where it logs, and who wants progress. */
export interface RunOptions {
  owner: string;
  /** When this attempt started: the time budget counts from here. */
  startedAtMs: number;
  log: Logger;
  onProgress?: (p: FanoutProgress) => void;
  /** The key range this attempt claimed (a range's continuation task); absent: the fan-out's own chain. */
  range?: FanoutRangeDoc;
}

/** One page of subscriber ids, and whether the restock had stopped when it was read. */
interface Page {
  ids: string[];
  /** Set when a newer stock event ended the restock (lib/restock `restockStanding`): the page is not enqueued. */
  stopped?: RestockStop;
}

/**
 * Reads one page of at most `size` subscriber ids after `cursor`, up to `until`
 * (inclusive) when set, and beside it the product's stock state for the one
 * stock check: the same round trip, so the check adds no latency (promise 9)
 * and costs one document read per page. A plain read: it never locks the
 * product against a stock update.
 */
async function readPage(rt: Runtime, fanout: Pick<FanoutDoc, 'productId' | 'eventKey'>, cursor: string | null, size: number, until: string | null = null): Promise<Page> {
  let query = subscriptionsRef(rt.db, fanout.productId)
    .orderBy(FieldPath.documentId())
    .select() // ids only: delivery reads addresses itself
    .limit(size);
  if (cursor !== null) query = query.startAfter(cursor);
  if (until !== null) query = query.endAt(until);
  const [snap, product] = await Promise.all([query.get(), productRef(rt.db, fanout.productId).get()]);
  const standing = restockStanding(product.data() as ProductDoc | undefined, fanout.eventKey, rt.config.restockThreshold);
  return { ids: snap.docs.map((d: QueryDocumentSnapshot) => d.id), ...(standing.kind === 'stopped' ? { stopped: standing.reason } : {}) };
}

/**
 * One chain of pages: the fan-out's own (from its cursor to the end, which
 * may split into ranges after its first page), or one key range's (from its
 * cursor or lower bound to its upper bound).
 */
interface Chain {
  /** The fan-out's own chain (which may split what follows its first page into ranges), or one of its key ranges. */
  kind: 'own' | 'range';
  /** Where paging resumes (exclusive): the cursor, else the range's lower bound. */
  from: string | null;
  /** Inclusive upper bound; null: to the last subscriber. */
  until: string | null;
  /** Persists `progress`; resolves to the fan-out when this checkpoint completed it. */
  save(progress: Checkpoint, mode: CheckpointMode): Promise<FanoutDoc | undefined>;
  /** The continuation task that goes on from `cursor`. */
  continuation(cursor: string | null): ContinuationTask;
  /** The whole fan-out's counters while this chain stands at `progress`: its own, or the head's and its range's. */
  total(progress: FanoutProgress): FanoutProgress;
  /** Fields every log line of the chain carries. */
  fields: Record<string, unknown>;
}

function claimOf(rt: Runtime, o: RunOptions) {
  return { owner: o.owner, leaseMs: rt.config.fanoutLeaseMs, nowMs: rt.now() };
}

function ownChain(rt: Runtime, fanout: FanoutDoc, o: RunOptions): Chain {
  return {
    kind: 'own',
    from: fanout.cursor,
    until: null,
    save: async (progress, mode) => {
      const saved = await checkpoint(rt.db, fanout.eventKey, progress, mode, claimOf(rt, o));
      return saved.state === 'complete' ? saved : undefined;
    },
    continuation: (cursor) => ({ taskId: continuationTaskId(fanout.eventKey, fanout.generation, cursor) }),
    total: ({ pages, chunks, recipients }) => ({ pages, chunks, recipients }),
    fields: {},
  };
}

/** The continuation task of range `r` from `cursor` (null: its start). */
function rangeContinuation(eventKey: string, r: RangeRef, cursor: string | null): ContinuationTask {
  return { taskId: rangeContinuationTaskId(eventKey, r.generation, r.index, cursor), range: { generation: r.generation, index: r.index } };
}

function rangeChain(rt: Runtime, fanout: FanoutDoc, range: FanoutRangeDoc, o: RunOptions): Chain {
  const r = { generation: range.generation, index: range.index };
  return {
    kind: 'range',
    from: range.cursor ?? range.after,
    until: range.until,
    save: (progress, mode) => checkpointRange(rt.db, fanout.eventKey, r, progress, mode, claimOf(rt, o)),
    continuation: (cursor) => rangeContinuation(fanout.eventKey, r, cursor),
    total: (progress) => totalOfRanges(fanout, [progress]),
    fields: { range: range.index, ranges: fanout.ranges?.count },
  };
}

/**
 * Pages the fan-out's subscribers from its checkpoint to the end: its own
 * chain, the key range `o.range` it claimed, or, for a fan-out already split
 * whose own attempt came back (a redelivery), every unfinished range restarted.
 * @throws LeaseLostError if another attempt took over; EnqueueError if the queue refuses.
 */
export async function runFanout(rt: Runtime, fanout: FanoutDoc, o: RunOptions): Promise<RunResult> {
  if (o.range) return runChain(rt, fanout, o, rangeChain(rt, fanout, o.range, o), o.range);
  if (fanout.ranges) return restartRanges(rt, fanout, o);
  return runChain(rt, fanout, o, ownChain(rt, fanout, o), fanout);
}

async function runChain(rt: Runtime, fanout: FanoutDoc, o: RunOptions, chain: Chain, start: Pick<FanoutDoc, 'cursor' | 'pages' | 'chunks' | 'recipients'>): Promise<RunResult> {
  // Advanced by pageToTheEnd only once a page's tasks all exist, so it is always safe to save.
  const progress: Checkpoint = { cursor: start.cursor, pages: start.pages, chunks: start.chunks, recipients: start.recipients };
  try {
    return await pageToTheEnd(rt, fanout, o, progress, chain);
  } catch (err) {
    if (!(err instanceof LeaseLostError)) {
      // Hand the lease back with the progress made, so the redelivery resumes at once instead of waiting out the lease.
      await chain.save(progress, 'release').catch((releaseErr) => o.log.warn('could not release the fan-out lease after a failure', { ...chain.fields, err: releaseErr }));
    }
    throw err;
  }
}

async function pageToTheEnd(rt: Runtime, fanout: FanoutDoc, o: RunOptions, progress: Checkpoint, chain: Chain): Promise<RunResult> {
  const { config } = rt;
  const limit = pLimit(config.enqueueConcurrency);
  let lastCheckpointMs = rt.now();
  let created = 0;
  let existed = 0;

  const from = progress.cursor ?? chain.from;
  let size = pageSizeFor(from === null, config);
  let next: Promise<Page> | null = readPage(rt, fanout, from, size, chain.until);
  let pagesThisAttempt = 0;
  try {
    while (next) {
      // The budget is checked only after this attempt made progress, so a continuation
      // that starts late (cold start, slow claim) can never hand over empty-handed forever.
      if (pagesThisAttempt > 0 && rt.now() - o.startedAtMs > config.fanoutTimeBudgetMs) {
        void next.catch(() => undefined); // the read-ahead page is dropped; the continuation reads it again
        return handOver(rt, fanout, progress, o, chain);
      }
      const { ids, stopped }: Page = await next;
      if (stopped) {
        // A newer stock event ended the restock: nobody after the cursor is enqueued, and they keep their subscriptions.
        progress.stopped = { reason: stopped, atMs: rt.now() };
        o.log.info('fan-out stopped: the restock is over', { ...chain.fields, reason: stopped, cursor: progress.cursor, recipients: progress.recipients });
        next = null;
        break;
      }
      if (ids.length === 0) break;
      // Read ahead while this page is being enqueued.
      next = ids.length === size ? handledLater(readPage(rt, fanout, ids.at(-1)!, config.pageSize, chain.until)) : null;
      size = config.pageSize;

      const chunks = chunk(ids, config.chunkSize);
      const results = await Promise.all(
        chunks.map((userIds) =>
          limit(async () => {
            const result = await enqueueDeliveryTask(rt.tasks, config, chunkTaskId(fanout.eventKey, fanout.generation, userIds), deliveryTaskFor(fanout, userIds));
            progress.firstTaskAtMs ??= rt.now();
            return result;
          }),
        ),
      );
      for (const r of results) r === 'created' ? created++ : existed++;

      progress.cursor = ids.at(-1)!;
      progress.pages++;
      progress.chunks += chunks.length;
      progress.recipients += ids.length;
      pagesThisAttempt++;
      o.onProgress?.({ pages: progress.pages, chunks: progress.chunks, recipients: progress.recipients });

      // With its first page enqueued (the first notification on its way), a large audience splits the rest into key ranges.
      // Planning waits for the read-ahead page, so the first chunk is claimed beside one query rather than three (on the
      // emulator each scans the database: ~0.15 s of the first notification at 50,000); it costs the split one page read.
      if (chain.kind === 'own' && next && pagesThisAttempt === 1 && (await next.then(() => true, () => false))) {
        const plan = await planSplit(rt, fanout.productId, progress.cursor, ids);
        if (plan) {
          void next.catch(() => undefined); // range 0 reads it again
          return split(rt, fanout, progress, plan, o);
        }
      }

      // Checkpoint at most once per interval: the fan-out document is never a hot spot.
      if (next && rt.now() - lastCheckpointMs >= config.checkpointIntervalMs) {
        await chain.save(progress, 'renew');
        lastCheckpointMs = rt.now();
      }
    }
  } catch (err) {
    // Whatever failed, the read-ahead page is dropped: its own failure must not surface as an unhandled rejection.
    void next?.catch(() => undefined);
    throw err;
  }
  const completed = await chain.save(progress, 'finish');
  o.log.info(chain.kind === 'range' ? 'fan-out range complete' : 'fan-out complete', {
    ...chain.fields,
    ...progress,
    tasksCreated: created,
    tasksAlreadyExisting: existed,
  });
  if (chain.kind === 'own') return { kind: 'completed', pages: progress.pages, chunks: progress.chunks, recipients: progress.recipients };
  if (completed) {
    o.log.info('fan-out complete', { ranges: fanout.ranges?.count, pages: completed.pages, chunks: completed.chunks, recipients: completed.recipients });
    return { kind: 'completed', pages: completed.pages, chunks: completed.chunks, recipients: completed.recipients };
  }
  // Other ranges are still paging: this request's part is done, the fan-out goes on in them.
  return { kind: 'continued', cursor: progress.cursor, ...chain.total(progress) };
}

/**
 * Records the split (the fan-out's head and one document per range), starts
 * ranges 1..K-1 as tasks, and pages range 0 here.
 */
async function split(rt: Runtime, fanout: FanoutDoc, head: Checkpoint, plan: FanoutRangePlan, o: RunOptions): Promise<RunResult> {
  const { fanout: splitDoc, ranges } = await writeSplit(rt.db, fanout.eventKey, head, plan, claimOf(rt, o));
  o.log.info('fan-out split into key ranges', { ranges: plan.count, audienceAfterHead: plan.audience, cursor: head.cursor });
  await startRanges(rt, splitDoc, ranges.slice(1));
  return runRangeHere(rt, splitDoc, ranges[0]!, o);
}

/** Claims range `range` for this attempt and pages it; when another attempt holds it, leaves it to that one. */
async function runRangeHere(rt: Runtime, fanout: FanoutDoc, range: FanoutRangeDoc, o: RunOptions): Promise<RunResult> {
  const r = { generation: range.generation, index: range.index };
  const { decision, fanout: current } = await claimRange(rt.db, fanout.eventKey, r, claimOf(rt, o));
  if (decision.kind !== 'run' || !current) return { kind: 'continued', cursor: fanout.cursor, ...rangeHead(fanout) };
  return runFanout(rt, current, { ...o, range: decision.range });
}

/** Enqueues the continuation of each range from where it stands (its start, or its cursor): names dedupe repeats. */
async function startRanges(rt: Runtime, fanout: FanoutDoc, ranges: readonly FanoutRangeDoc[]): Promise<void> {
  const limit = pLimit(rt.config.enqueueConcurrency);
  await Promise.all(ranges.filter((r) => r.state === 'running').map((r) => limit(() => enqueueContinuation(rt, fanout.eventKey, rangeContinuation(fanout.eventKey, r, r.cursor)))));
}

/**
 * The fan-out's own attempt came back after it split (a redelivered event, or
 * its planner died): every unfinished range gets its continuation again (an
 * existing one is deduplicated by name; a range whose attempt died is taken
 * over once its lease expires), and the fan-out's lease is handed back.
 */
async function restartRanges(rt: Runtime, fanout: FanoutDoc, o: RunOptions): Promise<RunResult> {
  const ranges = await readRanges(rt.db, fanout);
  await startRanges(rt, fanout, ranges);
  await checkpoint(rt.db, fanout.eventKey, { cursor: fanout.cursor, pages: fanout.pages, chunks: fanout.chunks, recipients: fanout.recipients }, 'release', claimOf(rt, o));
  const progress = totalOfRanges(fanout, ranges);
  o.log.info('fan-out ranges restarted', { ranges: ranges.length, running: ranges.filter((r) => r.state === 'running').length });
  return { kind: 'continued', cursor: fanout.cursor, ...progress };
}

/**
 * `page`, marked as handled now: a read-ahead may fail while the page before it
 * is still being enqueued or checkpointed, long before it is awaited, and an
 * unhandled rejection would take the whole instance down (the simulation's
 * seed 3 at 500 shoppers). Awaiting it still throws; a page dropped unawaited
 * (time budget, enqueue failure) is read again by whoever continues.
 */
function handledLater(page: Promise<Page>): Promise<Page> {
  page.catch(() => undefined);
  return page;
}

/** Enqueues a task toward the fan-out itself (a continuation, a wave, a wave's continuation): lib/tasks' contract. */
export function enqueueContinuation(rt: Runtime, eventKey: string, task: ContinuationTask): Promise<void> {
  return enqueueContinuationTask(rt.tasks, rt.config, eventKey, task);
}

/** Checkpoints, enqueues a continuation from the cursor, and releases the lease to it. */
async function handOver(rt: Runtime, fanout: FanoutDoc, progress: Checkpoint, o: RunOptions, chain: Chain): Promise<RunResult> {
  await chain.save(progress, 'renew');
  await enqueueContinuation(rt, fanout.eventKey, chain.continuation(progress.cursor));
  await chain.save(progress, 'release');
  o.log.info('fan-out handed over to a continuation', { ...chain.fields, cursor: progress.cursor, pages: progress.pages, recipients: progress.recipients });
  return { kind: 'continued', cursor: progress.cursor, ...chain.total(progress) };
}
