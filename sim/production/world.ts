/**
 * The production clock's world: lib/'s real flows — Pub/Sub push into
 * `fanOutRestock` (claim, pages with read-ahead, chunk tasks, checkpoints,
 * continuations), Cloud Tasks into `deliverRestockBatch` (the ledger's claim,
 * the sends, the record that settles and removes one-shot subscriptions) —
 * on the simulation's in-memory Firestore, Cloud Tasks and Pub/Sub, in
 * virtual time, with no faults, and with the latencies and limits of
 * ./constants.ts and the deployment `terraform/` describes:
 *
 * - every Firestore read, query and commit takes its constant latency; a
 *   commit's writes to a collection with a sequential index (./sequential.ts)
 *   wait their turn at 500 writes/s;
 * - each Cloud Tasks queue dispatches within its token bucket and concurrency
 *   (terraform/'s rate, capped at Google's 500/s and 5,000);
 * - each function has at most its deployed instances, one request each
 *   (Cloud Run's default concurrency for functions), a new one starting cold;
 * - the notification service answers each batch after its constant latency;
 *   it counts what it is sent instead of keeping it (a million receipts).
 *
 * What it leaves out, as the analytic model does: network variance (every
 * latency is its constant), Firestore's 500/50/5 ramp-up on new key ranges,
 * and Cloud Run's 429 when instances run out (a request waits for one here).
 */
import type { Firestore } from '@google-cloud/firestore';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { parseConfig, queuePath, type Config } from '../../lib/config.ts';
import { continuationQueuePath, deliveryQueueIds } from '../../lib/tasks/index.ts';
import { Logger } from '../../lib/log.ts';
import { COLLECTIONS } from '../../lib/model.ts';
import type { Notification, NotificationResult, Notifier } from '../../lib/notify/index.ts';
import type { Runtime } from '../../lib/runtime.ts';
import { CONTINUATION_CLOUDEVENT_TYPE } from '../../lib/tasks/index.ts';
import { FirestoreStore, SimFirestore, writtenData } from '../firestore.ts';
import { GrpcError, Net, NO_FAULTS } from '../net.ts';
import { status } from '@grpc/grpc-js';
import { Prng } from '../prng.ts';
import { PushSubscription } from '../pubsub.ts';
import { Scheduler, SIM_EPOCH_MS, type SimProcess } from '../scheduler.ts';
import { SimQueue, SimTasksClient, type SimTask } from '../tasks.ts';
import { deliverRestockBatch, fanOutRestock } from '../functions.ts';
import { CONSTANTS as K } from './constants.ts';
import { FirestoreLoad, rangesOfWrite, type LoadStats, type Temperature } from './firestore-load.ts';
import { countWrites, type IndexConfig, type WriteCount } from './index-entries.ts';
import { deliverySlots, type Deployed } from './terraform.ts';

const PRODUCT = 'p-clock';
const EVENT_ID = 'restock-clock';

/** One Cloud Tasks queue of the deployment as the clock builds it. */
export interface QueuePlan {
  path: string;
  role: 'delivery' | 'continuation';
  maxDispatchesPerSecond: number;
  maxConcurrentDispatches: number;
}

/**
 * One second of the pipeline's self-ramp model (WorldOptions.selfRamp): a
 * delivery queue's limit is halved (not below 1) after a second in which
 * Firestore refused writes, else raised by a quarter up to terraform/'s.
 * Concurrent dispatches are whole (rounded up); the rate need not be.
 */
export function rampedLimit(limit: number, refused: boolean, max: number, whole: boolean): number {
  const next = refused ? Math.max(1, limit / 2) : Math.min(max, limit * 1.25);
  return whole ? Math.ceil(next) : next;
}

/**
 * The queues the deployment has, named by the settings lib/tasks reads
 * (RESTOCK_TASKS_QUEUE and _COUNT, RESTOCK_CONTINUATION_QUEUE) with the limits
 * terraform/tasks.tf gives each, capped at Google's: the delivery queues
 * (`delivery_queue_count` of them) and the continuation queue, which carries
 * the fan-out's key ranges and hand-overs.
 */
