/**
 * The production clock: how long one restock of N shoppers takes as
 * `terraform/` deploys the pipeline, in virtual time, from Google's published
 * limits and the latencies of ./constants.ts.
 *
 * It is a model of the flows, not the flows themselves (a million shoppers
 * through the in-memory services would take this machine's memory and an
 * hour): each RPC the real code makes per page and per chunk — the fan-out's
 * claim, page reads with read-ahead, CreateTask calls bounded by
 * RESTOCK_ENQUEUE_CONCURRENCY, checkpoints, the continuation task at the time
 * budget; delivery's subscription read, ledger claim commit, notifier calls
 * bounded by RESTOCK_SEND_CONCURRENCY, and the record commit — becomes a wait
 * in virtual time, against the resources that limit it: the queue's token
 * bucket and concurrency, the function's instances and cold starts, and
 * Firestore's 500 writes/s on a collection whose writes land on a sequential
 * index range. What bound the run is the resource whose floor is longest.
 */
import { CONSTANTS as K, CONSTANT_IN_A_BURST, MONOTONIC_FIELDS } from './constants.ts';
import { deliverySlots, readDeployment, type Deployed } from './terraform.ts';
import { Prng } from '../prng.ts';
import { Scheduler, SIM_EPOCH_MS } from '../scheduler.ts';
import { deployedConfig, Instances, runProductionWorld, type BurstMeasure, type SellOutMeasure, type WorldMeasure } from './world.ts';
import { decideRangeCount, pageSizeFor } from '../../lib/fanout/index.ts';
import { rampLowerBoundMs, type Temperature } from './firestore-load.ts';
import { readIndexConfig } from './index-entries.ts';

export interface ClockOptions {
  subscribers: number;
  terraformDir: string;
  /** Override what terraform/ says: true = the monotonic fields indexed (today), false = exempted and no composite puts one after a constant prefix (issue 15). */
  timestampsIndexed?: boolean;
  /** Variables set as `terraform apply -var name=value` would (e.g. `delivery_queue_count`): they replace terraform/'s defaults. */
  vars?: Record<string, number>;
  /** Sell the product out again this long after the restock (issue 40): the report says what stopping cost. */
  sellOutAfterMs?: number;
  /**
   * The Firestores to run the restock against (./firestore-load.ts), each a
   * run of its own: `cold` (no recent traffic: every key range ramps from
   * 500 ops/s, Google's 500/50/5), `warm` (only the ranges new for this event
   * ramp), `unlimited` (no ramp-up modelled). The report's top-level figures
   * are the first one's. Default `['unlimited']`; the CLI asks for cold and warm.
   */
  firestore?: Temperature[];
  /** The pipeline ramping itself on Firestore's answers (./world.ts WorldOptions.selfRamp, a model). */
  selfRamp?: boolean;
}

/** One run of the clock against one Firestore, with what it assumed. */
export interface FirestoreRun {
  temperature: Temperature;
  selfRamp: boolean;
  firstNotificationMs: number;
  lastNotificationMs: number;
  fanoutDoneMs: number;
  /** The last Firestore commit of the restock (every outcome recorded): what the ranges' floors bound. */
  settledMs: number;
  notified: number;
  fanoutState: string;
  boundBy: string;
  floors: Record<string, number>;
  /** Document writes and index entries per notification (./index-entries.ts, from terraform/firestore.tf). */
  perNotification: { documentWrites: number; indexEntries: number; byCollection: Record<string, { documentWrites: number; indexEntries: number }> };
  /**
   * Writes Firestore refused (RESOURCE_EXHAUSTED on a range, ABORTED on a document), commits the client retried,
   * delivery attempts retried by Cloud Tasks, tasks dropped, and notifications sent again for a key already sent
   * (a chunk whose outcomes could not be recorded, retried: promise 1's exception; the Idempotency-Key is the same).
   */
  refusals: { resourceExhausted: number; aborted: number; clientRetries: number; deliveryRetries: number; tasksDropped: number; duplicateSends: number };
  /** The busiest key ranges that ramped: operations, refusals, and the fewest seconds 500/50/5 allows for their operations. */
  hottestRanges: { range: string; ops: number; refusals: number; newForEvent: boolean; rampFloorMs: number }[];
  finalQueueRate?: number;
  burst?: BurstMeasure;
  /** What this figure assumes, in words, each with where it comes from. */
  assumptions: string[];
}

