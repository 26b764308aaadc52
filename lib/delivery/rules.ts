/**
 * The ledger's decisions, pure over plain data: what a chunk's claim does to
 * each recipient (claim / busy / already settled / unsubscribed), what an
 * outcome becomes, and what a redrive may take. `ledger.ts` reads the
 * snapshots and carries these plans out; it decides nothing itself, so the
 * first-attempt path and the transactional path cannot drift apart.
 */
import {
  CHANNELS,
  CLOSED_DELIVERY_STATES,
  FINAL_DELIVERY_STATES,
  REDRIVABLE_DELIVERY_STATES,
  canMoveDelivery,
  dedupKey,
  type Channel,
  type DeliveryDoc,
  type DeliveryState,
  type RedrivableState,
  type RestockStop,
  type SubscriptionDoc,
} from '../model.ts';
import { windowStanding, type SendWindow } from '../send-window.ts';
import type { DeliveryTask } from '../tasks/index.ts';

/**
 * The shard count a chunk's ledger entries take their shard in: the one its
 * fan-out recorded and the task carries, which is the one the event's queries
 * read through (`FanoutDoc.ledgerShards`); a task without it, delivery's own
 * RESTOCK_LEDGER_SHARDS. One rule, so a fan-out and a delivery function
 * deployed with different settings cannot file an event's entries under
 * shards its queries never read. Pure.
 */
export function ledgerShardsFor(task: Pick<DeliveryTask, 'ledgerShards'>, configured: number): number {
  return task.ledgerShards ?? configured;
}

/** One notification this attempt has claimed and must send. */
export interface ClaimedDelivery {
  key: string;
  userId: string;
  channel: Channel;
  to: string;
  locale?: string;
  /** The subscription's generation (`createdAtMs`): an unsubscribe link names it, so it removes only this subscription. */
  subscriptionCreatedAtMs?: number;
  attempts: number;
}

/** A ledger entry as a claim writes it, without its TTL timestamp (the store adds `expireAt`). */
export type LedgerEntry = Omit<DeliveryDoc, 'expireAt'>;

/** What a claim plans for one ledger document. */
export type LedgerWrite =
  /** Claim: the entry becomes `sending` under this attempt's lease. `create` when no entry existed. */
  | { kind: 'claim'; key: string; create: boolean; entry: LedgerEntry }
  /**
   * Keep the shopper's place: the restock stopped before this notification was
   * claimed, so the entry ends `soldOutBeforeSend` (never sent) and the
   * subscription stays. `create` when no entry existed.
   */
  | { kind: 'keep'; key: string; create: boolean; entry: LedgerEntry }
  /**
   * Hold back: the shopper's send window is closed, so the entry is `held`
   * until `heldUntilMs` (the delayed task's claim takes it then) and the
   * subscription stays. `create` when no entry existed.
   */
  | { kind: 'hold'; key: string; create: boolean; entry: LedgerEntry }
  /** Close an entry left open by a shopper who has since unsubscribed. */
  | { kind: 'close'; key: string; update: Pick<DeliveryDoc, 'state' | 'lastError' | 'leaseExpiresAtMs' | 'updatedAtMs'> };

/** One recipient of a chunk as the claim found it. */
export interface RecipientPlan {
  userId: string;
  /** Whether the subscription still exists (only then may it be removed after sending). */
  subscribed: boolean;
  /** The subscription's channels (empty when it is gone). */
  channels: Channel[];
  /** Final states known before this attempt, per channel of the subscription. */
  settled: Map<Channel, DeliveryState>;
}

