/**
 * The publishing side in the simulated world: the inventory service stages a
 * stock change with lib/outbox's Firestore adapter in its own transaction and
 * publishes it through the relay's fast path within its bound; the
 * `relayOutbox` sweep (Cloud Scheduler, every minute) publishes what that
 * missed. Both are lib/outbox's real code over the in-memory Firestore, and
 * publish through lib/outbox's own `pubsubPublisher` (its timeout included)
 * into the in-memory Pub/Sub topic that pushes to fan-out.
 *
 * Faults of the seed, besides the network's (a process dying at any await,
 * answers lost after the work): the inventory process dies between its commit
 * and the publish; Pub/Sub is down for a while, answering UNAVAILABLE or not
 * answering at all (the publisher's timeout); two sweeps run at once, and a
 * sweep runs while the fast path still works; a stock change is rolled back
 * after it was staged.
 *
 * Invariants (promises 10–12):
 * - `outbox-sent-means-published` (each commit): a row becomes `sent` only
 *   after a message with its eventId reached Pub/Sub;
 * - `outbox-committed-published` (end): every row committed is published at
 *   least once and ends `sent` (after the repair: faults off, `restock outbox
 *   redrive --all-failed`, sweeps);
 * - `outbox-rolled-back-never-published` (end): no message carries the
 *   eventId of a rolled-back change, and no row of it exists;
 * - `outbox-stock-update-bounded` (each update): the update never fails
 *   because of Pub/Sub, and returns at most RESTOCK_OUTBOX_PUBLISH_WAIT_MS
 *   after its commit.
 */
import type { Firestore } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import type { PubSub } from '@google-cloud/pubsub';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/log.ts';
import { FirestoreOutbox, OutboxRelay, pubsubPublisher, relayOptionsFrom, type StockChange } from '../lib/outbox/index.ts';
import { runTransaction } from '../lib/transaction.ts';
import type { Runtime } from '../lib/runtime.ts';
import type { Checker } from './invariants.ts';
import { GrpcError, type Net } from './net.ts';
import type { Prng } from './prng.ts';
import type { PushSubscription } from './pubsub.ts';
import type { Scheduler, SimProcess } from './scheduler.ts';
import type { FirestoreStore } from './firestore.ts';

/** The outbox's faults and settings for one seed. */
export interface OutboxPlan {
  /** The restock (and the events around it) go through the outbox instead of straight to Pub/Sub. */
  on: boolean;
  /** The inventory process dies right after its commit, before the fast path. */
  dieAfterCommit: number;
  /** Pub/Sub is down from `atMs` for `forMs`; `hang` = requests get no answer (the publisher's timeout ends them). */
  outage?: { atMs: number; forMs: number; hang: boolean };
  /** Per sweep: a second relay sweeps at the same time. */
  twoSweeps: number;
  /** A stock change staged and then rolled back by its caller. */
  rollback: boolean;
  settings: Partial<Config>;
}

/** Draws the outbox's part of a seed (from its own stream: the other draws of a seed do not move). */
export function drawOutboxPlan(r: Prng, faults: boolean): OutboxPlan {
  const on = r.chance(0.6);
  const calm = !faults || r.chance(0.1);
  const outageOn = !calm && r.chance(0.5);
  return {
    on,
    dieAfterCommit: calm ? 0 : r.pick([0, 0.3, 1]),
    ...(outageOn ? { outage: { atMs: r.int(0, 5_000), forMs: r.int(1_000, 600_000), hang: r.chance(0.5) } } : {}),
    twoSweeps: calm ? 0 : r.pick([0, 0.5]),
    rollback: r.chance(0.5),
    settings: {
      outboxPublishWaitMs: r.pick([50, 250, 1000]),
      outboxPublishTimeoutMs: r.pick([500, 10_000]),
      outboxLeaseMs: r.pick([2_000, 60_000]),
      outboxMaxAttempts: r.pick([2, 5, 20]),
      outboxBackoffMinMs: r.pick([100, 1_000]),
      outboxBatchSize: r.pick([1, 100]),
      outboxSweepBudgetMs: r.pick([5_000, 45_000]),
    },
  };
}

const SWEEP_EVERY_MS = 60_000;