export interface ClockReport {
  /** The analytic model's answer (./index.ts analyticClock), when the real flows ran: a cross-check. */
  analytic?: { firstNotificationMs: number; lastNotificationMs: number; fanoutDoneMs: number; ranges: number; boundBy: string };
  /** Only from the real flows: notifications the counting notifier took, and the fan-out's final state. */
  notified?: number;
  fanoutState?: string;
  coldStarts?: number;
  /** Scheduler steps of the run (its cost on this machine). */
  steps?: number;
  /** With `sellOutAfterMs`: what stopping the restock cost (./world.ts SellOutMeasure). */
  sellOut?: SellOutMeasure;
  wallMs?: number;
  subscribers: number;
  deployment: Omit<Deployed, 'exempted' | 'composites' | 'env' | 'queueRetry' | 'continuationQueue'> & { sequentialIndexes: string[] };
  timestampsIndexed: boolean;
  firstNotificationMs: number;
  lastNotificationMs: number;
  fanoutDoneMs: number;
  tasks: number;
  continuations: number;
  /** Key ranges the fan-out paged its audience in (1: one chain). */
  ranges: number;
  peakQueueDepth: number;
  peakInstances: number;
  writesPerSecond: Record<string, { average: number; peak: number; total: number }>;
  /** Each limit's floor on the time to the last notification, ms. */
  floors: Record<string, number>;
  boundBy: string;
  constants: typeof K;
  /** The runs per Firestore temperature (`cold`, `warm`, `unlimited`), when the real flows ran. */
  cold?: FirestoreRun;
  warm?: FirestoreRun;
  unlimited?: FirestoreRun;
}

/** What a run against `temperature` assumes, in words. */
export function assumptionsOf(temperature: Temperature, selfRamp: boolean): string[] {
  const out: string[] = [];
  if (temperature === 'unlimited') out.push('Firestore never refuses: no ramp-up of key ranges, no per-document limit (the clock before issue 39)');
  else {
    out.push(
      temperature === 'cold'
        ? `cold: every key range (a collection's documents, an index's entries under one prefix, an index led by the ledger's shard whole) had no recent traffic and starts at ${K.rampStartOpsPerSecond.value} ops/s, +${Math.round((K.rampGrowth.value - 1) * 100)} % every ${K.rampStepMs.value / 60_000} min of traffic ("500/50/5", published: ${K.rampStartOpsPerSecond.source.split(' ')[0]})`
        : `warm: ranges that existed before the event serve what they are asked (recent traffic split them: assumed); ranges new for this event (its prefix in an index that holds it by eventKey: one per ledger shard where the shard leads the index, its chunk receipts) start at ${K.rampStartOpsPerSecond.value} ops/s, +${Math.round((K.rampGrowth.value - 1) * 100)} % every ${K.rampStepMs.value / 60_000} min ("500/50/5", published)`,
      `a range queues up to ${K.rangeQueueToleranceMs.value} ms of work, then refuses writes with RESOURCE_EXHAUSTED (assumed; both answers are documented: https://cloud.google.com/firestore/docs/understand-error-codes)`,
      `one document sustains ${K.documentWritesPerSecond.value} write/s (published soft limit) with a burst of ${K.documentWriteBurst.value} (assumed), beyond it ABORTED`,
      `the client retries a refused commit as @google-cloud/firestore 8 does (google-gax: ${K.commitRetryInitialMs.value} ms ×${K.commitRetryMultiplier.value} up to ${K.commitRetryMaxMs.value / 1000} s, for ${K.commitRetryTotalMs.value / 1000} s; transactions 5 attempts, 60 s after RESOURCE_EXHAUSTED), then lib/transaction.ts, then Cloud Tasks / Pub/Sub`,
      'every document read, written or deleted and every index entry written or removed is one operation on its range; indexes from terraform/firestore.tf',
    );
  }
  if (selfRamp) out.push('the pipeline ramps itself: the delivery queues\' rate halves in a second with refusals, else grows 25 % up to terraform/\'s (a model of a fan-out calling UpdateQueue; not in lib/)');
  out.push('latencies: sim/production/constants.ts (assumed: Google publishes none)');
  return out;
}