export function queuePlan(config: Config, d: Deployed): QueuePlan[] {
  const capped = (rate: number, concurrency: number) => ({
    maxDispatchesPerSecond: Math.min(rate, K.queueMaxDispatchesPerSecond.value),
    maxConcurrentDispatches: Math.min(concurrency, K.queueMaxConcurrentDispatches.value),
  });
  return [
    ...deliveryQueueIds(config).map((id): QueuePlan => ({ path: queuePath(config, id), role: 'delivery', ...capped(d.queueMaxDispatchesPerSecond, d.queueMaxConcurrentDispatches) })),
    { path: continuationQueuePath(config), role: 'continuation', ...capped(d.continuationQueue.maxDispatchesPerSecond, d.continuationQueue.maxConcurrentDispatches) },
  ];
}

/** Settings the clock sets itself: in-memory endpoints, the notifier it counts with, no OIDC (no tokens in memory). */
const CLOCK_ENV: Record<string, string> = {
  GOOGLE_CLOUD_PROJECT: 'restock-clock',
  RESTOCK_DELIVERY_URL: 'http://deliver.clock/',
  RESTOCK_FANOUT_URL: 'http://fanout.clock/',
  RESTOCK_NOTIFIER: 'http',
  RESTOCK_NOTIFIER_URL: 'http://notifier.clock/',
  RESTOCK_VERIFY_OIDC: 'false',
  RESTOCK_VERIFY_PUSH_OIDC: 'false',
  RESTOCK_TASK_SIGNING_KEYS: 'production-clock-task-signing-key-32-bytes',
  LOG_LEVEL: 'error',
};

/** Channel settings are the notifier's business, which the clock replaces by a counting one. */
const NOT_THE_CLOCKS = /SMTP|DKIM|FCM|EMAIL|PUSH_SENDER|UNSUBSCRIBE|OIDC|NOTIFIER_URL|^RESTOCK_NOTIFIER$/;

/** The pipeline's settings as deployed (terraform/locals.tf), with the clock's endpoints. */
export function deployedConfig(d: Deployed): Config {
  const env = Object.fromEntries(Object.entries(d.env).filter(([k]) => !NOT_THE_CLOCKS.test(k)));
  return parseConfig({ ...env, ...CLOCK_ENV });
}

/**
 * Cloud Run instances of one function, each serving `perInstance` requests at
 * once: a free slot on a running instance is reused, else a new instance
 * starts cold, at most `max`; `warm` of them exist before the first request
 * (min instances) and take it without a cold start.
 * A request that finds none waits for one (Cloud Run would answer 429 and the
 * caller retry: the optimistic reading). The analytic model uses it too.
 */
export class Instances {
  private idleSlots: number;
  private instances: number;
  private readonly waiting: (() => void)[] = [];
  /** Most instances running at once (not requests: an instance serves `perInstance`). */
  peak: number;
  coldStarts = 0;
  constructor(
    private readonly s: Scheduler,
    private readonly max: number,
    warm = 0,
    /** Requests one instance serves at once (the function's concurrency). */
    private readonly perInstance = 1,
  ) {
    this.instances = Math.min(warm, max);
    this.idleSlots = this.instances * perInstance;
    this.peak = this.instances;
  }
  async acquire(): Promise<void> {
    if (this.idleSlots > 0) {
      this.idleSlots--;
      return this.s.sleep(K.requestOverheadMs.value);
    }
    if (this.instances < this.max) {
      this.instances++;
      this.coldStarts++;
      this.peak = Math.max(this.peak, this.instances);
      await this.s.sleep(K.coldStartMs.value);
      // The new instance's other slots open once it has started.
      for (let i = 1; i < this.perInstance; i++) this.release();
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.s.sleep(K.requestOverheadMs.value);
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.idleSlots++;
  }
}

/** Firestore's write limit on collections with a sequential index: a commit's writes there drain at 500/s, one after another. */
class SequentialWriteLimit {
  private readonly busyUntil = new Map<string, number>();
  /** Virtual ms commits waited on the limit, per process kind. */
  readonly waitedMs = new Map<string, number>();
  constructor(
    private readonly s: Scheduler,
    readonly hot: ReadonlySet<string>,
  ) {}