/** Everything one claim of a chunk decides: writes to make and what to report. */
export interface ClaimPlan {
  claimed: ClaimedDelivery[];
  writes: LedgerWrite[];
  /** Leased by another attempt that is still within its lease. */
  busy: number;
  /** Recipients (or channels) final before this attempt (an earlier attempt settled them). */
  alreadySettled: number;
  /** Recipients whose subscription no longer exists and who were never notified: they unsubscribed. */
  unsubscribed: number;
  /** Notifications not sent because the restock had stopped (`ClaimContext.stopped`): their shoppers keep their place. */
  soldOutBeforeSend: number;
  /** Notifications held back because their shopper's send window is closed (`ClaimContext.window`). */
  held: number;
  /**
   * The held recipients by the instant their window opens: one delayed
   * delivery task per entry, so a chunk makes at most one per distinct
   * opening among its recipients, however many shoppers share it.
   */
  holds: Map<number, string[]>;
  recipients: RecipientPlan[];
  /**
   * Recipients whose subscription is served already: every channel it has
   * was settled (sent or rejected) after its last write, by an attempt that
   * judged an older version of it and so could not remove it. The claim
   * removes it (promise 6); only the transactional path ever finds one.
   */
  served: string[];
  /**
   * Recipients whose sign-up was told (or closed) on every channel it has, but
   * who wrote their subscription again after that: a new wish under an old
   * sign-up's keys. The claim starts a new sign-up (`createdAtMs` = now) so the
   * next claim can tell them; until it does, they count as busy.
   */
  renewed: string[];
}

/** The clock and lease a claim runs with. */
export interface ClaimContext {
  nowMs: number;
  leaseMs: number;
  /** `X-CloudTasks-TaskRetryCount` of the attempt (0 or absent: its first dispatch). */
  retryCount?: number;
  /**
   * Set when the restock no longer tells anyone (lib/restock `restockStanding`
   * over the product as read just before the claim): what the claim would take
   * ends `soldOutBeforeSend` instead, and the subscription is kept.
   */
  stopped?: RestockStop;
  /**
   * The send window (RESTOCK_SEND_WINDOW) and the zone of a shopper whose
   * subscription names none: a recipient outside their window is held
   * instead of claimed. Absent: any hour.
   */
  window?: { window: SendWindow; defaultTimeZone: string };
}

/**
 * The ledger entries of one recipient: per channel, the entries of its
 * sign-up (absent: no entry); for a recipient whose subscription is gone (so
 * its sign-up is unknown), the list of its entries for the product, any sign-up.
 */
export type RecipientLedger = Partial<Record<Channel, DeliveryDoc | LedgerEntry>> | readonly (DeliveryDoc | LedgerEntry)[];

/** The text an `unsubscribed` entry carries, so `trace` says why it closed. */
export const UNSUBSCRIBED_ERROR = 'unsubscribed before the notification was confirmed';
/** `lastError` of an open entry of a sign-up the shopper has since replaced (unsubscribed, then subscribed again). */
export const SIGNUP_REPLACED_ERROR = 'the shopper subscribed anew (a new sign-up) before the notification was confirmed';
/** `lastError` of an open entry on a channel the shopper's subscription no longer has. */
export const CHANNEL_DROPPED_ERROR = 'the subscription dropped this channel before the notification was confirmed';

/** Whether a delivery state never moves by itself again. */
export function isFinalDelivery(state: DeliveryState | undefined): boolean {
  return state !== undefined && FINAL_DELIVERY_STATES.includes(state);
}

/** Whether `entry` is `sending` under a lease that has not expired at `nowMs`. */
export function isLeaseLive(entry: Pick<DeliveryDoc, 'state' | 'leaseExpiresAtMs'> | undefined, nowMs: number): boolean {
  return entry?.state === 'sending' && (entry.leaseExpiresAtMs ?? 0) > nowMs;
}

/**
 * Whether an attempt of `task` may claim `entry` (absent: a new entry).
 * Closed states never reopen; a live lease belongs to another attempt;
 * `exhausted` reopens for a redrive's task or another restock of the same
 * sign-up, `soldOutBeforeSend` only for another restock (its own is over).
 * The entry is the sign-up's, so "another restock" is one that reached the
 * same subscription: promise 15 keeps it at one message whichever does.
 */