/** A world's measure as one Firestore run of the report. */
function runOf(temperature: Temperature, selfRamp: boolean, w: WorldMeasure): FirestoreRun {
  // Per shopper notified (a notification sent again is not a second one).
  const per = (n: number) => Math.round((n / Math.max(1, w.notified - w.duplicateSends)) * 100) / 100;
  const hottestRanges = w.load.ranges.slice(0, 6).map((r) => ({ ...r, rampFloorMs: Math.round(rampLowerBoundMs(r.ops)) }));
  const floors = { ...w.floors };
  const hottest = hottestRanges[0];
  if (hottest) floors[`Firestore 500/50/5 on ${hottest.range}${hottest.newForEvent ? ' (new for every event)' : ''}: ${hottest.ops} operations`] = hottest.rampFloorMs;
  const boundBy = Object.entries(floors).sort((a, b) => b[1] - a[1])[0]![0];
  return {
    temperature,
    selfRamp,
    firstNotificationMs: Math.round(w.firstNotificationMs),
    lastNotificationMs: Math.round(w.lastNotificationMs),
    fanoutDoneMs: Math.round(w.fanoutDoneMs),
    settledMs: Math.round(w.settledMs),
    notified: w.notified,
    fanoutState: w.fanoutState,
    boundBy,
    floors,
    perNotification: {
      documentWrites: per(w.writes.documents),
      indexEntries: per(w.writes.indexEntries),
      byCollection: Object.fromEntries(Object.entries(w.writes.byCollection).map(([c, n]) => [c, { documentWrites: per(n.documents), indexEntries: per(n.indexEntries) }])),
    },
    refusals: { ...w.load.refusedWrites, clientRetries: w.commitRetries, deliveryRetries: w.deliveryRetries, tasksDropped: w.tasksDropped, duplicateSends: w.duplicateSends },
    hottestRanges,
    ...(w.finalQueueRate !== undefined ? { finalQueueRate: w.finalQueueRate } : {}),
    ...(w.burst ? { burst: w.burst } : {}),
    assumptions: assumptionsOf(temperature, selfRamp),
  };
}

/** Indexes of `collection` on which one event's hot-path writes are sequential (a hot range), by name. */
export function sequentialIndexes(d: Deployed, timestampsIndexed: boolean | undefined, collection = 'deliveries'): string[] {
  if (timestampsIndexed === false) return [];
  const out: string[] = [];
  const monotonic = MONOTONIC_FIELDS[collection] ?? [];
  const exempted = d.exempted[collection] ?? new Set<string>();
  for (const f of monotonic) {
    if (timestampsIndexed === true || (!exempted.has(f) && !exempted.has('*'))) out.push(`single-field ${f}`);
  }
  for (const c of d.composites.filter((x) => x.collection === collection)) {
    const i = c.fields.findIndex((f) => monotonic.includes(f));
    if (i >= 0 && c.fields.slice(0, i).every((f) => CONSTANT_IN_A_BURST.has(f))) out.push(`composite ${c.name} (${c.fields.join(', ')})`);
  }
  return out;
}

/** A FIFO of tasks behind a token bucket and a concurrency limit (one Cloud Tasks queue). */
class Queue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private head = 0;
  private tokens: number;
  private lastMs: number;
  private inFlight = 0;
  private wake = false;
  peakDepth = 0;

  constructor(
    private readonly s: Scheduler,
    private readonly rate: number,
    private readonly burst: number,
    private readonly concurrency: number,
  ) {
    this.tokens = burst;
    this.lastMs = s.nowMs;
  }

  get depth(): number {
    return this.waiting.length - this.head;
  }

  add(run: () => Promise<void>): void {
    this.waiting.push(run);
    this.peakDepth = Math.max(this.peakDepth, this.depth);
    this.poke();
  }

  private poke(): void {
    this.tokens = Math.min(this.burst, this.tokens + ((this.s.nowMs - this.lastMs) / 1000) * this.rate);
    this.lastMs = this.s.nowMs;
    while (this.depth > 0 && this.inFlight < this.concurrency && this.tokens >= 1) {
      this.tokens -= 1;
      this.inFlight++;
      const run = this.waiting[this.head++]!;
      void this.s.sleep(K.dispatchOverheadMs.value).then(run).then(() => {
        this.inFlight--;
        this.poke();
      });
    }
    if (this.depth > 0 && this.inFlight < this.concurrency && !this.wake) {
      this.wake = true;
      this.s.at(Math.ceil(((1 - this.tokens) / this.rate) * 1000), () => {
        this.wake = false;
        this.poke();
      });
    }
  }
}

