/**
 * The paging loop: read subscribers a page at a time (ids only), cut chunks,
 * enqueue a delivery task per chunk with bounded concurrency, checkpoint the
 * cursor, and hand over to a continuation task before the time limit.
 *
 * Memory is bounded by two pages (the one being enqueued and the one being
 * read ahead), whatever the audience (promise 7); tasks are created while
 * paging continues, so the queue starts delivering the first chunk at once
 * (promise 9).
 */
import { FieldPath, type QueryDocumentSnapshot } from '@google-cloud/firestore';
import pLimit from 'p-limit';
import { subscriptionsRef, type FanoutDoc } from '../model.ts';
import type { Runtime } from '../runtime.ts';
import type { Logger } from '../log.ts';
import { chunk, chunkTaskId, continuationQueuePath, continuationTaskId, deliveryTaskFor, enqueueDeliveryTask, enqueueHttpTask } from '../tasks/index.ts';
import { CONTINUATION_CLOUDEVENT_TYPE } from '../events/index.ts';
import { checkpoint } from './store.ts';
import type { Checkpoint, CheckpointMode } from './rules.ts';
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
}

/** Reads one page of at most `size` subscriber ids after `cursor`. */
async function readPage(rt: Runtime, productId: string, cursor: string | null, size: number): Promise<string[]> {
  let query = subscriptionsRef(rt.db, productId)
    .orderBy(FieldPath.documentId())
    .select() // ids only: delivery reads addresses itself
    .limit(size);
  if (cursor !== null) query = query.startAfter(cursor);
  const snap = await query.get();
  return snap.docs.map((d: QueryDocumentSnapshot) => d.id);
}

/**
 * Pages the fan-out's subscribers from its checkpoint to the end.
 * @throws LeaseLostError if another attempt took over; EnqueueError if the queue refuses.
 */
export async function runFanout(rt: Runtime, fanout: FanoutDoc, o: RunOptions): Promise<RunResult> {
  // Advanced by pageToTheEnd only once a page's tasks all exist, so it is always safe to save.
  const progress: Checkpoint = { cursor: fanout.cursor, pages: fanout.pages, chunks: fanout.chunks, recipients: fanout.recipients };
  try {
    return await pageToTheEnd(rt, fanout, o, progress);
  } catch (err) {
    if (!(err instanceof LeaseLostError)) {
      // Hand the lease back with the progress made, so the redelivery resumes at once instead of waiting out the lease.
      await checkpoint(rt.db, fanout.eventKey, progress, 'release', {
        owner: o.owner,
        leaseMs: rt.config.fanoutLeaseMs,
        nowMs: rt.now(),
      }).catch((releaseErr) => o.log.warn('could not release the fan-out lease after a failure', { err: releaseErr }));
    }
    throw err;
  }
}

async function pageToTheEnd(rt: Runtime, fanout: FanoutDoc, o: RunOptions, progress: Checkpoint): Promise<RunResult> {
  const { config } = rt;
  const claim = { owner: o.owner, leaseMs: config.fanoutLeaseMs };
  const limit = pLimit(config.enqueueConcurrency);
  let lastCheckpointMs = rt.now();
  let created = 0;
  let existed = 0;

  const save = (mode: CheckpointMode = 'renew') => checkpoint(rt.db, fanout.eventKey, progress, mode, { ...claim, nowMs: rt.now() });

  // A fan-out's very first page is a single chunk: its task is created after reading one chunk's ids
  // rather than a whole page's, so the first notification goes out sooner (promise 9).
  let size = progress.cursor === null ? Math.min(config.chunkSize, config.pageSize) : config.pageSize;
  let next: Promise<string[]> | null = readPage(rt, fanout.productId, progress.cursor, size);
  let pagesThisAttempt = 0;
  while (next) {
    // The budget is checked only after this attempt made progress, so a continuation
    // that starts late (cold start, slow claim) can never hand over empty-handed forever.
    if (pagesThisAttempt > 0 && rt.now() - o.startedAtMs > config.fanoutTimeBudgetMs) {
      return handOver(rt, fanout, progress, o, save);
    }
    const ids: string[] = await next;
    if (ids.length === 0) break;
    // Read ahead while this page is being enqueued.
    next = ids.length === size ? handledLater(readPage(rt, fanout.productId, ids.at(-1)!, config.pageSize)) : null;
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

    // Checkpoint at most once per interval: the fan-out document is never a hot spot.
    if (next && rt.now() - lastCheckpointMs >= config.checkpointIntervalMs) {
      await save();
      lastCheckpointMs = rt.now();
    }
  }
  await save('finish');
  o.log.info('fan-out complete', { ...progress, tasksCreated: created, tasksAlreadyExisting: existed });
  return { kind: 'completed', pages: progress.pages, chunks: progress.chunks, recipients: progress.recipients };
}

/**
 * `page`, marked as handled now: a read-ahead may fail while the page before it
 * is still being enqueued or checkpointed, long before it is awaited, and an
 * unhandled rejection would take the whole instance down (the simulation's
 * seed 3 at 500 shoppers). Awaiting it still throws; a page dropped unawaited
 * (time budget, enqueue failure) is read again by whoever continues.
 */
function handledLater(page: Promise<string[]>): Promise<string[]> {
  page.catch(() => undefined);
  return page;
}

/**
 * A task toward the fan-out itself (a continuation, a wave, a wave's
 * continuation): the continuation CloudEvent fan-out verifies, on the
 * continuation queue — behind a delivery backlog, the rest of the audience
 * would wait for the first chunks to be sent. `scheduleTimeMs` defers it (a
 * later wave).
 */
export async function enqueueContinuation(rt: Runtime, eventKey: string, taskId: string, scheduleTimeMs?: number): Promise<void> {
  await enqueueHttpTask(rt.tasks, rt.config, {
    queue: continuationQueuePath(rt.config),
    taskId,
    url: rt.config.fanoutUrl,
    audience: rt.config.fanoutUrl,
    headers: { 'ce-specversion': '1.0', 'ce-type': CONTINUATION_CLOUDEVENT_TYPE, 'ce-source': '//restock/fanout', 'ce-id': taskId },
    body: { eventKey },
    ...(scheduleTimeMs !== undefined ? { scheduleTimeMs } : {}),
  });
}

/** Checkpoints, enqueues a continuation from the cursor, and releases the lease to it. */
async function handOver(
  rt: Runtime,
  fanout: FanoutDoc,
  progress: Checkpoint,
  o: RunOptions,
  save: (mode?: CheckpointMode) => Promise<FanoutDoc>,
): Promise<RunResult> {
  await save();
  await enqueueContinuation(rt, fanout.eventKey, continuationTaskId(fanout.eventKey, fanout.generation, progress.cursor));
  await save('release');
  o.log.info('fan-out handed over to a continuation', { cursor: progress.cursor, pages: progress.pages, recipients: progress.recipients });
  return { kind: 'continued', cursor: progress.cursor, pages: progress.pages, chunks: progress.chunks, recipients: progress.recipients };
}
