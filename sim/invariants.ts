/**
 * The design's promises as invariants over one run (docs/design.md "Promises").
 * Some are checked as the run goes — on every commit the in-memory Firestore
 * applies and every notification the service takes — and the rest at the
 * end. The first violation stops nothing (the run goes on, so its trace is
 * the whole story) but is what the run reports.
 *
 * | promise | invariant | when |
 * | 1 no duplicate sends | the service takes a key again only if no outcome of it was recorded (`sent`/`rejected` never precede a send) | each notification |
 * | 1, domain | final ledger states never reopen (`exhausted` only back to `failed`, by redrive) | each commit |
 * | 2 no silent loss | every subscriber present at the claim who never changed their subscription ends `sent`/`rejected`/`exhausted` on each channel; no entry is left open; the fan-out ends `complete` | end |
 * | 3 never skips | once a fan-out completes, each such subscriber is in a task the queue accepted for the event | end of the storm |
 * | 5 stale events | an event ignored as stale (or not a restock) has no task, ledger entry or notification | end |
 * | 6 one-shot | a pipeline commit that deletes a subscription settles its notification in the same commit; one that settles every channel of a subscriber deletes the subscription; none is left behind | each commit, end |
 * | fan-out states | an event dead-lettered after every copy of its last delivery was answered, with no task of its fan-out left, ended its fan-out `failed`, not `running` (the push's last attempt) | end of the storm |
 * | 8 bounded pressure | a delivery never has more than RESTOCK_SEND_CONCURRENCY notifier calls in flight | each call |
 * | 15 one message per sign-up | a sign-up (subscription, from its creation to its removal) is sent one Idempotency-Key per channel, whatever number of restocks reach it | each notification |
 * | issue 40, sold out | no notification of a restock is claimed by an attempt whose stock check read the product after a newer event had stopped that restock (only chunks already sending finish) | each commit |
 * | issue 40, kept place | a `soldOutBeforeSend` entry's shopper is still subscribed (unless they left, or a later restock took the entry) | end |
 * | 16 nobody unconfirmed is notified | a shopper whose request waits for its double opt-in confirmation is sent nothing claimed before the confirmation made them a subscriber | each notification |
 * | 17 nothing erased comes back | a shopper erased during the run is sent nothing by a claim made after the erasure closed their sign-up, and once the erasure is repeated after the restock, no document names them | each notification, end |
 */
import { CHANNELS, CLOSED_DELIVERY_STATES, COLLECTIONS, canMoveDelivery, dedupKey, FINAL_DELIVERY_STATES, type Channel, type DeliveryDoc, type DeliveryState, type FanoutDoc, type ProductDoc, type SubscriptionDoc } from '../lib/model.ts';
import { restockStanding } from '../lib/restock/index.ts';
import { ERASED_USER_PREFIX } from '../lib/shoppers/index.ts';
import type { AppliedCommit, FirestoreStore } from './firestore.ts';
import type { Receipt } from './notifier.ts';
import type { PushSubscription } from './pubsub.ts';
import type { SimQueue } from './tasks.ts';
import { SIM_EPOCH_MS, type Scheduler, type SimProcess } from './scheduler.ts';

export interface Violation {
  invariant: string;
  message: string;
  atMs: number;
}

const SUBSCRIPTION_PATH = new RegExp(`^${COLLECTIONS.products}/([^/]+)/${COLLECTIONS.subscriptions}/([^/]+)$`);
const DELIVERY_PATH = new RegExp(`^${COLLECTIONS.deliveries}/([^/]+)$`);
const FANOUT_PATH = new RegExp(`^${COLLECTIONS.fanouts}/([^/]+)$`);
const PRODUCT_PATH = new RegExp(`^${COLLECTIONS.products}/([^/]+)$`);

/** Closed states (lib/model.ts): never left, not even by a redrive. */
function isSettledState(state: unknown): boolean {
  return CLOSED_DELIVERY_STATES.includes(state as DeliveryState);
}