/** Firestore write throughput per collection: unlimited, or 500/s of sequential writes when a hot index is present. */
class Writes {
  private busyUntil = new Map<string, number>();
  readonly total = new Map<string, number>();
  readonly perSecond = new Map<string, Map<number, number>>();
  constructor(
    private readonly s: Scheduler,
    private readonly hot: Set<string>,
  ) {}
  /** One commit of `count` writes on `collection`; resolves when Firestore has applied it. */
  commit(collection: string, count: number): Promise<void> {
    const latency = K.firestoreCommitMs.value + count * K.firestoreCommitPerWriteMs.value;
    let doneAt = this.s.nowMs + latency;
    if (this.hot.has(collection)) {
      const start = Math.max(this.s.nowMs, this.busyUntil.get(collection) ?? 0);
      const drained = start + (count / K.sequentialIndexWritesPerSecond.value) * 1000;
      this.busyUntil.set(collection, drained);
      doneAt = Math.max(doneAt, drained);
    }
    this.total.set(collection, (this.total.get(collection) ?? 0) + count);
    const second = Math.floor((doneAt - SIM_EPOCH_MS) / 1000);
    const buckets = this.perSecond.get(collection) ?? new Map<number, number>();
    buckets.set(second, (buckets.get(second) ?? 0) + count);
    this.perSecond.set(collection, buckets);
    return this.s.sleep(doneAt - this.s.nowMs);
  }
}

/**
 * The analytic model (the clock before it ran the real flows), kept as a
 * cross-check: the same constants as plain arithmetic over the RPCs the flows
 * make. When the two disagree by much, one of them misreads the code.
 * @throws when terraform/ cannot be read.
 */