export function mayClaim(entry: Pick<DeliveryDoc, 'state' | 'leaseExpiresAtMs' | 'eventKey'> | undefined, task: Pick<DeliveryTask, 'redriveRunId' | 'eventKey'>, nowMs: number): boolean {
  if (!entry) return true;
  if (isLeaseLive(entry, nowMs)) return false;
  const another = entry.eventKey !== task.eventKey;
  if (entry.state === 'exhausted') return task.redriveRunId !== undefined || another;
  if (entry.state === 'soldOutBeforeSend') return another;
  return canMoveDelivery(entry.state, 'sending');
}

/**
 * Whether a stopped restock's claim keeps `entry`'s place (writes it
 * `soldOutBeforeSend`): one it would have claimed that is absent or its own.
 * Another restock's entry is left to that restock.
 */
function mayKeep(entry: Pick<DeliveryDoc, 'state' | 'leaseExpiresAtMs' | 'eventKey'> | undefined, task: Pick<DeliveryTask, 'redriveRunId' | 'eventKey'>, nowMs: number): boolean {
  if (!entry) return true;
  return entry.eventKey === task.eventKey && entry.state !== 'soldOutBeforeSend' && mayClaim(entry, task, nowMs);
}

/**
 * The key of `userId`'s notification on `channel` for `task`: its sign-up's
 * (`dedupKey` of the subscription's `createdAtMs`, promise 15), whichever
 * restock claims it. One rule for the planner and the store's reads.
 */
export function notificationKey(task: Pick<DeliveryTask, 'productId' | 'eventKey'>, userId: string, sub: Pick<SubscriptionDoc, 'createdAtMs'>, channel: Channel): string {
  return dedupKey({ productId: task.productId, userId, createdAtMs: sub.createdAtMs }, channel);
}

/** Why a kept entry was not sent, as `restock trace` shows it. */
export function stoppedError(reason: RestockStop): string {
  return reason === 'sold-out' ? 'not sent: the product sold out again before this chunk was claimed' : 'not sent: a newer restock of the product superseded this one';
}

/** Why a held send was skipped when its window opened, as `restock trace` shows it. */
function skippedError(reason: RestockStop): string {
  return reason === 'sold-out' ? "not sent: the product sold out again while the shopper's send window was closed" : "not sent: a newer restock superseded this one while the shopper's send window was closed";
}

/** `lastError` of a held entry, so `restock trace` says why it waits. */
const HELD_ERROR = "held: outside the shopper's send window";

/**
 * When `sub`'s shopper may be told: now (undefined), or the instant their
 * window opens. The zone is the subscription's, else the default; one the
 * runtime does not know (written before validation, or since withdrawn from
 * the IANA data) reads as the default's, so a bad zone never holds anyone
 * forever.
 */
function heldUntil(sub: Pick<SubscriptionDoc, 'timeZone'>, ctx: Pick<ClaimContext, 'nowMs' | 'window'>): number | undefined {
  if (!ctx.window) return undefined;
  let standing: ReturnType<typeof windowStanding>;
  try {
    standing = windowStanding(ctx.nowMs, sub.timeZone ?? ctx.window.defaultTimeZone, ctx.window.window);
  } catch {
    standing = windowStanding(ctx.nowMs, ctx.window.defaultTimeZone, ctx.window.window);
  }
  return standing.open ? undefined : standing.opensAtMs;
}

function claimEntry(task: DeliveryTask, userId: string, channel: Channel, key: string, ctx: ClaimContext, previous: LedgerEntry | undefined): LedgerEntry {
  const wave = task.wave ?? (previous?.eventKey === task.eventKey ? previous.wave : undefined);
  return {
    dedupKey: key,
    eventKey: task.eventKey,
    productId: task.productId,
    userId,
    channel,
    state: 'sending',
    attempts: (previous?.attempts ?? 0) + 1,
    leaseExpiresAtMs: ctx.nowMs + ctx.leaseMs,
    lastError: previous?.lastError ?? null,
    sentAtMs: null,
    createdAtMs: previous?.createdAtMs ?? ctx.nowMs,
    updatedAtMs: ctx.nowMs,
    ...(wave !== undefined ? { wave } : {}),
  };
}

