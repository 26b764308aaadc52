/**
 * A restock told in waves (docs/waves.md): carries out `wave-rules.ts`.
 *
 * Each wave is one or more attempts of the fan-out under its usual lease. A
 * wave starts by re-reading the product's stock (`products/{id}`), fixes its
 * last shopper (the boundary) with one query, then pages the shoppers in
 * sign-up order up to that boundary, cutting the same delivery chunks as the
 * paging of everyone at once (lib/tasks). When a wave's tasks all exist, the
 * next wave is a continuation task with a `scheduleTime`: nothing sleeps.
 *
 * Every step is safe to repeat: the state in `fanouts/{eventKey}.waves` says
 * what is next, the task that starts a wave is named after (event,
 * generation, wave, time), chunk tasks after their members, and the ledger
 * keeps one notification per (event, shopper, channel) whichever wave sends it.
 */
import { FieldPath, type Query } from '@google-cloud/firestore';
import pLimit from 'p-limit';
import { COLLECTIONS, productRef, subscriptionsRef, type FanoutDoc, type FifoKey, type ProductDoc, type RestockStop, type WaveDoc, type WavesState } from '../model.ts';
import { restockStanding } from '../restock/index.ts';
import type { Runtime } from '../runtime.ts';
import { runTransaction } from '../transaction.ts';
import { chunk, chunkTaskId, deliveryTaskFor, enqueueDeliveryTask } from '../tasks/index.ts';
import { fanoutRef } from './store.ts';
import { decideCheckpoint, pageSizeFor, type Checkpoint, type CheckpointMode } from './rules.ts';
import { LeaseLostError } from './errors.ts';
import { enqueueContinuation, type RunOptions, type RunResult } from './run.ts';
import { decideAfterWave, decideWaveStart, stopWaves, waveContinuationTaskId, waveDocId, waveTaskId } from './wave-rules.ts';

/** `fanouts/{eventKey}/waves`: one record per wave started. */
export function wavesOf(db: Runtime['db'], eventKey: string) {
  return fanoutRef(db, eventKey).collection(COLLECTIONS.waves);
}

/** The shoppers of a product in sign-up order (ties by id), with the fields a FIFO cursor needs. */
function fifo(rt: Runtime, productId: string): Query {
  return subscriptionsRef(rt.db, productId).orderBy('createdAtMs').orderBy(FieldPath.documentId()).select('createdAtMs');
}

function keyOf(doc: { id: string; get(field: string): unknown }): FifoKey {
  return { createdAtMs: Number(doc.get('createdAtMs')), userId: doc.id };
}

function after(query: Query, cursor: FifoKey | null): Query {
  return cursor ? query.startAfter(cursor.createdAtMs, cursor.userId) : query;
}

/**
 * The last shopper a wave of `target` takes after `cursor`, and whether it is
 * the last one waiting; undefined when nobody waits. One offset query (read
 * server-side), so memory stays bounded whatever the wave's size.
 */
async function findBoundary(rt: Runtime, productId: string, cursor: FifoKey | null, target: number): Promise<{ boundary: FifoKey; last: boolean } | undefined> {
  const base = after(fifo(rt, productId), cursor);
  const at = (await base.offset(target - 1).limit(1).get()).docs[0];
  if (at) {
    const boundary = keyOf(at);
    const more = await after(fifo(rt, productId), boundary).limit(1).get();
    return { boundary, last: more.empty };
  }
  const lastOne = (await base.limitToLast(1).get()).docs[0];
  return lastOne ? { boundary: keyOf(lastOne), last: true } : undefined;
}

/**
 * One page of a wave: at most `size` shoppers after `cursor`, up to and
 * including `boundary`, and beside it the one stock check (lib/restock), as
 * the paging of everyone at once does: a sell-out or a newer restock stops a
 * wave between its pages, not only between waves.
 */
async function readWavePage(rt: Runtime, doc: Pick<FanoutDoc, 'productId' | 'eventKey'>, cursor: FifoKey | null, boundary: FifoKey, size: number): Promise<{ page: FifoKey[]; stopped?: RestockStop }> {
  const [snap, product] = await Promise.all([
    after(fifo(rt, doc.productId), cursor).endAt(boundary.createdAtMs, boundary.userId).limit(size).get(),
    productRef(rt.db, doc.productId).get(),
  ]);
  const standing = restockStanding(product.data() as ProductDoc | undefined, doc.eventKey, rt.config.restockThreshold);
  return { page: snap.docs.map(keyOf), ...(standing.kind === 'stopped' ? { stopped: standing.reason } : {}) };
}

