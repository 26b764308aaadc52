/**
 * The bench's key-range phase (issue 15): the fan-out's paging with the
 * audience split into K key ranges against one chain (K = 1), on the same
 * audience, in the same run, on the same stack.
 *
 * Paging only: what is timed is publish → the fan-out document's
 * `completedAtMs` (the last delivery task created), so the delivery queues are
 * paused for the phase and the tasks they collect are counted, then purged.
 * The continuation queue runs: the ranges' chains are tasks on it. K = 1 is
 * `RESTOCK_FANOUT_MAX_RANGES=1` on the fan-out process (restarted for it);
 * the split run uses the stack's settings (RESTOCK_FANOUT_MIN_RANGES /
 * MAX_RANGES) and `rangeTarget` as RESTOCK_FANOUT_RANGE_TARGET (its default,
 * 50,000, unless the caller chose another: K is about audience / target).
 *
 * The audience is written straight to the Firestore emulator with a
 * BulkWriter (emulators/stack seedSubscribers): the subject is paging, not
 * the subscription API. Nothing is delivered, so it is still there after the
 * K = 1 restock; a sell-out event and a second restock page it again with
 * ranges, so both runs page the same documents in the same database.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { COLLECTIONS, type FanoutDoc, type FanoutRangeDoc } from '../lib/model.ts';
import { publishEvent, inventoryEvent, type Stack, type StackClients } from '../emulators/stack/index.ts';
import { seedAudience, type SeededAudience } from '../emulators/scenario/index.ts';
import { cpuDiff, cpuSecondsByGroup, ownCpuSeconds, type CpuSeconds } from './cpu.ts';

/** One paging run. */
export interface PagingRun {
  /** Ranges the fan-out paged in (1: one chain). */
  ranges: number;
  /** Publish to the fan-out's `completedAtMs`: the last delivery task created. */
  pagingMs: number;
  /** Publish to the first delivery task created. */
  firstTaskMs: number | null;
  pages: number;
  /** Delivery tasks the fan-out created (its `chunks`), and the tasks the paused queues hold. */
  tasks: number;
  queuedTasks: number;
  recipients: number;
  /** Publish to the split's plan (count, last id, refinements) being recorded; null with one chain. */
  plannedMs: number | null;
  /** Per range: subscribers, publish to its start (its first claim), and its own time from start to completion (split run only). */
  perRange: { index: number; recipients: number; pages: number; startMs: number; ms: number | null; state: string }[];
  cpu: CpuSeconds;
}

/** What the phase measured. */
export interface RangesBench {
  subscribers: number;
  seedMs: number;
  single: PagingRun;
  split: PagingRun;
  /** single.pagingMs / split.pagingMs. */
  speedup: number;
}

export interface RangesOptions {
  subscribers: number;
  /** RESTOCK_FANOUT_RANGE_TARGET of the split run. */
  rangeTarget: number;
  timeoutMs: number;
  say: (line: string) => void;
}

function cpuNow(stack: Stack): CpuSeconds {
  return { ...cpuSecondsByGroup(stack.description.pids), bench: ownCpuSeconds() };
}

async function queuedTasks(clients: StackClients, queues: readonly string[]): Promise<number> {
  let n = 0;
  for (const parent of queues) {
    const [tasks] = await clients.tasks!.listTasks({ parent }, { autoPaginate: true });
    n += tasks.length;
  }
  return n;
}

/** Publishes `event` and waits for its fan-out record to reach a final state (or the deadline). */
async function publishAndWait(stack: Stack, clients: StackClients, event: ReturnType<typeof inventoryEvent>, o: RangesOptions): Promise<{ fanout: FanoutDoc; eventKey: string; publishedAtMs: number }> {
  const eventKey = randomUUID();
  const publishedAtMs = Date.now();
  await publishEvent(clients.pubsub, stack.description.topic, event, { eventId: eventKey });
  const ref = clients.firestore.collection(COLLECTIONS.fanouts).doc(eventKey);
  let lastLineMs = Date.now();
  for (;;) {
    await sleep(100);
    const snap = await ref.get();
    const fanout = snap.exists ? (snap.data() as FanoutDoc) : undefined;
    if (fanout && fanout.state !== 'running') return { fanout, eventKey, publishedAtMs };
    if (Date.now() - publishedAtMs > o.timeoutMs) {
      throw new Error(`ranges phase: the fan-out of ${eventKey} did not complete in ${o.timeoutMs} ms (state ${fanout?.state ?? 'none'}, ${fanout?.ranges?.count ?? 1} ranges); see fanouts/${eventKey}/ranges`);
    }
    if (Date.now() - lastLineMs >= 10_000) {
      lastLineMs = Date.now();
      o.say(`  paging: ${((Date.now() - publishedAtMs) / 1000).toFixed(0)} s, ${fanout?.ranges ? `${fanout.ranges.count} ranges` : `${fanout?.chunks ?? 0} tasks`}`);
    }
  }
}