function keptEntry(task: DeliveryTask, userId: string, channel: Channel, key: string, reason: RestockStop, ctx: ClaimContext, previous: LedgerEntry | undefined): LedgerEntry {
  const claimed = claimEntry(task, userId, channel, key, ctx, previous);
  const kept: LedgerEntry = { ...claimed, state: 'soldOutBeforeSend', attempts: previous?.attempts ?? 0, leaseExpiresAtMs: null, lastError: stoppedError(reason) };
  // A held send that came due after its restock ended: the stock check before a late send, counted apart.
  if (previous?.state === 'held' && previous.heldUntilMs !== undefined) return { ...kept, heldUntilMs: previous.heldUntilMs, skipped: reason, lastError: skippedError(reason) };
  return kept;
}

function heldEntry(task: DeliveryTask, userId: string, channel: Channel, key: string, untilMs: number, ctx: ClaimContext, previous: LedgerEntry | undefined): LedgerEntry {
  const claimed = claimEntry(task, userId, channel, key, ctx, previous);
  return { ...claimed, state: 'held', attempts: previous?.attempts ?? 0, leaseExpiresAtMs: null, lastError: HELD_ERROR, heldUntilMs: untilMs };
}

/**
 * The claim decision for one recipient, from its subscription (undefined: it
 * is gone) and its ledger entries. Adds to `plan`.
 *
 * The keys are the sign-up's (`dedupKey` of the subscription's `createdAtMs`),
 * so an entry found may be another restock's claim of the same sign-up: one
 * still sending is busy, one sent or rejected is settled, one left untold is
 * taken over (promise 15). With `ctx.stopped`, nothing is claimed: what would
 * have been ends `soldOutBeforeSend` and the subscription stays.
 *
 * A gone subscription was either settled by an earlier attempt or the shopper
 * unsubscribed. An entry an attempt left open (failed, or sending past its
 * lease after a crash) would otherwise stay open forever: it ends
 * `unsubscribed`, which nothing reopens.
 */