type Progress = Checkpoint;

/**
 * Saves the fan-out's progress and its waves per {@link decideCheckpoint}
 * (only while this attempt holds the lease), with the wave's record when given.
 * @throws LeaseLostError when another attempt took over.
 */
async function save(rt: Runtime, doc: FanoutDoc, progress: Progress, waves: WavesState, mode: CheckpointMode, owner: string, record?: WaveDoc): Promise<FanoutDoc> {
  return runTransaction(rt.db, async (tx) => {
    const ref = fanoutRef(rt.db, doc.eventKey);
    const current = (await tx.get(ref)).data() as FanoutDoc | undefined;
    const next = decideCheckpoint(current, progress, mode, { owner, nowMs: rt.now(), leaseMs: rt.config.fanoutLeaseMs });
    if (next === 'lost') throw new LeaseLostError(doc.eventKey);
    const written: FanoutDoc = { ...next, waves };
    tx.set(ref, written);
    if (record) tx.set(wavesOf(rt.db, doc.eventKey).doc(waveDocId(record.generation, record.index)), record);
    return written;
  });
}


function recordOf(doc: FanoutDoc, waves: WavesState, completedAtMs?: number): WaveDoc {
  const w = waves.current!;
  return {
    generation: doc.generation,
    index: waves.index,
    startedAtMs: w.startedAtMs,
    available: w.available,
    target: w.target,
    taken: w.taken,
    chunks: w.chunks,
    ...(completedAtMs !== undefined ? { completedAtMs } : {}),
  };
}

/**
 * Runs a restock in waves from where `fanout.waves` says it is: starts the
 * wave that is due, pages the one in progress, or makes sure the task of the
 * next one is scheduled, then hands the lease back.
 * @throws LeaseLostError if another attempt took over; EnqueueError if the queue refuses.
 */
export async function runWaves(rt: Runtime, fanout: FanoutDoc, o: RunOptions): Promise<RunResult> {
  let doc = fanout;
  const progress: Progress = { cursor: doc.cursor, pages: doc.pages, chunks: doc.chunks, recipients: doc.recipients };
  let waves = doc.waves!;
  const log = o.log;
  const result = (kind: 'completed' | 'continued'): RunResult =>
    kind === 'completed'
      ? { kind, pages: progress.pages, chunks: progress.chunks, recipients: progress.recipients }
      : { kind, cursor: null, pages: progress.pages, chunks: progress.chunks, recipients: progress.recipients };
  try {
    for (;;) {
      if (waves.phase === 'done') {
        doc = await save(rt, doc, progress, waves, 'finish', o.owner);
        return result('completed');
      }
      if (waves.phase === 'waiting') {
        if (rt.now() < waves.nextWaveAtMs) {
          // Due later: the task that starts it exists (or is created now, under the same name), and the lease goes back.
          await enqueueContinuation(rt, doc.eventKey, { taskId: waveTaskId(doc.eventKey, doc.generation, waves.index, waves.nextWaveAtMs), scheduleTimeMs: waves.nextWaveAtMs });
          doc = await save(rt, doc, progress, waves, 'release', o.owner);
          log.info('next wave scheduled', { wave: waves.index, nextWaveAtMs: waves.nextWaveAtMs });
          return result('continued');
        }
        const product = (await productRef(rt.db, doc.productId).get()).data() as ProductDoc | undefined;
        const start = decideWaveStart(waves, product, doc.eventKey, rt.config.restockThreshold);
        if (start.kind === 'stop') {
          if (start.reason === 'sold-out' || start.reason === 'superseded') progress.stopped = { reason: start.reason, atMs: rt.now() };
          waves = stopWaves(waves, start.reason);
          log.info('waves stopped', { wave: waves.index, reason: start.reason, available: product?.available });
          continue;
        }
        const found = await findBoundary(rt, doc.productId, waves.cursor, start.target);
        if (!found) {
          waves = stopWaves(waves, 'audience-exhausted');
          log.info('waves stopped', { wave: waves.index, reason: 'audience-exhausted' });
          continue;
        }
        waves = { ...waves, phase: 'paging', current: { startedAtMs: rt.now(), available: start.available, target: start.target, ...found, taken: 0, chunks: 0 } };
        doc = await save(rt, doc, progress, waves, 'renew', o.owner, recordOf(doc, waves));
        log.info('wave started', { wave: waves.index, available: start.available, target: start.target });
        continue;
      }
      const paged = await pageWave(rt, doc, waves, progress, o);
      waves = paged.waves;
      if (paged.handedOver) return result('continued');
      if (paged.stopped) {
        // Mid-wave: the shoppers of this wave not yet enqueued keep their place, like those of later waves.
        progress.stopped = { reason: paged.stopped, atMs: rt.now() };
        const record = recordOf(doc, waves, rt.now());
        log.info('waves stopped', { wave: waves.index, reason: paged.stopped, taken: record.taken });
        waves = stopWaves(waves, paged.stopped);
        doc = await save(rt, doc, progress, waves, 'renew', o.owner, record);
        continue;
      }
      const ended = rt.now();
      const record = recordOf(doc, waves, ended);
      log.info('wave enqueued', { wave: waves.index, taken: record.taken, chunks: record.chunks, available: record.available });
      waves = decideAfterWave(waves, ended);
      doc = await save(rt, doc, progress, waves, 'renew', o.owner, record);
    }
  } catch (err) {
    if (!(err instanceof LeaseLostError)) {
      // Hand the lease back with the progress made, so a retry resumes at once instead of waiting out the lease.
      await save(rt, doc, progress, waves, 'release', o.owner).catch((releaseErr) => log.warn('could not release the fan-out lease after a failure', { err: releaseErr }));
    }
    throw err;
  }
}