export async function analyticClock(o: ClockOptions): Promise<ClockReport> {
  const d = await readDeployment(o.terraformDir, o.vars);
  const config = deployedConfig(d);
  const hotIndexes = sequentialIndexes(d, o.timestampsIndexed);
  const s = new Scheduler(new Prng(1), 0);
  const writes = new Writes(s, new Set(hotIndexes.length > 0 ? ['deliveries'] : []));
  const rate = Math.min(d.queueMaxDispatchesPerSecond, K.queueMaxDispatchesPerSecond.value);
  const concurrency = Math.min(d.queueMaxConcurrentDispatches, K.queueMaxConcurrentDispatches.value);
  const burstOf = (r: number) => Math.max(1, Math.ceil(r * K.queueBurstPerRate.value));
  const queues = Array.from({ length: d.queueCount }, () => new Queue(s, rate, burstOf(rate), concurrency));
  const contRate = Math.min(d.continuationQueue.maxDispatchesPerSecond, K.queueMaxDispatchesPerSecond.value);
  const continuationQueue = new Queue(s, contRate, burstOf(contRate), Math.min(d.continuationQueue.maxConcurrentDispatches, K.queueMaxConcurrentDispatches.value));
  const deliveryInstances = new Instances(s, d.deliveryMaxInstances, d.deliveryMinInstances, d.deliveryConcurrency);
  const fanoutInstances = new Instances(s, d.fanoutMaxInstances, d.fanoutMinInstances);
  const t0 = s.nowMs;
  let first = Infinity;
  let last = 0;
  let fanoutDone = 0;
  let tasks = 0;
  let continuations = 0;
  let ranges = 1;
  const ch = K.channelsPerSubscriber.value;
  const readMs = (docs: number) => K.firestoreReadMs.value + docs * K.firestoreReadPerDocMs.value;

  const deliverChunk = async (n: number) => {
    await deliveryInstances.acquire();
    await s.sleep(readMs(n)); // the chunk's subscriptions
    await writes.commit('deliveries', n * ch); // the claim: one create per notification, all or nothing
    const calls = Math.ceil((n * ch) / d.notifyBatchSize);
    for (let wave = 0; wave < Math.ceil(calls / d.sendConcurrency); wave++) {
      await s.sleep(K.notifierCallMs.value);
      first = Math.min(first, s.nowMs);
    }
    // The record: a ledger update per notification and a subscription delete per shopper, ≤ 500 writes a commit.
    const perCommit = Math.floor(K.maxWritesPerCommit.value / (ch + 1));
    const commits: Promise<void>[] = [];
    for (let left = n; left > 0; left -= perCommit) {
      const k = Math.min(left, perCommit);
      commits.push(writes.commit('deliveries', k * ch), writes.commit('restockSubscriptions', k));
    }
    await Promise.all(commits);
    last = Math.max(last, s.nowMs);
    deliveryInstances.release();
  };

  const enqueue = async (n: number) => {
    await s.sleep(K.createTaskMs.value);
    const q = queues[tasks % queues.length]!;
    tasks++;
    q.add(() => deliverChunk(n));
  };

  /** A fan-out request on an instance of its own (warm or cold), paging `[cursor, end)`. */
  const attempt = async (cursor: number, end: number, head: boolean): Promise<void> => {
    await fanoutInstances.acquire();
    try {
      await chain(cursor, end, head);
    } finally {
      fanoutInstances.release();
    }
  };

  /**
   * One chain of pages from `cursor` to `end`: claim, page with read-ahead,
   * enqueue, checkpoint, hand over at the budget. The fan-out's own chain
   * (`head`) splits what follows its first page into K ranges
   * (lib/fanout/split.ts: a count, the last id, a round of K counts, the
   * split's commit, K-1 continuation tasks) and pages range 0 itself.
   */
  const chain = async (cursor: number, end: number, head: boolean): Promise<void> => {
    await s.sleep(readMs(2)); // claim transaction: the fan-out (or range) and product documents
    await writes.commit('fanouts', 1);
    const started = s.nowMs;
    let lastCheckpoint = s.nowMs;
    let size = pageSizeFor(head, d);
    let read = s.sleep(readMs(Math.min(size, end - cursor)));
    while (cursor < end) {
      await read;
      const ids = Math.min(size, end - cursor);
      const nextCursor = cursor + ids;
      if (s.nowMs - started > d.fanoutTimeBudgetMs && nextCursor < end) {
        // Hand over: checkpoint, a continuation task on the continuation queue, release.
        await s.sleep(readMs(1));
        await writes.commit('fanouts', 1);
        await s.sleep(K.createTaskMs.value);
        continuations++;
        const from = cursor;
        continuationQueue.add(() => attempt(from, end, false));
        return;
      }
      size = d.pageSize;
      const chunks: number[] = [];
      for (let left = ids; left > 0; left -= d.chunkSize) chunks.push(Math.min(left, d.chunkSize));
      if (head) {
        // The first chunk goes out before planning (promise 9); then the split.
        for (let i = 0; i < chunks.length; i += d.enqueueConcurrency) await Promise.all(chunks.slice(i, i + d.enqueueConcurrency).map(enqueue));
        cursor = nextCursor;
        head = false;
        const k = decideRangeCount(end - cursor, { target: config.fanoutRangeTarget, min: config.fanoutMinRanges, max: config.fanoutMaxRanges, pageSize: d.pageSize });
        if (k > 1) {
          await s.sleep(readMs(0)); // the count aggregation
          await s.sleep(readMs(1)); // the last id
          await s.sleep(readMs(0)); // one round of K counts, in parallel
          await writes.commit('fanouts', k + 1); // the head and K range documents
          ranges = k;
          const share = Math.ceil((end - cursor) / k);
          const starts = Array.from({ length: k - 1 }, (_, i) => cursor + (i + 1) * share).filter((x) => x < end);
          for (let i = 0; i < starts.length; i += d.enqueueConcurrency) {
            await Promise.all(
              starts.slice(i, i + d.enqueueConcurrency).map(async (from) => {
                const until = Math.min(end, from + share);
                await s.sleep(K.createTaskMs.value);
                continuationQueue.add(() => attempt(from, until, false));
              }),
            );
          }
          end = Math.min(end, cursor + share);
          // Range 0 is claimed here, as its own chain.
          await s.sleep(readMs(2));
          await writes.commit('fanouts', 1);
        }
        read = cursor < end ? s.sleep(readMs(Math.min(d.pageSize, end - cursor))) : Promise.resolve();
        continue;
      }
      read = nextCursor < end ? s.sleep(readMs(Math.min(d.pageSize, end - nextCursor))) : Promise.resolve();
      for (let i = 0; i < chunks.length; i += d.enqueueConcurrency) await Promise.all(chunks.slice(i, i + d.enqueueConcurrency).map(enqueue));
      cursor = nextCursor;
      if (cursor < end && s.nowMs - lastCheckpoint >= d.checkpointIntervalMs) {
        await s.sleep(readMs(1));
        await writes.commit('fanouts', 1);
        lastCheckpoint = s.nowMs;
      }
    }
    await s.sleep(readMs(1));
    await writes.commit('fanouts', 1);
    fanoutDone = Math.max(fanoutDone, s.nowMs);
  };

  s.at(K.pushDeliveryMs.value, () => void attempt(0, o.subscribers, true));
  await s.run(Number.MAX_SAFE_INTEGER);

  const elapsed = last - t0;
  const writesPerSecond: ClockReport['writesPerSecond'] = {};
  for (const [col, total] of writes.total) {
    writesPerSecond[col] = {
      total,
      average: Math.round(total / Math.max(0.001, elapsed / 1000)),
      peak: Math.max(...writes.perSecond.get(col)!.values()),
    };
  }
  const chunks = tasks;
  // A chunk's own time, without waiting on Firestore's write limit: what concurrency alone allows.
  const n = d.chunkSize;
  const commitMs = (w: number) => K.firestoreCommitMs.value + w * K.firestoreCommitPerWriteMs.value;
  const serviceMs =
    K.dispatchOverheadMs.value + K.requestOverheadMs.value + readMs(n) + commitMs(n * ch) +
    Math.ceil(Math.ceil((n * ch) / d.notifyBatchSize) / d.sendConcurrency) * K.notifierCallMs.value + commitMs(n * (ch + 1));
  const sequentialWrites = hotIndexes.length > 0 ? (writes.total.get('deliveries') ?? 0) : 0;
  const inFlight = Math.min(concurrency * d.queueCount, deliverySlots(d));
  const floors: Record<string, number> = {
    [`fan-out paging (${ranges} chain(s) of pages)`]: fanoutDone - t0,
    [`queue dispatch rate (${d.queueCount} queue(s) × ${rate} tasks/s)`]: (chunks / (rate * d.queueCount)) * 1000,
    [`concurrent deliveries (min(${d.queueCount} × queue ${concurrency}, ${d.deliveryMaxInstances} instances × ${d.deliveryConcurrency}) = ${inFlight})`]: (chunks * serviceMs) / inFlight,
    'Firestore 500 writes/s on the ledger (sequential index)': (sequentialWrites / K.sequentialIndexWritesPerSecond.value) * 1000,
  };
  const boundBy = Object.entries(floors).sort((a, b) => b[1] - a[1])[0]![0];
  const { exempted: _e, composites: _c, env: _v, queueRetry: _r, continuationQueue: _q, ...settings } = d;
  return {
    subscribers: o.subscribers,
    deployment: { ...settings, sequentialIndexes: hotIndexes },
    timestampsIndexed: hotIndexes.length > 0,
    firstNotificationMs: Math.round(first - t0),
    lastNotificationMs: Math.round(elapsed),
    fanoutDoneMs: Math.round(fanoutDone - t0),
    tasks,
    continuations,
    ranges,
    peakQueueDepth: Math.max(...queues.map((q) => q.peakDepth)),
    peakInstances: deliveryInstances.peak,
    writesPerSecond,
    floors: Object.fromEntries(Object.entries(floors).map(([k, v]) => [k, Math.round(v)])),
    boundBy,
    constants: K,
  };
}