  /** The commit's latency: its own, or longer if its writes queue behind earlier ones on a hot collection. */
  commitMs(kind: string, writes: readonly { path: string }[]): number {
    const base = K.firestoreCommitMs.value + writes.length * K.firestoreCommitPerWriteMs.value;
    let until = 0;
    const perCollection = new Map<string, number>();
    for (const w of writes) {
      const c = collectionOf(w.path);
      if (this.hot.has(c)) perCollection.set(c, (perCollection.get(c) ?? 0) + 1);
    }
    for (const [c, n] of perCollection) {
      const start = Math.max(this.s.nowMs, this.busyUntil.get(c) ?? 0);
      const done = start + (n / K.sequentialIndexWritesPerSecond.value) * 1000;
      this.busyUntil.set(c, done);
      until = Math.max(until, done - this.s.nowMs);
    }
    // The write is applied half way through the round trip (sim/net.ts): twice the drain time puts it at the drain.
    const ms = Math.max(base, 2 * until);
    this.waitedMs.set(kind, (this.waitedMs.get(kind) ?? 0) + (ms - base));
    return ms;
  }
}

/** The last segment but one of a document path: its collection id. */
function collectionOf(path: string): string {
  const parts = path.split('/');
  return parts[parts.length - 2] ?? '';
}

/** The notification service, counting: every batch answered `sent` after its constant latency. */
class CountingNotifier implements Notifier {
  count = 0;
  /** Keys taken more than once (an earlier call's outcome could not be recorded: promise 1's exception). */
  duplicates = 0;
  private readonly seen = new Set<string>();
  firstAtMs = Infinity;
  lastAtMs = 0;
  calls = 0;
  constructor(private readonly s: Scheduler) {}
  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    this.calls++;
    await this.s.sleep(K.notifierCallMs.value);
    this.count += batch.length;
    for (const n of batch) {
      if (this.seen.has(n.idempotencyKey)) this.duplicates++;
      else this.seen.add(n.idempotencyKey);
    }
    this.firstAtMs = Math.min(this.firstAtMs, this.s.nowMs);
    this.lastAtMs = this.s.nowMs;
    return batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' }));
  }
}

export interface WorldOptions {
  subscribers: number;
  deployed: Deployed;
  /** Collections whose hot-path writes land on a sequential index (./index.ts decides from terraform/). */
  sequentialCollections: ReadonlySet<string>;
  /** Sell the product out again this long after the restock is published (issue 40); undefined: never. */
  sellOutAfterMs?: number;
  /** The indexes terraform/firestore.tf declares (./index-entries.ts): what each write costs, and which key ranges it loads. */
  indexes: IndexConfig;
  /** How much recent traffic Firestore's key ranges had (./firestore-load.ts); `unlimited` (the default) models no ramp-up. */
  temperature?: Temperature;
  /**
   * The pipeline ramping itself (a model, not lib/'s code): every second the
   * delivery queues' dispatch rate is halved when Firestore refused writes in
   * that second, else raised by a quarter up to terraform/'s rate, as a fan-out
   * that calls UpdateQueue on contention answers would.
   */
  selfRamp?: boolean;
  /**
   * Instead of one restock of `subscribers`: a hot product's sale burst. A
   * restock of `units`, `units` one-unit sales (the last one sells it out)
   * and a restock again, published evenly over `overMs` (./index.ts saleBurst);
   * each push is late by up to `jitterMs` (Pub/Sub does not keep the order of
   * messages without ordering keys: https://cloud.google.com/pubsub/docs/ordering).
   */
  saleBurst?: { units: number; overMs: number; jitterMs: number };
}