export function decideRecipient(
  plan: ClaimPlan,
  task: DeliveryTask,
  userId: string,
  sub: SubscriptionDoc | undefined,
  ledger: RecipientLedger,
  ctx: ClaimContext,
  others: readonly (DeliveryDoc | LedgerEntry)[] = [],
): void {
  if (!sub) {
    decideGone(plan, task, userId, Array.isArray(ledger) ? ledger : Object.values(ledger), ctx);
    return;
  }
  const byChannel = (Array.isArray(ledger) ? {} : ledger) as Partial<Record<Channel, DeliveryDoc | LedgerEntry>>;
  const keyOf = (channel: Channel) => notificationKey(task, userId, sub, channel);
  const channels = CHANNELS.filter((c) => sub.channels?.[c]);
  const settled = new Map<Channel, DeliveryState>();
  plan.recipients.push({ userId, subscribed: true, channels, settled });
  // An entry of an earlier sign-up left open (its attempt died, then the shopper unsubscribed and subscribed
  // again): nothing will look at its key again, so it closes like an unsubscribe instead of staying open forever.
  const current = new Set(CHANNELS.map(keyOf));
  for (const entry of others) {
    if (current.has(entry.dedupKey) || isFinalDelivery(entry.state) || isLeaseLive(entry, ctx.nowMs)) continue;
    plan.writes.push({ kind: 'close', key: entry.dedupKey, update: { state: 'unsubscribed', lastError: SIGNUP_REPLACED_ERROR, leaseExpiresAtMs: null, updatedAtMs: ctx.nowMs } });
  }
  // A channel the shopper dropped (subscribed again without it) while its entry was open:
  // nothing will ever send it, so it closes like an unsubscribe instead of staying open forever.
  for (const channel of CHANNELS) {
    const entry = byChannel[channel];
    if (channels.includes(channel) || !entry || isFinalDelivery(entry.state) || isLeaseLive(entry, ctx.nowMs)) continue;
    plan.writes.push({
      kind: 'close',
      key: keyOf(channel),
      update: { state: 'unsubscribed', lastError: CHANNEL_DROPPED_ERROR, leaseExpiresAtMs: null, updatedAtMs: ctx.nowMs },
    });
  }
  let taken = 0;
  let busy = 0;
  const until = ctx.stopped === undefined ? heldUntil(sub, ctx) : undefined;
  // A delayed task that runs a moment before the opening it was scheduled for (clock skew) must not hold again
  // under its own name, which the queue would refuse as taken: it counts as busy, and its retry finds the window open.
  const early = until !== undefined && task.heldUntilMs !== undefined && until <= task.heldUntilMs;
  let heldHere = 0;
  for (const channel of channels) {
    const entry = byChannel[channel];
    const key = keyOf(channel);
    if (isLeaseLive(entry, ctx.nowMs)) {
      busy++; // another attempt (of this restock or another) is sending it: a chunk in flight finishes
      continue;
    }
    const take = ctx.stopped !== undefined ? mayKeep(entry, task, ctx.nowMs) : mayClaim(entry, task, ctx.nowMs);
    if (!take) {
      if (entry) settled.set(channel, entry.state);
      plan.alreadySettled++;
      continue;
    }
    taken++;
    if (ctx.stopped !== undefined) {
      // The restock is over: nothing is sent, and the place is kept for the next one.
      plan.writes.push({ kind: 'keep', key, create: entry === undefined, entry: keptEntry(task, userId, channel, key, ctx.stopped, ctx, entry) });
      plan.soldOutBeforeSend++;
      continue;
    }
    if (until !== undefined) {
      if (early) {
        busy++;
        continue;
      }
      // Outside the shopper's window: nothing is sent now; the delayed task claims it when the window opens.
      plan.writes.push({ kind: 'hold', key, create: entry === undefined, entry: heldEntry(task, userId, channel, key, until, ctx, entry) });
      plan.held++;
      heldHere++;
      continue;
    }
    const next = claimEntry(task, userId, channel, key, ctx, entry);
    plan.writes.push({ kind: 'claim', key, create: entry === undefined, entry: next });
    plan.claimed.push({
      key,
      userId,
      channel,
      to: sub.channels[channel]!,
      attempts: next.attempts,
      ...(sub.locale ? { locale: sub.locale } : {}),
      ...(typeof sub.createdAtMs === 'number' ? { subscriptionCreatedAtMs: sub.createdAtMs } : {}),
    });
  }
  plan.busy += busy;
  if (heldHere > 0) plan.holds.set(until!, [...(plan.holds.get(until!) ?? []), userId]);
  // The shopper changed channels after an earlier attempt's claim (say, dropped push while email was being
  // sent): that attempt settled every channel the subscription has now, but judged the older version, so it
  // kept it. Settled after the subscription's last write means served: one-shot, it goes. One written after
  // the settling (subscribed again once told) is a new wish and stays.
  if (channels.length > 0 && channels.every((c) => servedAfter(byChannel[c], sub.updatedAtMs))) {
    plan.served.push(userId);
    return;
  }
  // That new wish, under a sign-up whose every channel is closed: its keys are spent, so it becomes a new
  // sign-up (promise 15 counts messages per sign-up) and the chunk's next attempt claims the new keys.
  if (ctx.stopped === undefined && channels.length > 0 && taken === 0 && busy === 0 && channels.every((c) => isClosed(byChannel[c]?.state))) {
    plan.renewed.push(userId);
    plan.busy++;
  }
}