export class Checker {
  readonly violations: Violation[] = [];
  /** Per restock event: who waited (and on which channels) when its fan-out was claimed. */
  readonly owed = new Map<string, Map<string, Channel[]>>();
  /** Per restock event: the sign-up (`createdAtMs`) of each shopper who waited then. */
  private readonly owedSignups = new Map<string, Map<string, number>>();
  /** Users whose subscription a shopper changed during the run (subscribe again, unsubscribe). */
  readonly churned = new Set<string>();
  /** Last time a shopper (re)subscribed, per user. */
  readonly subscribedAtMs = new Map<string, number>();
  /** When each ledger key was last claimed (written `sending`): the read a settling commit judged from. */
  private readonly claimedAtMs = new Map<string, number>();
  /** Ledger keys recorded `sent` or `rejected`, with when. */
  private readonly recorded = new Map<string, { state: string; atMs: number }>();
  /** Notifications taken more than once (excused: no outcome recorded before). */
  lostOutcomeResends = 0;
  private readonly sendsByKey = new Map<string, number>();
  /** Commits applied so far: the order reads and writes happened in. */
  private commitSeq = 0;
  /** Per restock event: the commit after which its product's state said it had stopped (sold out, superseded). */
  private readonly stoppedAtSeq = new Map<string, number>();
  /** Per process and document path: how many commits had been applied when the process last read it. */
  private readonly readSeq = new Map<string, number>();
  /** Per sign-up and channel (`productId/userId/createdAtMs/channel`): the Idempotency-Keys sent to it. */
  private readonly keysBySignup = new Map<string, Set<string>>();
  /** Per ledger key: the sign-up and channel the claim that wrote it (`sending`, or `soldOutBeforeSend`) claimed it for. */
  private readonly signupOfKey = new Map<string, string>();
  /** The other way round: per sign-up and channel, every ledger key a claim wrote for it (whatever the key scheme). */
  private readonly keysOfSignup = new Map<string, Set<string>>();