/**
 * Pages the current wave from the waves' cursor to its boundary, enqueuing
 * chunk tasks with bounded concurrency and checkpointing at most once per
 * interval; hands over to a continuation past the time budget.
 */
async function pageWave(rt: Runtime, doc: FanoutDoc, start: WavesState, progress: Progress, o: RunOptions): Promise<{ waves: WavesState; handedOver: boolean; stopped?: RestockStop }> {
  const { config } = rt;
  const limit = pLimit(config.enqueueConcurrency);
  let waves = start;
  let lastCheckpointMs = rt.now();
  let pagesThisAttempt = 0;
  const boundary = waves.current!.boundary;
  for (;;) {
    if (pagesThisAttempt > 0 && rt.now() - o.startedAtMs > config.fanoutTimeBudgetMs) {
      await save(rt, doc, progress, waves, 'renew', o.owner);
      await enqueueContinuation(rt, doc.eventKey, { taskId: waveContinuationTaskId(doc.eventKey, doc.generation, waves.index, waves.cursor) });
      await save(rt, doc, progress, waves, 'release', o.owner);
      o.log.info('wave handed over to a continuation', { wave: waves.index, taken: waves.current!.taken });
      return { waves, handedOver: true };
    }
    const size = pageSizeFor(waves.current!.taken === 0, config);
    const { page, stopped } = await readWavePage(rt, doc, waves.cursor, boundary, size);
    if (stopped) return { waves, handedOver: false, stopped };
    if (page.length === 0) return { waves, handedOver: false };
    const chunks = chunk(page.map((k) => k.userId), config.chunkSize);
    await Promise.all(
      chunks.map((userIds) =>
        limit(async () => {
          await enqueueDeliveryTask(rt.tasks, config, chunkTaskId(doc.eventKey, doc.generation, userIds), { ...deliveryTaskFor(doc, userIds), wave: waves.index });
          progress.firstTaskAtMs ??= rt.now();
        }),
      ),
    );
    const current = waves.current!;
    waves = { ...waves, cursor: page.at(-1)!, current: { ...current, taken: current.taken + page.length, chunks: current.chunks + chunks.length } };
    progress.pages++;
    progress.chunks += chunks.length;
    progress.recipients += page.length;
    pagesThisAttempt++;
    o.onProgress?.({ pages: progress.pages, chunks: progress.chunks, recipients: progress.recipients });
    if (page.length < size) return { waves, handedOver: false };
    if (rt.now() - lastCheckpointMs >= config.checkpointIntervalMs) {
      doc = await save(rt, doc, progress, waves, 'renew', o.owner);
      lastCheckpointMs = rt.now();
    }
  }
}
