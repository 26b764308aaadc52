/**
 * One chaos run on a local stack: the demo's scenario (seed shoppers of a
 * sold-out product, publish one restock through Pub/Sub, follow it to the
 * sink) with the faults of a {@link ChaosPlan} injected while it runs, then
 * an account of every shopper from the ledger and the sink.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Firestore } from '@google-cloud/firestore';
import { COLLECTIONS, FINAL_DELIVERY_STATES, type DeliveryDoc, type FanoutDoc, type SubscriptionDoc } from '../../lib/model.ts';
import type { NotificationRecord } from '../sink/index.ts';
import { clientsFor, inventoryEvent, seedProduct, type FunctionName, type Stack } from '../stack/index.ts';
import { assess, type ChaosSummary, type ExecutedFault, type LedgerEntry } from './assess.ts';
import { CHAOS_CHUNK_SIZE, type ChaosPlan, type PlannedFault } from './plan.ts';

/**
 * Function settings for chaos runs: small pages and chunks so a run of a few
 * hundred shoppers has many tasks to interrupt, short leases so work a kill
 * left claimed is retried within seconds, and a notifier timeout well above
 * the sink's planned latency (a send slower than the timeout would be resent
 * by the notifier itself, which is not a crash).
 */
export const CHAOS_STACK_ENV: Readonly<Record<string, string>> = {
  RESTOCK_PAGE_SIZE: String(CHAOS_CHUNK_SIZE),
  RESTOCK_CHUNK_SIZE: String(CHAOS_CHUNK_SIZE),
  RESTOCK_ENQUEUE_CONCURRENCY: '1',
  // A checkpoint per page, so the run sees how far the fan-out got and kills it mid-way.
  RESTOCK_CHECKPOINT_INTERVAL_MS: '0',
  RESTOCK_FANOUT_LEASE_MS: '4000',
  RESTOCK_DELIVERY_LEASE_MS: '8000',
  RESTOCK_NOTIFIER_TIMEOUT_MS: '1500',
  RESTOCK_NOTIFIER_RETRIES: '1',
  RESTOCK_NOTIFIER_MAX_RETRY_AFTER_MS: '1000',
};

export interface ChaosOptions {
  /** Give up waiting for every shopper after this long from the publish. */
  timeoutMs?: number;
  /** Progress lines ("120/300 settled after 4.2 s"). */
  onProgress?: (line: string) => void;
}

/** A finished run: the summary, and what only a test may see (the addresses, to look for in logs). */
export interface ChaosResult {
  summary: ChaosSummary;
  /** Every email address and push token seeded: personal data, never printed. */
  addresses: string[];
}

/** The subscription documents of the plan's shoppers; undeliverable ones get addresses the sink refuses for good. */
function shoppers(plan: ChaosPlan, productId: string, nowMs: number): SubscriptionDoc[] {
  const width = String(plan.subscribers).length;
  return Array.from({ length: plan.subscribers }, (_, i) => {
    const userId = `shopper-${String(i).padStart(width, '0')}`;
    const bad = plan.undeliverable(i);
    const channels =
      plan.channelOf(i) === 'email'
        ? { email: `${userId}.${plan.seed}@${bad ? 'invalid.example' : 'example.com'}` }
        : { push: `${bad ? 'bad-' : ''}fcm-${randomBytes(12).toString('hex')}` };
    return { userId, productId, channels, createdAtMs: nowMs, updatedAtMs: nowMs };
  });
}

async function writeAll(db: Firestore, productId: string, docs: readonly SubscriptionDoc[]): Promise<void> {
  const collection = db.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions);
  const writer = db.bulkWriter({ throttling: false });
  for (const doc of docs) void writer.set(collection.doc(doc.userId), doc);
  await writer.close();
}

async function ledger(db: Firestore, eventKey: string): Promise<LedgerEntry[]> {
  const snap = await db.collection(COLLECTIONS.deliveries).where('eventKey', '==', eventKey).select('dedupKey', 'userId', 'state', 'attempts').get();
  return snap.docs.map((d) => {
    const { dedupKey, userId, state, attempts } = d.data() as Pick<DeliveryDoc, 'dedupKey' | 'userId' | 'state' | 'attempts'>;
    return { dedupKey, userId, state, attempts };
  });
}

/**
 * Runs `plan` on `stack` (which must run with {@link CHAOS_STACK_ENV} and
 * belong to this run alone: functions are killed). Resolves once every
 * shopper is accounted for or the timeout passed; never throws for what the
 * pipeline got wrong, only for a stack it cannot talk to.
 */