export class SimInventory {
  /** eventIds of changes rolled back after staging. */
  readonly rolledBack = new Set<string>();
  /** eventIds a message reached Pub/Sub with. */
  readonly published = new Set<string>();
  private sweepScheduled = false;
  faultsOn = true;
  updates = 0;
  sweeps = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly net: Net,
    private readonly store: FirestoreStore,
    private readonly push: PushSubscription,
    private readonly checker: Checker,
    private readonly config: Config,
    readonly plan: OutboxPlan,
    /** The outbox's own stream of draws. */
    readonly random: Prng,
    private readonly log: Logger,
    private readonly runtimeFor: (proc: SimProcess) => Runtime,
  ) {
    push.publishListeners.push((m) => {
      if (m.attributes.eventId) this.published.add(m.attributes.eventId);
    });
    store.listeners.push((commit) => {
      for (const w of commit.writes) {
        if (!w.path.startsWith(`${config.outboxCollection}/`)) continue;
        const id = w.path.slice(config.outboxCollection.length + 1);
        if (w.after?.state === 'sent' && w.before?.state !== 'sent' && !this.published.has(id)) {
          checker.violate('outbox-sent-means-published', `outbox row ${id} was marked sent by ${commit.actor} before any message with its eventId reached Pub/Sub`);
        }
      }
    });
  }

  /** Whether Pub/Sub is down now. */
  private down(): { hang: boolean } | undefined {
    const o = this.plan.outage;
    if (!o || !this.faultsOn) return undefined;
    const t = this.scheduler.nowMs - this.startMs;
    return t >= o.atMs && t < o.atMs + o.forMs ? { hang: o.hang } : undefined;
  }

  private startMs = 0;
  start(): void {
    this.startMs = this.scheduler.nowMs;
  }

  /** A Pub/Sub client as far as lib/outbox's `pubsubPublisher` uses it, into the in-memory topic. */
  private pubsubFor(proc: SimProcess): PubSub {
    const topic = {
      publishMessage: (m: { data: Buffer; attributes: Record<string, string> }): Promise<string> => {
        const down = this.down();
        if (down?.hang) return new Promise<string>(() => undefined);
        return this.net.call(proc, {
          service: 'pubsub',
          what: `publish ${m.attributes.eventId ?? ''}`,
          latencyMs: this.random.int(5, 80),
          mutating: true,
          apply: () => {
            if (this.down()) throw new GrpcError(status.UNAVAILABLE, 'simulated Pub/Sub outage');
            return this.push.publish(JSON.parse(m.data.toString('utf8')), m.attributes);
          },
        });
      },
    };
    return { topic: () => topic } as unknown as PubSub;
  }

  private relayFor(proc: SimProcess, db: Firestore): { outbox: FirestoreOutbox; relay: OutboxRelay } {
    const outbox = new FirestoreOutbox(db, { outboxCollection: this.config.outboxCollection, now: () => this.scheduler.nowMs });
    const publisher = pubsubPublisher(this.pubsubFor(proc), this.config.outboxTopic, { timeoutMs: this.config.outboxPublishTimeoutMs });
    return { outbox, relay: new OutboxRelay(outbox, publisher, { ...relayOptionsFrom(this.config, this.log, `relay-${proc.name}`), now: () => this.scheduler.nowMs }) };
  }

  /**
   * The inventory service changes stock: one transaction stages the change
   * (and, with `rollBack`, its caller then fails it), then the fast path
   * publishes within its bound.
   */
  async update(change: StockChange, eventId: string, rollBack = false): Promise<void> {
    const proc = this.scheduler.spawn('inventory');
    (proc as { name: string }).name = `inventory#${proc.id}`;
    const rt = this.runtimeFor(proc);
    const { outbox, relay } = this.relayFor(proc, rt.db);
    this.updates++;
    this.scheduler.log(proc.name, `stock change ${change.productId} → ${change.available} (${eventId})${rollBack ? ', to be rolled back' : ''}`);
    try {
      await runTransaction(rt.db, async (tx) => {
        await outbox.stageStockChange(tx, change, { eventId });
        if (rollBack) throw new Error('the caller fails its own transaction after staging');
      });
    } catch (err) {
      if (rollBack) this.rolledBack.add(eventId);
      this.scheduler.log(proc.name, `stock update failed: ${(err as Error).message.slice(0, 80)}`);
      return;
    }
    if (!proc.alive) return;
    if (this.faultsOn && this.random.chance(this.plan.dieAfterCommit)) {
      this.net.kill(proc, 'between the commit and the publish');
      return;
    }
    const committedAt = this.scheduler.nowMs;
    try {
      const r = await relay.publishNow([eventId], this.config.outboxPublishWaitMs);
      // The bound's timer fires in a killed instance too; nothing of it runs on.
      if (!proc.alive) return;
      this.scheduler.log(proc.name, `stock update returns (${r.published ? 'published' : 'left to the sweep'})`);
    } catch (err) {
      this.checker.violate('outbox-stock-update-bounded', `the stock update ${eventId} failed after its commit: ${(err as Error).message}`);
    }
    const waited = this.scheduler.nowMs - committedAt;
    if (waited > this.config.outboxPublishWaitMs) {
      this.checker.violate('outbox-stock-update-bounded', `the stock update ${eventId} waited ${waited} ms on Pub/Sub after its commit (bound ${this.config.outboxPublishWaitMs} ms)`);
    }
  }

  /** Cloud Scheduler's job: a sweep every minute while a row is pending (an idle sweep changes nothing, so the run can end). */
  scheduleSweeps(): void {
    if (this.sweepScheduled) return;
    this.sweepScheduled = true;
    this.scheduler.at(SWEEP_EVERY_MS, () => {
      this.sweepScheduled = false;
      if (!this.anyPending()) return;
      void this.sweep();
      if (this.faultsOn && this.random.chance(this.plan.twoSweeps)) void this.sweep();
      this.scheduleSweeps();
    });
  }

  private anyPending(): boolean {
    return this.store.list(this.config.outboxCollection).some((p) => this.store.read(p)?.data.state === 'pending');
  }

  /** One `relayOutbox` invocation, killed at its function timeout. */
  private async sweep(): Promise<void> {
    const proc = this.scheduler.spawn('relay');
    (proc as { name: string }).name = `relay#${proc.id}`;
    this.sweeps++;
    const killer = this.scheduler.at(this.config.outboxSweepBudgetMs + 15_000, () => this.net.kill(proc, 'at the relay function timeout'));
    const { relay } = this.relayFor(proc, this.runtimeFor(proc).db);
    try {
      const r = await relay.sweep(this.config.outboxSweepBudgetMs);
      this.scheduler.log(proc.name, `sweep: claimed ${r.claimed}, sent ${r.sent}, retried ${r.retried}, failed ${r.failed}`);
    } catch (err) {
      this.scheduler.log(proc.name, `sweep failed: ${(err as Error).message.slice(0, 80)}`);
    } finally {
      killer.cancelled = true;
    }
  }

  /** The repair: faults off, `restock outbox redrive --all-failed`, and the sweeps go on until nothing is pending. */
  async repair(): Promise<void> {
    this.faultsOn = false;
    const proc = this.scheduler.spawn('operator-outbox');
    const { outbox } = this.relayFor(proc, this.runtimeFor(proc).db);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const ids = await outbox.failedIds(1000);
        if (ids.length > 0) {
          this.scheduler.log(proc.name, `restock outbox redrive --all-failed (${ids.length})`);
          await outbox.redrive(ids, this.scheduler.nowMs);
        }
        break;
      } catch {
        await this.scheduler.sleep(30_000);
      }
    }
    this.scheduleSweeps();
  }

  /** The end-of-run invariants. */
  checkEnd(): void {
    for (const path of this.store.list(this.config.outboxCollection)) {
      const id = path.slice(this.config.outboxCollection.length + 1);
      const state = this.store.read(path)?.data.state;
      if (!this.published.has(id)) this.checker.violate('outbox-committed-published', `the committed change ${id} was never published (row ${String(state)})`);
      else if (state !== 'sent') this.checker.violate('outbox-committed-published', `the row of ${id} ends ${String(state)}, not sent`);
    }
    for (const id of this.rolledBack) {
      if (this.published.has(id)) this.checker.violate('outbox-rolled-back-never-published', `the rolled-back change ${id} was published`);
      if (this.store.read(`${this.config.outboxCollection}/${id}`)) this.checker.violate('outbox-rolled-back-never-published', `the rolled-back change ${id} left an outbox row`);
    }
  }
}