/** {@link decideRecipient} for a recipient whose subscription is gone: `entries` are its entries for the product, any sign-up. */
function decideGone(plan: ClaimPlan, task: DeliveryTask, userId: string, entries: readonly (DeliveryDoc | LedgerEntry | undefined)[], ctx: ClaimContext): void {
  let closed = false;
  for (const entry of entries) {
    if (!entry || isFinalDelivery(entry.state)) continue;
    if (isLeaseLive(entry, ctx.nowMs)) {
      plan.busy++; // its attempt may still record it; if that attempt died, the retry after the lease closes it
      continue;
    }
    closed = true;
    plan.writes.push({
      kind: 'close',
      key: entry.dedupKey,
      update: { state: 'unsubscribed', lastError: UNSUBSCRIBED_ERROR, leaseExpiresAtMs: null, updatedAtMs: ctx.nowMs },
    });
  }
  // Settled by this restock, or told by another one (a sent or rejected sign-up went with its outcome).
  const anySettled = entries.some((e) => e !== undefined && isFinalDelivery(e.state) && (e.eventKey === task.eventKey || servesChannel(e.state)));
  if (closed || !anySettled) plan.unsubscribed++;
  else plan.alreadySettled++;
  plan.recipients.push({ userId, subscribed: false, channels: [], settled: new Map() });
}

function isClosed(state: DeliveryState | undefined): boolean {
  return state !== undefined && CLOSED_DELIVERY_STATES.includes(state);
}

function servedAfter(entry: DeliveryDoc | LedgerEntry | undefined, subscriptionWrittenAtMs: number): boolean {
  return entry !== undefined && servesChannel(entry.state) && entry.updatedAtMs >= subscriptionWrittenAtMs;
}

/** Whether a channel in `state` is done for a one-shot subscription (promise 6): told, or undeliverable for good. */
function servesChannel(state: DeliveryState | undefined): boolean {
  return state === 'sent' || state === 'rejected';
}

/** An empty plan, to fill with {@link decideRecipient}. */
export function emptyPlan(): ClaimPlan {
  return { claimed: [], writes: [], busy: 0, alreadySettled: 0, unsubscribed: 0, soldOutBeforeSend: 0, held: 0, holds: new Map(), recipients: [], served: [], renewed: [] };
}

/**
 * The claim of a whole chunk given every subscription and ledger entry of its
 * recipients (`subs[i]`, `ledgers[i]` and `others[i]`, the entries of earlier
 * sign-ups, belong to `task.userIds[i]`): what the transactional path carries out.
 */
export function planChunkClaim(
  task: DeliveryTask,
  subs: readonly (SubscriptionDoc | undefined)[],
  ledgers: readonly RecipientLedger[],
  ctx: ClaimContext,
  others: readonly (readonly (DeliveryDoc | LedgerEntry)[])[] = [],
): ClaimPlan {
  const plan = emptyPlan();
  task.userIds.forEach((userId, i) => {
    decideRecipient(plan, task, userId, subs[i], ledgers[i] ?? {}, ctx, others[i] ?? []);
  });
  return plan;
}

/**
 * Whether a task comes back to entries an earlier attempt wrote: a retry, a
 * redrive's task, or a held send (its chunk wrote its entries `held`). Such a
 * task never takes the first-attempt path (its creates would meet those
 * entries and fail), and its transaction looks up every recipient's entries
 * for the product, any sign-up: an entry it left open may sit on a channel the
 * shopper has since dropped, or under a sign-up they replaced (unsubscribed and
 * subscribed again while held), and only a read of the ledger finds it to
 * close it. One rule for the planner and the store. Pure.
 */
export function revisitsLedger(task: Pick<DeliveryTask, 'redriveRunId' | 'heldUntilMs'>, ctx: Pick<ClaimContext, 'retryCount'>): boolean {
  return (ctx.retryCount ?? 0) > 0 || task.redriveRunId !== undefined || task.heldUntilMs !== undefined;
}

/**
 * The first-attempt plan: the same decision on the assumption that no ledger
 * entry exists, which the store makes true by creating every entry on the
 * condition that none exists (a commit that fails as a whole otherwise).
 * Undefined when the assumption cannot even be tried: the task revisits the
 * ledger ({@link revisitsLedger}), a recipient is repeated (a second create of
 * one document would fail the commit) or a subscription is gone (only the
 * ledger can tell unsubscribed from already settled).
 */