export async function runChaos(stack: Stack, plan: ChaosPlan, options: ChaosOptions = {}): Promise<ChaosResult> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const progress = options.onProgress ?? (() => {});
  const { description } = stack;
  const clients = clientsFor(description);
  const db = clients.firestore;
  try {
    const productId = `chaos-${plan.seed}-${Date.now().toString(36)}`;
    const eventKey = `chaos-${plan.seed}-${randomUUID().slice(0, 8)}`;

    // Prepare: shoppers, the sink's faults, the event.
    const seeded = shoppers(plan, productId, Date.now());
    await seedProduct(db, productId, { available: 0, sequence: 1, name: 'Chaos Runner', url: `https://shop.example/p/${productId}` });
    await writeAll(db, productId, seeded);
    await sinkCall(description.sink, 'POST', '/faults', { productId, ...plan.sink });
    const event = inventoryEvent({ productId, available: 40, previousAvailable: 0, sequence: 2 });
    const data = Buffer.from(JSON.stringify(event));
    progress(`seeded ${seeded.length} shoppers of ${productId}; publishing ${eventKey}`);

    // Act: publish, and inject the plan's faults as the run goes.
    const publishedAtMs = Date.now();
    await clients.pubsub.topic(description.topic).publishMessage({ data, attributes: { eventId: eventKey } });
    const executed: ExecutedFault[] = [];
    const removed = new Set<string>();
    const added: SubscriptionDoc[] = [];
    const deadlineMs = publishedAtMs + timeoutMs;
    const progressNow: RunProgress = { settledFraction: 0, allSettled: false, deadlineMs };
    const injector = new FaultInjector(stack, db, eventKey, data, progressNow);
    const faultsDone = Promise.all(
      plan.faults.map(async (fault) => {
        const reached = await injector.trigger(fault);
        const atMs = Date.now() - publishedAtMs;
        const detail = reached
          ? await injector.inject(fault, seeded, removed, added).catch((err: Error) => `failed: ${err.message}`)
          : 'not injected: its trigger was never reached';
        executed.push({ kind: fault.kind, atMs, detail });
        progress(`  ${fault.kind} at ${(atMs / 1000).toFixed(1)} s: ${detail}`);
      }),
    );

    // Follow until every remaining shopper is settled (and every fault ran), or time is up.
    let allFaultsRan = false;
    void faultsDone.then(() => (allFaultsRan = true));
    let entries: LedgerEntry[] = [];
    let fanout: FanoutDoc | undefined;
    let timedOut = false;
    let lastLineAtMs = 0;
    for (;;) {
      await sleep(500);
      entries = await ledger(db, eventKey);
      fanout = (await db.collection(COLLECTIONS.fanouts).doc(eventKey).get()).data() as FanoutDoc | undefined;
      const expected = seeded.filter((s) => !removed.has(s.userId));
      const settled = new Set(entries.filter((e) => FINAL_DELIVERY_STATES.includes(e.state)).map((e) => e.userId));
      const done = expected.filter((s) => settled.has(s.userId)).length;
      progressNow.settledFraction = done / expected.length;
      progressNow.allSettled = fanout?.state === 'complete' && done === expected.length;
      if (Date.now() - lastLineAtMs > 5_000) {
        lastLineAtMs = Date.now();
        progress(`${done}/${expected.length} settled after ${((Date.now() - publishedAtMs) / 1000).toFixed(1)} s (fan-out ${fanout?.state ?? 'not started'})`);
      }
      if (allFaultsRan && fanout?.state === 'complete' && done === expected.length) break;
      if (Date.now() > deadlineMs) {
        timedOut = true;
        break;
      }
    }
    await faultsDone;
    // Late duplicates (a retry of a killed chunk) arrive after the last settlement; give them a moment.
    await sleep(2_000);
    const elapsedMs = Date.now() - publishedAtMs;

    // Assess
    entries = await ledger(db, eventKey);
    const { notifications } = await sinkCall<{ notifications: NotificationRecord[] }>(description.sink, 'GET', `/notifications?productId=${encodeURIComponent(productId)}`);
    const remaining = await db.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).select().get();
    const summary = assess({
      seed: plan.seed,
      productId,
      eventKey,
      subscribers: seeded.map((s) => s.userId),
      removed: [...removed],
      added: added.map((s) => s.userId),
      ledger: entries,
      notifications: notifications.filter((n) => n.eventKey === eventKey),
      stillSubscribed: remaining.docs.map((d) => d.id),
      faults: executed.sort((a, b) => a.atMs - b.atMs).filter((f) => !f.detail.startsWith('not injected')),
      fanoutState: fanout?.state ?? null,
      fanoutAttempts: fanout?.attempts ?? null,
      elapsedMs,
      timedOut,
    });
    const addresses = [...seeded, ...added].flatMap((s) => Object.values(s.channels).filter((v): v is string => typeof v === 'string'));
    return { summary, addresses };
  } finally {
    await clients.close();
  }
}