const minutes = (ms: number) => (ms >= 120_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`);

/**
 * The production clock: lib/'s real flows in virtual time (./world.ts) against
 * the deployment terraform/ describes, with the analytic model beside it as a
 * cross-check.
 * @throws when terraform/ cannot be read or its settings do not parse.
 */
export async function productionClock(o: ClockOptions): Promise<ClockReport> {
  const wallStart = performance.now();
  const d = await readDeployment(o.terraformDir, o.vars);
  const hotIndexes = sequentialIndexes(d, o.timestampsIndexed);
  const sequential = new Set(Object.keys(MONOTONIC_FIELDS).filter((c) => sequentialIndexes(d, o.timestampsIndexed, c).length > 0));
  const indexes = await readIndexConfig(o.terraformDir);
  const runs: FirestoreRun[] = [];
  let w: WorldMeasure | undefined;
  for (const temperature of o.firestore ?? ['unlimited']) {
    const measure = await runProductionWorld({ subscribers: o.subscribers, deployed: d, sequentialCollections: sequential, indexes, temperature, selfRamp: Boolean(o.selfRamp), ...(o.sellOutAfterMs !== undefined ? { sellOutAfterMs: o.sellOutAfterMs } : {}) });
    w ??= measure;
    runs.push(runOf(temperature, Boolean(o.selfRamp), measure));
  }
  if (!w) throw new Error('firestore: at least one of cold, warm, unlimited');
  const first = runs[0]!;
  const wallMs = Math.round(performance.now() - wallStart);
  const a = await analyticClock(o);
  const { exempted: _e, composites: _c, env: _v, queueRetry: _r, continuationQueue: _q, ...settings } = d;
  return {
    subscribers: o.subscribers,
    deployment: { ...settings, ...w.config, queueCount: w.queues, sequentialIndexes: hotIndexes },
    timestampsIndexed: hotIndexes.length > 0,
    firstNotificationMs: Math.round(w.firstNotificationMs),
    lastNotificationMs: Math.round(w.lastNotificationMs),
    fanoutDoneMs: Math.round(w.fanoutDoneMs),
    tasks: w.tasks,
    continuations: w.continuations,
    ranges: w.ranges,
    peakQueueDepth: w.peakQueueDepth,
    peakInstances: w.peakInstances.delivery,
    writesPerSecond: w.writesPerSecond,
    floors: first.floors,
    boundBy: first.boundBy,
    notified: w.notified,
    fanoutState: w.fanoutState,
    coldStarts: w.coldStarts,
    steps: w.steps,
    ...(w.sellOut ? { sellOut: w.sellOut } : {}),
    wallMs,
    analytic: { firstNotificationMs: a.firstNotificationMs, lastNotificationMs: a.lastNotificationMs, fanoutDoneMs: a.fanoutDoneMs, ranges: a.ranges, boundBy: a.boundBy },
    constants: K,
    ...Object.fromEntries(runs.map((r) => [r.temperature, r])),
  };
}

/**
 * A hot product's sale burst through the real fan-out claim (./world.ts
 * WorldOptions.saleBurst): a restock of `units`, `units` one-unit sales and a
 * restock again, published over `overMs`, every stock change a transaction on
 * `products/{id}` against Firestore's one sustained write per second, Pub/Sub's
 * retry policy and its dead-letter policy as terraform/ sets them.
 * @throws when terraform/ cannot be read.
 */
export async function saleBurst(o: { terraformDir: string; units: number; overMs: number; jitterMs?: number; subscribers?: number; vars?: Record<string, number>; firestore?: Temperature }): Promise<FirestoreRun> {
  const d = await readDeployment(o.terraformDir, o.vars);
  const indexes = await readIndexConfig(o.terraformDir);
  const temperature = o.firestore ?? 'warm';
  const w = await runProductionWorld({ subscribers: o.subscribers ?? 1000, deployed: d, sequentialCollections: new Set(), indexes, temperature, saleBurst: { units: o.units, overMs: o.overMs, jitterMs: o.jitterMs ?? K.pushOrderJitterMs.value } });
  return runOf(temperature, false, w);
}

/** The report for a person. */
export function formatClock(r: ClockReport): string {
  return [
    `production clock: ${r.subscribers.toLocaleString('en')} subscribers of one product, as terraform/ deploys it${r.analytic ? ' (lib/\'s flows in virtual time)' : ''}`,
    `  ${r.deployment.queueCount} delivery queue(s) × ${r.deployment.queueMaxDispatchesPerSecond}/s, ${r.deployment.queueMaxConcurrentDispatches} concurrent; delivery ${r.deployment.deliveryMinInstances}–${r.deployment.deliveryMaxInstances} instances × ${r.deployment.deliveryConcurrency} request(s), fan-out ${r.deployment.fanoutMinInstances}–${r.deployment.fanoutMaxInstances}; page ${r.deployment.pageSize}, chunk ${r.deployment.chunkSize}`,
    `  ledger indexes with sequential writes: ${r.deployment.sequentialIndexes.length === 0 ? 'none' : r.deployment.sequentialIndexes.join('; ')}`,
    `  first notification   ${minutes(r.firstNotificationMs)}`,
    `  last notification    ${minutes(r.lastNotificationMs)}`,
    `  fan-out done         ${minutes(r.fanoutDoneMs)} (${r.tasks} delivery tasks, ${r.ranges} key range(s), ${r.continuations} continuation task(s))`,
    `  peak queue depth     ${r.peakQueueDepth} tasks; peak delivery instances ${r.peakInstances}`,
    `  writes/s             ${Object.entries(r.writesPerSecond).map(([c, w]) => `${c} avg ${w.average} peak ${w.peak}`).join('; ')}`,
    `  floors               ${Object.entries(r.floors).map(([k, v]) => `${k}: ${minutes(v)}`).join('; ')}`,
    `  bound by             ${r.boundBy}`,
    ...(r.notified !== undefined ? [`  notified             ${r.notified.toLocaleString('en')} of ${r.subscribers.toLocaleString('en')}; fan-out ${r.fanoutState}; ${r.coldStarts} cold starts; ${r.steps} steps in ${((r.wallMs ?? 0) / 1000).toFixed(0)} s of this machine`] : []),
    ...(r.sellOut
      ? [
          `  sold out again       seen ${minutes(r.sellOut.seenAtMs)} after the restock: ${r.sellOut.chunksInFlightWhenSeen} chunk(s) in flight then (${r.sellOut.deliveriesRunningWhenSeen} delivery request(s) running), told ${r.sellOut.toldBeforeSeen.toLocaleString('en')} before and ${r.sellOut.toldAfterSeen.toLocaleString('en')} after (those chunks finishing)`,
          `  stopping cost        ${r.sellOut.keptPlace.toLocaleString('en')} kept their place; ${r.sellOut.chunksEnqueued} chunk(s) enqueued, ${r.sellOut.soldOutBeforeSend.toLocaleString('en')} soldOutBeforeSend entries written; ${r.sellOut.stockCheckReads.toLocaleString('en')} stock-check reads of products/{id}`,
        ]
      : []),
    ...(r.analytic ? [`  analytic model       first ${minutes(r.analytic.firstNotificationMs)}, last ${minutes(r.analytic.lastNotificationMs)}, fan-out done ${minutes(r.analytic.fanoutDoneMs)} in ${r.analytic.ranges} range(s), bound by ${r.analytic.boundBy} (cross-check; it models no ramp-up)`] : []),
    ...(['cold', 'warm', 'unlimited'] as const).flatMap((t) => (r[t] ? formatRun(r[t]) : [])),
  ].join('\n');
}

/** One Firestore run, its figures with their assumptions beside them. */
export function formatRun(f: FirestoreRun): string[] {
  const by = Object.entries(f.perNotification.byCollection).map(([c, n]) => `${c} ${n.documentWrites} + ${n.indexEntries}`).join(', ');
  return [
    `  ${f.temperature.toUpperCase()} Firestore${f.selfRamp ? ', the pipeline ramping itself' : ''}`,
    `    first / last notification  ${minutes(f.firstNotificationMs)} / ${minutes(f.lastNotificationMs)}; fan-out done ${minutes(f.fanoutDoneMs)}; last outcome recorded ${minutes(f.settledMs)}; notified ${(f.notified - f.refusals.duplicateSends).toLocaleString('en')} (${f.notified.toLocaleString('en')} sends); fan-out ${f.fanoutState}`,
    `    bound by                   ${f.boundBy}`,
    `    per notification           ${f.perNotification.documentWrites} document writes, ${f.perNotification.indexEntries} index entries (${by})`,
    `    refused writes             ${f.refusals.resourceExhausted} RESOURCE_EXHAUSTED, ${f.refusals.aborted} ABORTED; ${f.refusals.clientRetries} client retries; ${f.refusals.deliveryRetries} delivery attempts retried; ${f.refusals.tasksDropped} tasks dropped; ${f.refusals.duplicateSends} notifications sent again${f.finalQueueRate !== undefined ? `; queue rate at the end ${Math.round(f.finalQueueRate)}/s` : ''}`,
    ...f.hottestRanges.slice(0, 3).map((h) => `    range                      ${h.range}${h.newForEvent ? ' (new for every event)' : ''}: ${h.ops} ops, ${h.refusals} refusals; 500/50/5 allows them in no less than ${minutes(h.rampFloorMs)}`),
    ...(f.burst
      ? [
          `    sale burst                 ${f.burst.events} events: ${f.burst.acked} acknowledged, ${f.burst.deadLettered} dead-lettered, largest delivery attempt ${f.burst.maxDeliveryAttempt}; restocks fanned out ${f.burst.restocksFannedOut}, ignored ${f.burst.restocksIgnored.length}${f.burst.restocksIgnored.map((i) => ` (${i.eventKey}: ${i.reason})`).join('')}; ${f.burst.productWrites} writes to the product; settled after ${minutes(f.burst.settledMs)}`,
        ]
      : []),
    ...f.assumptions.map((a) => `    assumes                    ${a}`),
  ];
}