/**
 * Publishes a restock of `audience` (stock sequence `sequence`) and waits until its fan-out completes.
 * @throws Error when the fan-out fails, is ignored, or does not complete in time.
 */
async function pageOnce(stack: Stack, clients: StackClients, audience: SeededAudience, sequence: number, o: RangesOptions): Promise<PagingRun> {
  const event = inventoryEvent({ productId: audience.productId, available: 25, previousAvailable: 0, sequence, product: audience.product });
  const cpuBefore = cpuNow(stack);
  const { fanout, eventKey, publishedAtMs } = await publishAndWait(stack, clients, event, o);
  const cpu = cpuDiff(cpuNow(stack), cpuBefore);
  if (fanout.state !== 'complete') throw new Error(`ranges phase: the fan-out ${fanout.state}: ${fanout.reason ?? fanout.error ?? '?'}`);
  const ref = clients.firestore.collection(COLLECTIONS.fanouts).doc(eventKey);
  const rangeDocs = (await ref.collection(COLLECTIONS.fanoutRanges).get()).docs.map((d) => d.data() as FanoutRangeDoc).sort((a, b) => a.index - b.index);
  return {
    ranges: fanout.ranges?.count ?? 1,
    pagingMs: fanout.completedAtMs! - publishedAtMs,
    firstTaskMs: fanout.firstTaskAtMs !== undefined ? fanout.firstTaskAtMs - publishedAtMs : null,
    pages: fanout.pages,
    tasks: fanout.chunks,
    queuedTasks: await queuedTasks(clients, stack.description.deliveryQueues),
    recipients: fanout.recipients,
    plannedMs: fanout.ranges ? fanout.ranges.plannedAtMs - publishedAtMs : null,
    perRange: rangeDocs.map((r) => ({
      index: r.index,
      recipients: r.recipients,
      pages: r.pages,
      startMs: r.startedAtMs - publishedAtMs,
      ms: r.completedAtMs !== undefined ? r.completedAtMs - r.startedAtMs : null,
      state: r.state,
    })),
    cpu,
  };
}

/**
 * Runs K = 1, then K ranges, on the same `subscribers` shoppers (sold out again between the
 * two restocks), with delivery paused.
 * Leaves the delivery queues purged and resumed, and the fan-out on the stack's settings.
 * @throws Error when a fan-out fails, stalls past the timeout, or a run misses subscribers.
 */
export async function runRangesPhase(stack: Stack, clients: StackClients, o: RangesOptions): Promise<RangesBench> {
  const queues = stack.description.deliveryQueues;
  const n = o.subscribers.toLocaleString('en-US');
  for (const name of queues) await clients.tasks!.pauseQueue({ name });
  try {
    o.say(`ranges: seeding ${n} subscribers (BulkWriter straight to the emulator)...`);
    const audience = await seedAudience(clients, { subscribers: o.subscribers });
    o.say(`ranges: seeded in ${(audience.seedMs / 1000).toFixed(1)} s; K = 1 (RESTOCK_FANOUT_MAX_RANGES=1)...`);

    const runs: PagingRun[] = [];
    // Sequences: the seeded state is 1; restock 2, sell-out 3, restock 4.
    for (const [sequence, env] of [
      [2, { RESTOCK_FANOUT_MAX_RANGES: '1', RESTOCK_FANOUT_MIN_RANGES: '1' }],
      [4, { RESTOCK_FANOUT_RANGE_TARGET: String(o.rangeTarget) }],
    ] as const) {
      await stack.restart('fanOutRestock', { env });
      if (sequence > 2) {
        // Sold out again, so the same audience (none of it delivered: the queues are paused) waits for the next restock.
        const soldOut = inventoryEvent({ productId: audience.productId, available: 0, previousAvailable: 25, sequence: sequence - 1, product: audience.product });
        const { fanout } = await publishAndWait(stack, clients, soldOut, o);
        if (fanout.state !== 'ignored') throw new Error(`ranges phase: the sell-out between the runs ended ${fanout.state}, not ignored`);
      }
      const run = await pageOnce(stack, clients, audience, sequence, o);
      if (run.recipients !== o.subscribers || run.queuedTasks !== run.tasks) {
        throw new Error(`ranges phase: K = ${run.ranges} enqueued ${run.recipients} of ${o.subscribers} subscribers in ${run.tasks} tasks, the queues hold ${run.queuedTasks}`);
      }
      o.say(`ranges: K = ${run.ranges}: ${run.tasks.toLocaleString('en-US')} tasks in ${(run.pagingMs / 1000).toFixed(2)} s`);
      for (const name of queues) await clients.tasks!.purgeQueue({ name });
      runs.push(run);
    }
    const [one, k] = runs as [PagingRun, PagingRun];
    return { subscribers: o.subscribers, seedMs: audience.seedMs, single: one, split: k, speedup: Number((one.pagingMs / k.pagingMs).toFixed(2)) };
  } finally {
    await stack.restart('fanOutRestock', { env: {} });
    for (const name of queues) await clients.tasks!.resumeQueue({ name });
  }
}