export function planFirstAttempt(task: DeliveryTask, subs: readonly (SubscriptionDoc | undefined)[], ctx: ClaimContext): ClaimPlan | undefined {
  if (revisitsLedger(task, ctx)) return undefined;
  if (new Set(task.userIds).size !== task.userIds.length) return undefined;
  if (subs.some((s) => s === undefined)) return undefined;
  return planChunkClaim(task, subs, task.userIds.map(() => ({})), ctx);
}

/** An outcome to record for one claimed notification. */
export interface Outcome {
  delivery: ClaimedDelivery;
  state: Extract<DeliveryState, 'sent' | 'failed' | 'rejected' | 'exhausted'>;
  error?: string;
}

/** What the notifier said about one notification (undefined: no answer for it). */
export interface SendResult {
  /** `retry` (or no answer at all) leaves the notification to the next attempt. */
  status: 'sent' | 'rejected' | 'retry';
  reason?: string;
}

/**
 * The state a claimed notification ends this attempt in. On the queue's last
 * attempt, a notification still failing becomes `exhausted` (visible,
 * redrivable) instead of `failed`.
 */
export function outcomeOf(delivery: ClaimedDelivery, result: SendResult | undefined, lastAttempt: boolean): Outcome {
  if (result?.status === 'sent') return { delivery, state: 'sent' };
  if (result?.status === 'rejected') return { delivery, state: 'rejected', error: result.reason ?? 'rejected by the notification service' };
  return { delivery, state: lastAttempt ? 'exhausted' : 'failed', error: result?.reason ?? 'no result' };
}

/**
 * Whether a one-shot subscription is done (promise 6): every channel it has is
 * `sent` or `rejected`, counting this attempt's outcomes over what was known.
 */
export function subscriptionDone(recipient: RecipientPlan, outcomes: readonly Outcome[]): boolean {
  if (!recipient.subscribed) return false;
  const states = new Map(recipient.settled);
  for (const o of outcomes) states.set(o.delivery.channel, o.state);
  return recipient.channels.every((c) => servesChannel(states.get(c)));
}

/** A state asked of a redrive that the domain does not allow redriving. */
export class NotRedrivableError extends Error {
  override readonly name = 'NotRedrivableError';
  readonly field = 'states';
  constructor(readonly state: string) {
    super(`deliveries in state ${JSON.stringify(state)} cannot be redriven; only ${REDRIVABLE_DELIVERY_STATES.join(', ')} (sending only past its lease) can`);
  }
}

/**
 * The states a redrive takes, checked against the domain's rule (default:
 * `exhausted`).
 * @throws NotRedrivableError naming the first state that may not be redriven (`sent` would resend).
 */
export function redriveStates(requested: readonly string[]): RedrivableState[] {
  for (const s of requested) if (!(REDRIVABLE_DELIVERY_STATES as readonly string[]).includes(s)) throw new NotRedrivableError(s);
  return requested.length > 0 ? [...new Set(requested as RedrivableState[])] : ['exhausted'];
}

/** Whether one ledger entry may be redriven now: `exhausted`, `failed`, or `sending` past its lease. */
export function isRedrivable(entry: Pick<DeliveryDoc, 'state' | 'leaseExpiresAtMs'>, nowMs: number): boolean {
  if (CLOSED_DELIVERY_STATES.includes(entry.state)) return false;
  if (entry.state === 'sending') return !isLeaseLive(entry, nowMs);
  return (REDRIVABLE_DELIVERY_STATES as readonly DeliveryState[]).includes(entry.state);
}

/**
 * Redrive's plan for one page of ledger entries: the entries it takes (in
 * `states` and redrivable now) and the recipients to enqueue, each once.
 */
export function planRedrive<E extends Pick<DeliveryDoc, 'state' | 'leaseExpiresAtMs' | 'userId'>>(
  entries: readonly E[],
  states: readonly RedrivableState[],
  nowMs: number,
): { picked: E[]; userIds: string[] } {
  const picked = entries.filter((e) => (states as readonly DeliveryState[]).includes(e.state) && isRedrivable(e, nowMs));
  return { picked, userIds: [...new Set(picked.map((e) => e.userId))] };
}