/** What stopping a restock cost (issue 40): when the sell-out was seen, who was told after it, who kept their place, and the reads and writes the stop made. */
export interface SellOutMeasure {
  /** From the restock's publish to the sell-out event's claim (the product's state says sold out from there). */
  seenAtMs: number;
  /** Chunk claims that had read the stock before the sell-out was seen and not yet recorded their outcomes then: they finish. */
  chunksInFlightWhenSeen: number;
  /** Delivery requests running when the sell-out was seen (the ceiling of the above: min(queue concurrency, instances)). */
  deliveriesRunningWhenSeen: number;
  toldBeforeSeen: number;
  /** Notifications sent after the sell-out was seen: only by the chunks in flight. */
  toldAfterSeen: number;
  /** Shoppers still subscribed at the end: never enqueued, or their chunk claimed nothing. */
  keptPlace: number;
  /** Ledger entries written `soldOutBeforeSend` (chunks enqueued but claimed after the stop). */
  soldOutBeforeSend: number;
  chunksEnqueued: number;
  /** Reads of `products/{id}` by the stock check: one per page read and one per chunk claim. */
  stockCheckReads: number;
}

/** What became of a sale burst's events (./index.ts saleBurst). */
export interface BurstMeasure {
  events: number;
  acked: number;
  deadLettered: number;
  /** Largest delivery attempt any message needed (Pub/Sub's, 1-based). */
  maxDeliveryAttempt: number;
  /** Restock events whose fan-out was claimed and not ignored. */
  restocksFannedOut: number;
  /** Restock events stored as ignored (stale or not a restock): their shoppers were not told by them. */
  restocksIgnored: { eventKey: string; reason: string }[];
  /** Writes to products/{id} (the commits Firestore refused on it are WorldMeasure's load.refusedWrites.aborted). */
  productWrites: number;
  /** Virtual ms from the first publish until every message was acknowledged or dead-lettered. */
  settledMs: number;
}

/** What the flows did, measured in virtual time from the publish. */
export interface WorldMeasure {
  notified: number;
  notifierCalls: number;
  firstNotificationMs: number;
  lastNotificationMs: number;
  fanoutDoneMs: number;
  fanoutState: string;
  tasks: number;
  continuations: number;
  queues: number;
  peakQueueDepth: number;
  peakInstances: { fanout: number; delivery: number };
  /** Key ranges the fan-out split into (1: it paged in one chain). */
  ranges: number;
  coldStarts: number;
  writesPerSecond: Record<string, { average: number; peak: number; total: number }>;
  floors: Record<string, number>;
  boundBy: string;
  steps: number;
  /** Present with `sellOutAfterMs`. */
  sellOut?: SellOutMeasure;
  config: Pick<Config, 'pageSize' | 'chunkSize' | 'enqueueConcurrency' | 'sendConcurrency' | 'notifyBatchSize' | 'fanoutTimeBudgetMs'>;
  /** The run's last Firestore commit (the last outcome recorded, the fan-out completed), from the publish. */
  settledMs: number;
  /** Document writes and index entries of the run (./index-entries.ts countWrites), seeding excluded. */
  writes: WriteCount;
  /** Key ranges, refusals and read waits (./firestore-load.ts). */
  load: LoadStats;
  /** Commits the Firestore client retried after a refusal (google-gax), and delivery tasks Cloud Tasks dropped after their last attempt. */
  commitRetries: number;
  tasksDropped: number;
  /** Delivery attempts that answered non-2xx (Cloud Tasks retried them). */
  deliveryRetries: number;
  /** Notifications the notifier took again for a key it had taken (`notified` counts every one). */
  duplicateSends: number;
  /** The delivery queues' dispatch rate at the end when the pipeline ramped itself. */
  finalQueueRate?: number;
  burst?: BurstMeasure;
}