async function sinkCall<T>(sinkUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(sinkUrl + path, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  if (!res.ok) throw new Error(`sink ${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** How far the run is, as the follow loop last saw it. */
interface RunProgress {
  settledFraction: number;
  allSettled: boolean;
  deadlineMs: number;
}

/** Carries out planned faults when their triggers are reached; kills and restarts of one function never overlap. */
class FaultInjector {
  private readonly lanes = new Map<FunctionName, Promise<unknown>>();

  constructor(
    private readonly stack: Stack,
    private readonly db: Firestore,
    private readonly eventKey: string,
    private readonly data: Buffer,
    private readonly progress: RunProgress,
  ) {}

  /** Waits until the fault's trigger is reached; false if the run's deadline came first. */
  async trigger(fault: PlannedFault): Promise<boolean> {
    const until = async (reached: () => boolean | Promise<boolean>, intervalMs: number): Promise<boolean> => {
      while (Date.now() < this.progress.deadlineMs) {
        if (await reached()) return true;
        await sleep(intervalMs);
      }
      return false;
    };
    switch (fault.kind) {
      case 'kill-fanout':
        // Past the wanted chunk, or already finished (then the kill hits an idle function).
        return until(async () => {
          const f = await this.fanout();
          return f !== undefined && (f.chunks >= fault.afterChunks || f.state !== 'running');
        }, 10);
      case 'redeliver':
        return fault.when === 'fanout-running' ? until(async () => (await this.fanout())?.state === 'running', 10) : until(() => this.progress.allSettled, 100);
      case 'kill-delivery': {
        if (!(await until(() => this.progress.settledFraction >= fault.atSettled, 50))) return false;
        // Mid-chunk: wait (a little) for claims in flight, so the kill lands between send and record.
        const claimedBy = Date.now() + 3_000;
        await until(async () => Date.now() > claimedBy || (await this.claimed()) > 0, 20);
        return true;
      }
      case 'churn':
        return until(() => this.progress.settledFraction >= fault.atSettled, 50);
    }
  }

  private async fanout(): Promise<FanoutDoc | undefined> {
    return (await this.db.collection(COLLECTIONS.fanouts).doc(this.eventKey).get()).data() as FanoutDoc | undefined;
  }

  private async claimed(): Promise<number> {
    const snap = await this.db.collection(COLLECTIONS.deliveries).where('eventKey', '==', this.eventKey).where('state', '==', 'sending').count().get();
    return snap.data().count;
  }

  /** Does one fault; resolves a line saying what happened. */
  async inject(fault: PlannedFault, seeded: readonly SubscriptionDoc[], removed: Set<string>, added: SubscriptionDoc[]): Promise<string> {
    switch (fault.kind) {
      case 'kill-fanout':
        return this.killAndRestart('fanOutRestock', fault.downMs, async () => {
          const f = await this.fanout();
          return `fan-out ${f?.state ?? 'not started'} with ${f?.chunks ?? 0} chunks enqueued when killed`;
        });
      case 'kill-delivery':
        return this.killAndRestart('deliverRestockBatch', fault.downMs, async () => `${await this.claimed()} notifications claimed, outcome unrecorded, when killed`);
      case 'redeliver': {
        const answers = await Promise.all(Array.from({ length: fault.copies }, () => this.redeliver()));
        return `${fault.copies} cop${fault.copies === 1 ? 'y' : 'ies'} pushed, answered ${answers.join(', ')}`;
      }
      case 'churn': {
        const collection = this.db.collection(COLLECTIONS.products).doc(seeded[0]!.productId).collection(COLLECTIONS.subscriptions);
        const leaving = fault.remove.map((i) => seeded[i]!).filter(Boolean);
        for (const s of leaving) removed.add(s.userId);
        const nowMs = Date.now();
        const newcomers = Array.from({ length: fault.add }, (_, j): SubscriptionDoc => {
          const userId = `newcomer-${j}`;
          return { userId, productId: seeded[0]!.productId, channels: { email: `${userId}.${randomBytes(4).toString('hex')}@example.com` }, createdAtMs: nowMs, updatedAtMs: nowMs };
        });
        added.push(...newcomers);
        const batch = this.db.batch();
        for (const s of leaving) batch.delete(collection.doc(s.userId));
        for (const s of newcomers) batch.set(collection.doc(s.userId), s);
        await batch.commit();
        return `${leaving.length} unsubscribed, ${newcomers.length} subscribed`;
      }
    }
  }

  private killAndRestart(name: FunctionName, downMs: number, describe: () => Promise<string>): Promise<string> {
    const previous = this.lanes.get(name) ?? Promise.resolve();
    const run = previous.then(async () => {
      this.stack.kill(name, 'SIGKILL');
      const what = await describe().catch(() => 'state unknown');
      await sleep(downMs);
      await this.stack.restart(name);
      return `${what}; restarted after ${downMs} ms`;
    });
    this.lanes.set(name, run.catch(() => {}));
    return run;
  }

  /** The restock message as a push subscription would deliver it again (same eventId, so the same event). */
  private async redeliver(): Promise<string> {
    const messageId = String(Date.now()) + String(Math.floor(Math.random() * 1e6));
    const body = {
      message: { data: this.data.toString('base64'), attributes: { eventId: this.eventKey }, messageId, publishTime: new Date().toISOString() },
      subscription: `projects/${this.stack.description.projectId}/subscriptions/${this.stack.description.subscription}`,
    };
    try {
      const res = await fetch(this.stack.description.functions.fanOutRestock, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = (await res.json().catch(() => ({}))) as { outcome?: string };
      return `${res.status}${answer.outcome ? ` ${answer.outcome}` : ''}`;
    } catch {
      return 'no answer (function down)';
    }
  }
}