  /** Shoppers who asked under double opt-in: user id → the commit that confirmed them (undefined while pending). */
  private readonly optedIn = new Map<string, number | undefined>();
  /** Shoppers whose erasure was asked for (an attempt may fail and be retried). */
  private readonly erasing = new Set<string>();
  /**
   * Shoppers erased during the run (promise 17): per user id, the commit
   * from which nothing may claim them any more: the erasure's commit that
   * deleted their subscription and closed its keys, or, when they had none
   * left, the end of the erasure.
   */
  private readonly erasedFromSeq = new Map<string, number>();
  /** Per ledger key: the commit that last claimed it (`sending`). */
  private readonly claimSeq = new Map<string, number>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly store: FirestoreStore,
    private readonly sendConcurrency: number,
    private readonly threshold = 0,
  ) {}

  /** Every document a process reads by id: what its next decision saw. */
  onRead(actor: string, path: string): void {
    this.readSeq.set(`${actor}|${path}`, this.commitSeq);
  }

  violate(invariant: string, message: string): void {
    this.violations.push({ invariant, message, atMs: this.scheduler.nowMs - SIM_EPOCH_MS });
    this.scheduler.log('CHECK', `VIOLATION ${invariant}: ${message}`);
  }

  /** Every commit: transitions, one-shot atomicity, who was owed at each claim. */
  onCommit(commit: AppliedCommit): void {
    this.commitSeq++;
    const pipeline = commit.actor.startsWith('deliver') || commit.actor.startsWith('fanout') || commit.actor.startsWith('operator');
    for (const w of commit.writes) {
      const fanout = FANOUT_PATH.exec(w.path);
      if (fanout && w.kind === 'create' && (w.after as FanoutDoc | undefined)?.state === 'running') {
        const doc = w.after as unknown as FanoutDoc;
        const waiting = new Map<string, Channel[]>();
        const signups = new Map<string, number>();
        for (const path of this.store.list(`${COLLECTIONS.products}/${doc.productId}/${COLLECTIONS.subscriptions}`)) {
          const sub = this.store.read(path)!.data as unknown as SubscriptionDoc;
          waiting.set(sub.userId, CHANNELS.filter((c) => sub.channels?.[c]));
          signups.set(sub.userId, sub.createdAtMs);
        }
        this.owed.set(doc.eventKey, waiting);
        this.owedSignups.set(doc.eventKey, signups);
      }
      const delivery = DELIVERY_PATH.exec(w.path);
      if (delivery) {
        const before = w.before as Partial<DeliveryDoc> | undefined;
        const after = w.after as Partial<DeliveryDoc> | undefined;
        if (before && isSettledState(before.state) && after?.state !== before.state) {
          this.violate('final-never-reopens', `ledger ${delivery[1]!.slice(0, 12)} (user ${before.userId}) went ${before.state} → ${after?.state ?? 'deleted'} (${commit.actor})`);
        }
        // The domain's transition table: `exhausted` leaves only for `sending`, which only a redrive's task may do
        // (lib/delivery/rules.ts mayClaim; property-tested in test/unit/delivery/rules.test.ts).
        if (before?.state === 'exhausted' && after?.state !== 'exhausted' && !(after?.state && canMoveDelivery('exhausted', after.state))) {
          this.violate('final-never-reopens', `ledger ${delivery[1]!.slice(0, 12)} (user ${before.userId}) went exhausted → ${after?.state ?? 'deleted'} (only a redrive's task may reopen it, to sending)`);
        }
        if (after?.state === 'sending' && before?.state !== 'sending') {
          this.claimedAtMs.set(delivery[1]!, commit.atMs);
          this.claimSeq.set(delivery[1]!, this.commitSeq);
        }
        if (after?.state === 'sending' && after.attempts !== before?.attempts) this.checkClaim(commit, delivery[1]!, after as DeliveryDoc);
        if (after?.state === 'soldOutBeforeSend' && before?.state !== 'soldOutBeforeSend') this.noteSignup(delivery[1]!, after as DeliveryDoc);
        if (after && isSettledState(after.state) && !isSettledState(before?.state)) {
          this.recorded.set(delivery[1]!, { state: after.state!, atMs: commit.atMs });
          this.checkSettlingWrite(commit, after as DeliveryDoc);
        }
      }
      const product = PRODUCT_PATH.exec(w.path);
      if (product && w.after) this.noteStops(product[1]!, w.after as unknown as ProductDoc);
      const sub = SUBSCRIPTION_PATH.exec(w.path);
      if (sub && w.kind !== 'delete' && commit.actor.startsWith('confirm') && this.optedIn.has(sub[2]!) && this.optedIn.get(sub[2]!) === undefined) {
        this.optedIn.set(sub[2]!, this.commitSeq);
      }
      if (sub && w.kind === 'delete' && commit.actor.startsWith('erasure') && this.erasing.has(sub[2]!) && !this.erasedFromSeq.has(sub[2]!)) this.erasedFromSeq.set(sub[2]!, this.commitSeq);
      // A delete of a subscription already gone (an erasure got there first) deletes nothing.
      if (sub && w.kind === 'delete' && pipeline && w.before !== undefined) {
        const userId = sub[2]!;
        const settles = commit.writes.some((x) => {
          const after = x.after as Partial<DeliveryDoc> | undefined;
          return DELIVERY_PATH.test(x.path) && after?.userId === userId && isSettledState(after.state);
        });
        if (!settles && !this.servedBefore(w.before as unknown as SubscriptionDoc, commit)) {
          this.violate('one-shot', `subscription of ${userId} deleted by ${commit.actor} in a commit that settles none of its notifications`);
        }
      }
    }
  }

  /** A product's new stock state: every restock of it the state now stops (lib/restock `restockStanding`) stopped here. */
  private noteStops(productId: string, product: ProductDoc): void {
    for (const eventKey of this.owed.keys()) {
      if (this.stoppedAtSeq.has(eventKey) || this.fanout(eventKey)?.productId !== productId) continue;
      if (restockStanding(product, eventKey, this.threshold).kind === 'stopped') this.stoppedAtSeq.set(eventKey, this.commitSeq);
    }
  }

  /**
   * A claim of `key` for sending (issue 40): the attempt's stock check must have read the product before the
   * restock stopped, and a sign-up is claimed under one key per channel (promise 15).
   */
  private checkClaim(commit: AppliedCommit, key: string, entry: DeliveryDoc): void {
    const stoppedAt = this.stoppedAtSeq.get(entry.eventKey);
    // What the claim's stock check saw: its last read of the product, or (no read at all) the state at its commit.
    const sawAt = this.readSeq.get(`${commit.actor}|${COLLECTIONS.products}/${entry.productId}`) ?? this.commitSeq;
    if (stoppedAt !== undefined && sawAt >= stoppedAt) {
      this.violate('told-after-sold-out', `${entry.userId}/${entry.channel} claimed for ${entry.eventKey} by ${commit.actor}, whose stock check read the product after the restock had stopped`);
    }
    this.noteSignup(key, entry);
  }

  /** Which sign-up a claim wrote `key` for: the subscription as it stands at the claim's commit. */
  private noteSignup(key: string, entry: DeliveryDoc): void {
    const sub = this.store.read(`${COLLECTIONS.products}/${entry.productId}/${COLLECTIONS.subscriptions}/${entry.userId}`)?.data as SubscriptionDoc | undefined;
    if (!sub) return;
    const signup = `${entry.productId}/${entry.userId}/${sub.createdAtMs}/${entry.channel}`;
    this.signupOfKey.set(key, signup);
    this.keysOfSignup.set(signup, (this.keysOfSignup.get(signup) ?? new Set<string>()).add(key));
  }

  /** The ledger entries claims wrote for a sign-up and channel, found by what was claimed rather than by the key scheme. */
  private entriesOfSignup(productId: string, userId: string, createdAtMs: number, channel: Channel): DeliveryDoc[] {
    const keys = this.keysOfSignup.get(`${productId}/${userId}/${createdAtMs}/${channel}`) ?? new Set<string>();
    return [...keys].flatMap((k) => (this.store.read(`${COLLECTIONS.deliveries}/${k}`)?.data as DeliveryDoc | undefined) ?? []);
  }

  /**
   * Whether a subscription a pipeline commit deletes without settling anything was served already: every channel
   * it had was settled (sent or rejected) for the restock after its last write (lib/delivery/rules.ts `served`).
   */
  private servedBefore(sub: SubscriptionDoc | undefined, _commit: AppliedCommit): boolean {
    if (!sub) return false;
    const channels = CHANNELS.filter((c) => sub.channels?.[c]);
    return channels.every((c) => {
      const entry = this.store.read(`${COLLECTIONS.deliveries}/${dedupKey(sub, c)}`)?.data as Partial<DeliveryDoc> | undefined;
      return (entry?.state === 'sent' || entry?.state === 'rejected') && (entry.updatedAtMs ?? -1) >= sub.updatedAtMs;
    });
  }

  /** A commit settled (event, user, channel): if it settles every channel, it must delete the subscription too. */
  private checkSettlingWrite(commit: AppliedCommit, entry: DeliveryDoc): void {
    const path = `${COLLECTIONS.products}/${entry.productId}/${COLLECTIONS.subscriptions}/${entry.userId}`;
    const deletedHere = commit.writes.some((w) => w.path === path && w.kind === 'delete');
    if (deletedHere) return;
    const stored = this.store.read(path);
    if (!stored) return;
    // The settling commit judges the subscription as its chunk's claim read it. One the shopper rewrote after that
    // claim (other channels) is judged by the chunk's next attempt; the end-of-run check still requires that nobody
    // notified stays subscribed.
    if (stored.updateTimeMs > (this.claimedAtMs.get(entry.dedupKey) ?? Number.POSITIVE_INFINITY)) return;
    const sub = stored.data as unknown as SubscriptionDoc;
    const channels = CHANNELS.filter((c) => sub.channels?.[c]);
    const all = channels.every((c) => isSettledState(this.store.read(`${COLLECTIONS.deliveries}/${dedupKey(sub, c)}`)?.data.state));
    if (all && channels.length > 0) {
      this.violate('one-shot', `every channel of ${entry.userId} is settled for ${entry.eventKey} but the settling commit (${commit.actor}) kept the subscription`);
    }
  }

  /** Every notification the service takes. */
  /** A shopper's request is stored pending under double opt-in (issue 32). */
  notePending(userId: string): void {
    this.optedIn.set(userId, undefined);
  }

  /** A shopper's erasure is asked for (issue 32): from now on they are a shopper who left (no-silent-loss does not wait for them). */
  noteErasureAsked(userId: string): void {
    this.churned.add(userId);
    this.erasing.add(userId);
  }

  /** An erasure of the shopper answered: whatever it did is done. */
  noteErased(userId: string): void {
    if (!this.erasedFromSeq.has(userId)) this.erasedFromSeq.set(userId, this.commitSeq);
  }

  /** The erased user a notification's address names (the simulation's addresses carry the user id), if any. */
  private erasedNamedBy(to: string): string | undefined {
    for (const userId of this.erasedFromSeq.keys()) if (to.includes(userId)) return userId;
    return undefined;
  }

  /**
   * Promise 17 at the end, after the erasure was repeated with the restocks
   * over: no document of the database names an erased shopper.
   */
  checkErased(): void {
    for (const userId of this.erasing) {
      if (!this.erasedFromSeq.has(userId)) this.violate('nothing-erased-comes-back', `the erasure of ${userId} never completed`);
      const naming = this.store.paths().filter((path) => path.includes(userId) || JSON.stringify(this.store.read(path)?.data ?? {}).includes(userId));
      if (naming.length > 0) this.violate('nothing-erased-comes-back', `erased shopper ${userId} is still named by ${naming.length} document(s), e.g. ${naming[0]}`);
    }
  }

  onReceipt(r: Receipt): void {
    for (const [userId, confirmedSeq] of this.optedIn) {
      if (r.to.split('@')[0] !== userId) continue;
      const claimed = this.claimSeq.get(r.key);
      if (confirmedSeq === undefined || claimed === undefined || claimed < confirmedSeq) {
        this.violate('nobody-unconfirmed-notified', `${userId} was sent key ${r.key.slice(0, 12)} ${confirmedSeq === undefined ? 'while their request waited for its confirmation' : 'claimed before they confirmed'} (${r.actor})`);
      }
    }
    const erased = this.erasedNamedBy(r.to);
    const claimed = this.claimSeq.get(r.key);
    if (erased !== undefined && claimed !== undefined && claimed > this.erasedFromSeq.get(erased)!) {
      this.violate('nothing-erased-comes-back', `erased shopper ${erased} was sent key ${r.key.slice(0, 12)} claimed after the erasure closed their sign-up (${r.actor})`);
    }
    const signup = this.signupOfKey.get(r.key);
    if (signup) {
      const keys = this.keysBySignup.get(signup) ?? new Set<string>();
      keys.add(r.key);
      this.keysBySignup.set(signup, keys);
      if (keys.size === 2) {
        const entries = [...keys].map((k) => (this.store.read(`${COLLECTIONS.deliveries}/${k}`)?.data as Partial<DeliveryDoc> | undefined)?.eventKey ?? '?');
        this.violate('one-message-per-signup', `sign-up ${signup} was sent two notifications under different keys (restocks ${entries.join(', ')})`);
      }
    }
    const n = (this.sendsByKey.get(r.key) ?? 0) + 1;
    this.sendsByKey.set(r.key, n);
    const recorded = this.recorded.get(r.key);
    if (recorded) {
      this.violate('no-duplicate-send', `notification ${r.key.slice(0, 12)} sent again by ${r.actor} after its outcome was recorded ${recorded.state} ${this.scheduler.nowMs - recorded.atMs} ms earlier`);
    } else if (n > 1) {
      this.lostOutcomeResends++;
    }
  }

  onNotifierCall(proc: SimProcess, inFlight: number): void {
    if (inFlight > this.sendConcurrency) {
      this.violate('bounded-pressure', `${proc.name} has ${inFlight} notifier calls in flight (RESTOCK_SEND_CONCURRENCY ${this.sendConcurrency})`);
    }
  }

  private fanout(eventKey: string): FanoutDoc | undefined {
    return this.store.read(`${COLLECTIONS.fanouts}/${eventKey}`)?.data as unknown as FanoutDoc | undefined;
  }

  private ledgerOf(eventKey: string): DeliveryDoc[] {
    return this.store
      .list(COLLECTIONS.deliveries)
      .map((p) => this.store.read(p)!.data as unknown as DeliveryDoc)
      .filter((d) => d.eventKey === eventKey);
  }

  /** Whether a shopper who waited for `eventKey` is still subscribed under the same sign-up. */
  private stillWaiting(eventKey: string, userId: string): boolean {
    const productId = this.fanout(eventKey)?.productId ?? '';
    const sub = this.store.read(`${COLLECTIONS.products}/${productId}/${COLLECTIONS.subscriptions}/${userId}`)?.data as SubscriptionDoc | undefined;
    return sub !== undefined && sub.createdAtMs === this.owedSignups.get(eventKey)?.get(userId);
  }

  /** Whether every channel of the sign-up a shopper waited for `eventKey` with is settled, whichever restock settled it. */
  private settledElsewhere(eventKey: string, userId: string): boolean {
    const productId = this.fanout(eventKey)?.productId ?? '';
    const createdAtMs = this.owedSignups.get(eventKey)?.get(userId);
    const channels = this.owed.get(eventKey)?.get(userId) ?? [];
    return createdAtMs !== undefined && channels.every((c) => this.entriesOfSignup(productId, userId, createdAtMs, c).some((e) => FINAL_DELIVERY_STATES.includes(e.state)));
  }

  /** After the storm, before any operator repair: a completed fan-out put everyone owed in a task. */
  checkNoSkip(queue: SimQueue): void {
    for (const [eventKey, waiting] of this.owed) {
      if (this.fanout(eventKey)?.state !== 'complete') continue;
      const inTasks = new Set<string>();
      for (const t of queue.accepted) {
        const body = t.body as { eventKey?: string; userIds?: string[] } | undefined;
        if (body?.eventKey === eventKey) for (const u of body.userIds ?? []) inTasks.add(u);
      }
      // A restock that stopped (issue 40) enqueues nobody after the stop: those keep their place. And a shopper whose
      // sign-up another restock settled before this one paged them is served (promise 15): one-shot, they are gone.
      const stopped = this.fanout(eventKey)?.stopped !== undefined;
      const skipped = [...waiting.keys()].filter((u) => !this.churned.has(u) && !inTasks.has(u) && !this.settledElsewhere(eventKey, u) && !(stopped && this.stillWaiting(eventKey, u)));
      if (skipped.length > 0) {
        this.violate('fan-out-never-skips', `fan-out ${eventKey} completed but ${skipped.length} subscriber(s) were in no task, e.g. ${skipped.slice(0, 3).join(', ')}`);
      }
    }
  }

  /**
   * After the storm, before any operator repair: nothing stays `running` once
   * nobody will carry it on. An event whose push was dead-lettered after the
   * function answered every copy of its last delivery, with no task of its
   * fan-out left in the queue, must have ended `failed` on that delivery
   * (visible, alerted, replayable), not `running` behind a lease nobody
   * renews. A copy of the last delivery whose instance died leaves only the
   * dead-letter alert (docs/states-and-failures.md).
   */
  checkNothingStaysRunning(push: Pick<PushSubscription, 'deadLettered' | 'lastDeliveryLost'>, queue: SimQueue): void {
    const eventKeyOf = (m: { messageId: string; attributes: Record<string, string> }) => m.attributes.eventId ?? m.messageId;
    // Any message of the event (a publisher's retry is another message) whose last copy was lost excuses the event.
    const excused = new Set(push.deadLettered.filter((m) => push.lastDeliveryLost.has(m.messageId)).map(eventKeyOf));
    for (const m of push.deadLettered) {
      const eventKey = eventKeyOf(m);
      if (excused.has(eventKey)) continue;
      if (this.fanout(eventKey)?.state !== 'running') continue;
      const pending = [...queue.tasks.values()].some((t) => (t.body as { eventKey?: string } | undefined)?.eventKey === eventKey);
      if (!pending) this.violate('nothing-stays-running', `event ${eventKey} was dead-lettered and its fan-out is left running with no task to carry it on`);
    }
  }

  /** At the end of the run (after the operator's replay and redrive). */
  checkEnd(ignoredEventKeys: string[], queue: SimQueue, receipts: readonly Receipt[]): void {
    for (const [eventKey, waiting] of this.owed) {
      const fanout = this.fanout(eventKey);
      if (fanout?.state !== 'complete') this.violate('no-silent-loss', `fan-out ${eventKey} ended ${fanout?.state ?? 'missing'}, not complete`);
      const ledger = new Map(this.ledgerOf(eventKey).map((d) => [d.dedupKey, d]));
      let missing = 0;
      let example = '';
      const signups = this.owedSignups.get(eventKey)!;
      for (const [userId, channels] of waiting) {
        if (this.churned.has(userId)) continue;
        const signup = { productId: fanout?.productId ?? '', userId, createdAtMs: signups.get(userId)! };
        // A stopped restock (issue 40) never reached those after its cursor: they keep their place, still subscribed.
        const kept = fanout?.stopped !== undefined && (this.store.read(`${COLLECTIONS.products}/${signup.productId}/${COLLECTIONS.subscriptions}/${userId}`)?.data as SubscriptionDoc | undefined)?.createdAtMs === signup.createdAtMs;
        for (const c of channels) {
          // The sign-up's entries, whichever restock claimed them (promise 15): settled when one is final.
          const entries = this.entriesOfSignup(signup.productId, userId, signup.createdAtMs, c);
          if (entries.length === 0 && kept) continue;
          if (!entries.some((e) => FINAL_DELIVERY_STATES.includes(e.state))) {
            missing++;
            example ||= `${userId}/${c} is ${entries.map((e) => e.state).join('/') || 'absent'}`;
          }
        }
      }
      if (missing > 0) this.violate('no-silent-loss', `${missing} notification(s) owed for ${eventKey} did not end sent/rejected/exhausted/soldOutBeforeSend, e.g. ${example}`);
      const open = [...ledger.values()].filter((d) => d.state === 'failed' || d.state === 'sending');
      if (open.length > 0) {
        const o = open[0]!;
        const sub = this.store.read(`${COLLECTIONS.products}/${o.productId}/${COLLECTIONS.subscriptions}/${o.userId}`)?.data as unknown as SubscriptionDoc | undefined;
        const why = sub && !sub.channels?.[o.channel] ? ` (the shopper subscribed again without ${o.channel}: no attempt looks at that entry any more)` : '';
        this.violate('no-silent-loss', `${open.length} ledger entr(ies) of ${eventKey} left open, e.g. ${o.userId}/${o.channel} ${o.state}${why}`);
      }
      for (const d of ledger.values()) {
        if (d.state !== 'sent' && d.state !== 'rejected') continue;
        const subscribed = this.subscribedAtMs.get(d.userId) ?? -Infinity;
        const settledAt = this.recorded.get(d.dedupKey)?.atMs ?? Infinity;
        const sub = this.store.read(`${COLLECTIONS.products}/${d.productId}/${COLLECTIONS.subscriptions}/${d.userId}`);
        if (!sub || subscribed >= settledAt - 1) continue;
        // Written again after the claim that sent it read it: the shopper's latest request stands (the record's
        // delete is conditional on the claim's read, lib/delivery/ledger.ts), so it waits for the next restock.
        if (sub.updateTimeMs > (this.claimedAtMs.get(d.dedupKey) ?? Number.POSITIVE_INFINITY)) continue;
        const channels = CHANNELS.filter((c) => (sub.data as unknown as SubscriptionDoc).channels?.[c]);
        if (channels.every((c) => isSettledState(this.store.read(`${COLLECTIONS.deliveries}/${dedupKey(sub.data as unknown as SubscriptionDoc, c)}`)?.data.state))) {
          this.violate('one-shot', `${d.userId} was notified for ${eventKey} and is still subscribed`);
          break;
        }
      }
    }
    // Issue 40: a shopper a stopped restock did not tell keeps their place.
    for (const path of this.store.list(COLLECTIONS.deliveries)) {
      const d = this.store.read(path)!.data as unknown as DeliveryDoc;
      // An erased shopper's entries carry their pseudonym (lib/shoppers): they left.
      if (d.state !== 'soldOutBeforeSend' || this.churned.has(d.userId) || d.userId.startsWith(ERASED_USER_PREFIX)) continue;
      if (!this.store.read(`${COLLECTIONS.products}/${d.productId}/${COLLECTIONS.subscriptions}/${d.userId}`)) {
        this.violate('sold-out-keeps-place', `${d.userId}/${d.channel} was not told of ${d.eventKey} (soldOutBeforeSend) but is no longer subscribed`);
        break;
      }
    }
    for (const eventKey of ignoredEventKeys) {
      const tasks = queue.accepted.filter((t) => (t.body as { eventKey?: string } | undefined)?.eventKey === eventKey).length;
      const entries = this.ledgerOf(eventKey).length;
      const keys = new Set(this.ledgerOf(eventKey).map((d) => d.dedupKey));
      const sends = receipts.filter((r) => keys.has(r.key)).length;
      if (tasks + entries + sends > 0) {
        this.violate('stale-events-notify-nobody', `ignored event ${eventKey} (${this.fanout(eventKey)?.reason}) produced ${tasks} task(s), ${entries} ledger entr(ies), ${sends} notification(s)`);
      }
    }
  }
}