/** Runs one restock of `subscribers` shoppers through the real flows. @throws when the settings terraform/ gives do not parse. */
export async function runProductionWorld(o: WorldOptions): Promise<WorldMeasure> {
  const d = o.deployed;
  const config = deployedConfig(d);
  const s = new Scheduler(new Prng(1), 0);
  const store = new FirestoreStore(() => s.nowMs);
  const net = new Net(s, new Prng(2), NO_FAULTS);
  const limit = new SequentialWriteLimit(s, o.sequentialCollections);
  const eventKeyOf = (i: number) => (o.saleBurst ? `clock-event-${i}` : EVENT_ID);
  const load = new FirestoreLoad(o.temperature ?? 'unlimited', o.saleBurst ? 'clock-event-' : EVENT_ID);
  let commitRetries = 0;
  const readWaitMs = (byCollection: Map<string, number>) => load.read(new Map([...byCollection].map(([c, n]) => [`${c} documents`, n])), s.nowMs);
  const admitCommit = (writes: readonly { kind: string; path: string; data?: Record<string, unknown>; merge?: boolean }[]) => {
    const ops = new Map<string, number>();
    const staged = new Map<string, Record<string, unknown> | undefined>();
    for (const w of writes) {
      const before = staged.has(w.path) ? staged.get(w.path) : store.read(w.path)?.data;
      const after = writtenData(w, before);
      staged.set(w.path, after);
      for (const [r, n] of rangesOfWrite(o.indexes, w.path, before, after)) ops.set(r, (ops.get(r) ?? 0) + n);
    }
    const verdict = load.write(ops, writes.map((w) => w.path), s.nowMs);
    if ('waitMs' in verdict) return verdict;
    return verdict.refused === 'ABORTED'
      ? new GrpcError(status.ABORTED, `Too much contention on these datastore entities. Please try again. (${verdict.what})`)
      : new GrpcError(status.RESOURCE_EXHAUSTED, `This database has exceeded their daily quota or the ramp up limit for writes, please retry with exponential backoff. (${verdict.what})`);
  };
  const ramped = (o.temperature ?? 'unlimited') !== 'unlimited';
  const commitRetry = ramped ? { initialMs: K.commitRetryInitialMs.value, multiplier: K.commitRetryMultiplier.value, maxMs: K.commitRetryMaxMs.value, totalMs: K.commitRetryTotalMs.value } : undefined;
  const silent = new Logger({}, 'ERROR', () => undefined);
  const notifier = new CountingNotifier(s);
  const instances = {
    fanout: new Instances(s, d.fanoutMaxInstances, d.fanoutMinInstances),
    deliver: new Instances(s, d.deliveryMaxInstances, d.deliveryMinInstances, d.deliveryConcurrency),
  };
  let deliveryBusyMs = 0;
  let continuations = 0;
  // Issue 40: delivery requests running, and those whose claim (the stock check's read) happened before the sell-out was seen.
  let deliveriesRunning = 0;
  const claimedBeforeSeen = new Set<string>();
  let sellOut: { seenAtMs: number; inFlight: number; running: number; toldBefore: number } | undefined;
  let stockCheckReads = 0;
  store.readListeners.push((actor, path) => {
    if (path !== `${COLLECTIONS.products}/${PRODUCT}`) return;
    stockCheckReads++;
    if (!sellOut && actor.startsWith('deliver')) claimedBeforeSeen.add(actor);
  });
  let deliveryRetries = 0;

  const clientFor = (proc: SimProcess, kind: string): SimFirestore => {
    const db = new SimFirestore(store, net, proc, {
      readMs: (docs) => K.firestoreReadMs.value + docs * K.firestoreReadPerDocMs.value,
      queryMs: (docs) => K.firestoreReadMs.value + docs * K.firestoreReadPerDocMs.value,
      commitMs: (writes) => limit.commitMs(kind, writes),
      ...(ramped ? { readWaitMs, admitCommit } : {}),
      ...(commitRetry ? { commitRetry } : {}),
    });
    return db;
  };
  const runtimeFor = (proc: SimProcess, kind: string): Runtime => ({
    config,
    db: clientFor(proc, kind) as unknown as Firestore,
    tasks: new SimTasksClient(queues, net, proc, () => K.createTaskMs.value) as unknown as CloudTasksClient,
    log: silent,
    now: () => s.nowMs,
  });

  /** One request to a function: an instance (warm or cold), the handler, the instance back. */
  const invoke = async (kind: 'fanout' | 'deliver', body: (rt: Runtime) => Promise<{ status: number }>): Promise<number> => {
    const proc = s.spawn(kind);
    (proc as { name: string }).name = `${kind}#${proc.id}`;
    const pool = instances[kind];
    await pool.acquire();
    const started = s.nowMs;
    if (kind === 'deliver') deliveriesRunning++;
    const rt = runtimeFor(proc, kind);
    try {
      const answer = (await body(rt)).status;
      if (kind === 'deliver' && (answer < 200 || answer >= 300)) deliveryRetries++;
      return answer;
    } finally {
      commitRetries += (rt.db as unknown as SimFirestore).commitRetries;
      if (kind === 'deliver') {
        deliveryBusyMs += s.nowMs - started;
        deliveriesRunning--;
        claimedBeforeSeen.delete(proc.name);
      }
      pool.release();
    }
  };

  const dispatch = async (task: SimTask, headers: Record<string, string>): Promise<number> => {
    await s.sleep(K.dispatchOverheadMs.value);
    if (task.url === config.fanoutUrl) {
      continuations++;
      return invoke('fanout', (rt) => fanOutRestock(rt, { ...headers, 'ce-type': headers['ce-type'] ?? CONTINUATION_CLOUDEVENT_TYPE }, task.body, task.rawBody));
    }
    return invoke('deliver', (rt) => deliverRestockBatch(rt, notifier, headers, task.body, task.rawBody));
  };

  const plans = queuePlan(config, d);
  const delivery = plans.filter((q) => q.role === 'delivery');
  const queues = new Map<string, SimQueue>();
  for (const q of plans) {
    queues.set(
      q.path,
      new SimQueue(
        q.path,
        { maxDispatchesPerSecond: q.maxDispatchesPerSecond, maxConcurrentDispatches: q.maxConcurrentDispatches, retry: d.queueRetry, dispatchDeadlineMs: 600_000, nameReuseWindowMs: 3_600_000 },
        s,
        dispatch,
        () => false,
      ),
    );
  }
  const push = new PushSubscription(
    s,
    new Prng(3),
    { ackDeadlineMs: d.fanoutAckDeadlineMs, minBackoffMs: 10_000, maxBackoffMs: 600_000, maxDeliveryAttempts: config.pubsubMaxDeliveryAttempts, pushLatencyMs: K.pushDeliveryMs.value },
    { concurrentDuplicate: 0, redeliverAfterAck: 0, maxJitterMs: o.saleBurst?.jitterMs ?? 0 },
    (body) => invoke('fanout', (rt) => fanOutRestock(rt, { 'content-type': 'application/json' }, body)),
  );

  // The product and its shoppers (one channel each: ./constants.ts channelsPerSubscriber).
  store.seed(`${COLLECTIONS.products}/${PRODUCT}`, { productId: PRODUCT, available: 0, sequence: 5, updatedAtMs: SIM_EPOCH_MS, name: 'Clock kettle' });
  const subs = `${COLLECTIONS.products}/${PRODUCT}/${COLLECTIONS.subscriptions}`;
  for (let i = 0; i < o.subscribers; i++) {
    const userId = `u${i.toString(36).padStart(5, '0')}`;
    store.seed(`${subs}/${userId}`, { userId, productId: PRODUCT, channels: { email: `${userId}@shop.example` }, createdAtMs: SIM_EPOCH_MS, updatedAtMs: SIM_EPOCH_MS });
  }

  // Writes per collection per second, and when the fan-out ended.
  const perSecond = new Map<string, Map<number, number>>();
  const totals = new Map<string, number>();
  let fanoutDoneMs = 0;
  let fanoutState = 'never claimed';
  let soldOutBeforeSend = 0;
  const rangeDocs = new Set<string>();
  const writes: WriteCount = { documents: 0, indexEntries: 0, byCollection: {} };
  let productWrites = 0;
  let lastCommitMs = SIM_EPOCH_MS;
  store.listeners.push((commit) => {
    countWrites(o.indexes, commit.writes, writes);
    lastCommitMs = commit.atMs;
    productWrites += commit.writes.filter((w) => w.path === `${COLLECTIONS.products}/${PRODUCT}`).length;
    const second = Math.floor((commit.atMs - SIM_EPOCH_MS) / 1000);
    for (const w of commit.writes) {
      const c = collectionOf(w.path);
      totals.set(c, (totals.get(c) ?? 0) + 1);
      const b = perSecond.get(c) ?? new Map<number, number>();
      b.set(second, (b.get(second) ?? 0) + 1);
      perSecond.set(c, b);
      if (c === COLLECTIONS.fanoutRanges) rangeDocs.add(w.path);
      // The sell-out's claim writes the product's new state: from this commit every stock check reads it.
      if (!sellOut && w.path === `${COLLECTIONS.products}/${PRODUCT}` && w.after && w.after.available === 0 && o.sellOutAfterMs !== undefined) {
        sellOut = { seenAtMs: commit.atMs - SIM_EPOCH_MS, inFlight: claimedBeforeSeen.size, running: deliveriesRunning, toldBefore: notifier.count };
      }
      if (c === COLLECTIONS.deliveries && w.after?.state === 'soldOutBeforeSend' && w.before?.state !== 'soldOutBeforeSend') soldOutBeforeSend++;
      if (c === COLLECTIONS.fanouts && w.after && w.path === `${COLLECTIONS.fanouts}/${EVENT_ID}`) {
        fanoutState = String(w.after.state);
        if (w.after.state === 'complete' && !fanoutDoneMs) fanoutDoneMs = commit.atMs - SIM_EPOCH_MS;
      }
    }
  });

  const event = (sequence: number, previousAvailable: number, available: number) => ({ type: 'inventory.updated', version: 1, productId: PRODUCT, available, previousAvailable, sequence, product: { name: 'Clock kettle' } });
  const published: { eventKey: string; restock: boolean }[] = [];
  if (o.saleBurst) {
    // A restock of `units`, a one-unit sale per unit (the last sells it out), a restock again: evenly over `overMs`.
    const { units, overMs } = o.saleBurst;
    const events = [event(6, 0, units), ...Array.from({ length: units }, (_, i) => event(7 + i, units - i, units - i - 1)), event(7 + units, 0, units)];
    events.forEach((e, i) => {
      const eventKey = eventKeyOf(i);
      published.push({ eventKey, restock: e.previousAvailable === 0 });
      s.at(Math.round((i * overMs) / Math.max(1, events.length - 1)), () => push.publish(e, { eventId: eventKey }));
    });
  } else {
    published.push({ eventKey: EVENT_ID, restock: true });
    s.at(0, () => push.publish(event(6, 0, 1000), { eventId: EVENT_ID }));
    if (o.sellOutAfterMs !== undefined) s.at(o.sellOutAfterMs, () => push.publish(event(7, 1000, 0), { eventId: 'sold-out-clock' }));
  }

  // The pipeline ramping itself: the delivery queues' limits follow Firestore's answers, second by second.
  let queueRate = d.queueMaxDispatchesPerSecond;
  if (o.selfRamp) {
    const maxRate = delivery[0]!.maxDispatchesPerSecond;
    const maxConcurrency = delivery[0]!.maxConcurrentDispatches;
    let concurrency = maxConcurrency;
    let refusedBefore = 0;
    const tick = () => {
      const refused = load.refusals();
      queueRate = rampedLimit(queueRate, refused > refusedBefore, maxRate, false);
      concurrency = rampedLimit(concurrency, refused > refusedBefore, maxConcurrency, true);
      refusedBefore = refused;
      for (const q of delivery) queues.get(q.path)!.updateLimits(queueRate, concurrency);
      if (notifier.count < o.subscribers || (o.saleBurst && push.acked.size + push.deadLettered.length < published.length)) s.at(1000, tick);
    };
    s.at(1000, tick);
  }
  await s.run(Number.MAX_SAFE_INTEGER);

  let burst: BurstMeasure | undefined;
  if (o.saleBurst) {
    const fanouts = published.map((p) => ({ ...p, doc: store.read(`${COLLECTIONS.fanouts}/${p.eventKey}`)?.data }));
    const attempts = push.published.map((m) => m.deliveryAttempt);
    burst = {
      events: published.length,
      acked: push.acked.size,
      deadLettered: push.deadLettered.length,
      maxDeliveryAttempt: Math.max(...attempts),
      restocksFannedOut: fanouts.filter((f) => f.restock && f.doc && f.doc.state !== 'ignored').length,
      restocksIgnored: fanouts.filter((f) => f.restock && (!f.doc || f.doc.state === 'ignored')).map((f) => ({ eventKey: f.eventKey, reason: String(f.doc?.reason ?? 'never claimed') })),
      productWrites,
      settledMs: Math.max(0, push.settledAtMs - SIM_EPOCH_MS),
    };
  }

  const elapsedMs = notifier.lastAtMs - SIM_EPOCH_MS;
  const writesPerSecond: WorldMeasure['writesPerSecond'] = {};
  for (const [c, total] of totals) {
    writesPerSecond[c] = { total, average: Math.round(total / Math.max(0.001, elapsedMs / 1000)), peak: Math.max(...perSecond.get(c)!.values()) };
  }
  const tasks = delivery.reduce((n, q) => n + queues.get(q.path)!.accepted.length, 0);
  const rate = delivery.reduce((n, q) => n + q.maxDispatchesPerSecond, 0);
  const concurrency = Math.min(
    delivery.reduce((n, q) => n + q.maxConcurrentDispatches, 0),
    deliverySlots(d),
  );
  const ranges = Math.max(1, rangeDocs.size);
  // Each limit's floor on the time to the last notification, from what the run did.
  const floors: Record<string, number> = {
    [`fan-out paging (${ranges} chain(s) of pages)`]: fanoutDoneMs,
    [`queue dispatch rate (${delivery.length} queue(s) × ${delivery[0]!.maxDispatchesPerSecond} tasks/s)`]: (tasks / rate) * 1000,
    [`concurrent deliveries (min(queue concurrency, ${d.deliveryMaxInstances} instances × ${d.deliveryConcurrency}) = ${concurrency})`]:
      (deliveryBusyMs - (limit.waitedMs.get('deliver') ?? 0)) / concurrency,
  };
  for (const c of o.sequentialCollections) {
    floors[`Firestore ${K.sequentialIndexWritesPerSecond.value} writes/s on ${c} (sequential index)`] = ((totals.get(c) ?? 0) / K.sequentialIndexWritesPerSecond.value) * 1000;
  }
  const boundBy = Object.entries(floors).sort((a, b) => b[1] - a[1])[0]![0];
  return {
    notified: notifier.count,
    notifierCalls: notifier.calls,
    firstNotificationMs: notifier.firstAtMs - SIM_EPOCH_MS,
    lastNotificationMs: elapsedMs,
    fanoutDoneMs,
    fanoutState,
    tasks,
    continuations,
    queues: delivery.length,
    ranges,
    peakQueueDepth: Math.max(...delivery.map((q) => queues.get(q.path)!.peakDepth)),
    peakInstances: { fanout: instances.fanout.peak, delivery: instances.deliver.peak },
    coldStarts: instances.fanout.coldStarts + instances.deliver.coldStarts,
    writesPerSecond,
    floors: Object.fromEntries(Object.entries(floors).map(([k, v]) => [k, Math.round(v)])),
    boundBy,
    steps: s.steps,
    ...(sellOut
      ? {
          sellOut: {
            seenAtMs: sellOut.seenAtMs,
            chunksInFlightWhenSeen: sellOut.inFlight,
            deliveriesRunningWhenSeen: sellOut.running,
            toldBeforeSeen: sellOut.toldBefore,
            toldAfterSeen: notifier.count - sellOut.toldBefore,
            keptPlace: store.list(subs).length,
            soldOutBeforeSend,
            chunksEnqueued: tasks,
            stockCheckReads,
          },
        }
      : {}),
    writes,
    settledMs: lastCommitMs - SIM_EPOCH_MS,
    load: load.stats(),
    commitRetries,
    tasksDropped: delivery.reduce((n, q) => n + queues.get(q.path)!.dropped.length, 0),
    deliveryRetries,
    duplicateSends: notifier.duplicates,
    ...(o.selfRamp ? { finalQueueRate: queueRate } : {}),
    ...(burst ? { burst } : {}),
    config: {
      pageSize: config.pageSize,
      chunkSize: config.chunkSize,
      enqueueConcurrency: config.enqueueConcurrency,
      sendConcurrency: config.sendConcurrency,
      notifyBatchSize: config.notifyBatchSize,
      fanoutTimeBudgetMs: config.fanoutTimeBudgetMs,
    },
  };
}
