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
  type SubscriptionDoc,
} from '../model.ts';
import type { DeliveryTask } from '../tasks/index.ts';

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
  recipients: RecipientPlan[];
  /**
   * Recipients whose subscription is served already: every channel it has
   * was settled (sent or rejected) after its last write, by an attempt that
   * judged an older version of it and so could not remove it. The claim
   * removes it (promise 6); only the transactional path ever finds one.
   */
  served: string[];
}

/** The clock and lease a claim runs with. */
export interface ClaimContext {
  nowMs: number;
  leaseMs: number;
  /** `X-CloudTasks-TaskRetryCount` of the attempt (0 or absent: its first dispatch). */
  retryCount?: number;
}

/** The ledger entries of one recipient, per channel (absent: no entry). */
export type RecipientLedger = Partial<Record<Channel, DeliveryDoc | LedgerEntry>>;

/** The text an `unsubscribed` entry carries, so `trace` says why it closed. */
export const UNSUBSCRIBED_ERROR = 'unsubscribed before the notification was confirmed';
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
 * Closed states never reopen; `exhausted` reopens only for a redrive's task;
 * a live lease belongs to another attempt.
 */
export function mayClaim(entry: Pick<DeliveryDoc, 'state' | 'leaseExpiresAtMs'> | undefined, task: Pick<DeliveryTask, 'redriveRunId'>, nowMs: number): boolean {
  if (!entry) return true;
  if (isLeaseLive(entry, nowMs)) return false;
  if (entry.state === 'exhausted') return task.redriveRunId !== undefined;
  return canMoveDelivery(entry.state, 'sending');
}

function claimEntry(task: DeliveryTask, userId: string, channel: Channel, ctx: ClaimContext, previous: LedgerEntry | undefined): LedgerEntry {
  return {
    dedupKey: dedupKey(task.eventKey, userId, channel),
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
    ...((task.wave ?? previous?.wave) !== undefined ? { wave: (task.wave ?? previous?.wave)! } : {}),
  };
}

/**
 * The claim decision for one recipient, from its subscription (undefined: it
 * is gone) and its ledger entries. Adds to `plan`.
 *
 * A gone subscription was either settled by an earlier attempt or the shopper
 * unsubscribed. An entry an attempt left open (failed, or sending past its
 * lease after a crash) would otherwise stay open forever: it ends
 * `unsubscribed`, which nothing reopens.
 */
export function decideRecipient(plan: ClaimPlan, task: DeliveryTask, userId: string, sub: SubscriptionDoc | undefined, ledger: RecipientLedger, ctx: ClaimContext): void {
  if (!sub) {
    let closed = false;
    for (const channel of CHANNELS) {
      const entry = ledger[channel];
      if (!entry || isFinalDelivery(entry.state)) continue;
      if (isLeaseLive(entry, ctx.nowMs)) {
        plan.busy++; // its attempt may still record it; if that attempt died, the retry after the lease closes it
        continue;
      }
      closed = true;
      plan.writes.push({
        kind: 'close',
        key: dedupKey(task.eventKey, userId, channel),
        update: { state: 'unsubscribed', lastError: UNSUBSCRIBED_ERROR, leaseExpiresAtMs: null, updatedAtMs: ctx.nowMs },
      });
    }
    const anySettled = CHANNELS.some((c) => isFinalDelivery(ledger[c]?.state));
    if (closed || !anySettled) plan.unsubscribed++;
    else plan.alreadySettled++;
    plan.recipients.push({ userId, subscribed: false, channels: [], settled: new Map() });
    return;
  }
  const channels = CHANNELS.filter((c) => sub.channels?.[c]);
  const settled = new Map<Channel, DeliveryState>();
  plan.recipients.push({ userId, subscribed: true, channels, settled });
  // A channel the shopper dropped (subscribed again without it) while its entry was open:
  // nothing will ever send it, so it closes like an unsubscribe instead of staying open forever.
  for (const channel of CHANNELS) {
    const entry = ledger[channel];
    if (channels.includes(channel) || !entry || isFinalDelivery(entry.state) || isLeaseLive(entry, ctx.nowMs)) continue;
    plan.writes.push({
      kind: 'close',
      key: dedupKey(task.eventKey, userId, channel),
      update: { state: 'unsubscribed', lastError: CHANNEL_DROPPED_ERROR, leaseExpiresAtMs: null, updatedAtMs: ctx.nowMs },
    });
  }
  for (const channel of channels) {
    const entry = ledger[channel];
    if (entry && !mayClaim(entry, task, ctx.nowMs)) {
      if (isLeaseLive(entry, ctx.nowMs)) plan.busy++;
      else {
        settled.set(channel, entry.state);
        plan.alreadySettled++;
      }
      continue;
    }
    const next = claimEntry(task, userId, channel, ctx, entry);
    plan.writes.push({ kind: 'claim', key: next.dedupKey, create: entry === undefined, entry: next });
    plan.claimed.push({
      key: next.dedupKey,
      userId,
      channel,
      to: sub.channels[channel]!,
      attempts: next.attempts,
      ...(sub.locale ? { locale: sub.locale } : {}),
      ...(typeof sub.createdAtMs === 'number' ? { subscriptionCreatedAtMs: sub.createdAtMs } : {}),
    });
  }
  // The shopper changed channels after an earlier attempt's claim (say, dropped push while email was being
  // sent): that attempt settled every channel the subscription has now, but judged the older version, so it
  // kept it. Settled after the subscription's last write means served: one-shot, it goes. One written after
  // the settling (subscribed again once told) is a new wish and stays.
  if (channels.length > 0 && channels.every((c) => servedAfter(ledger[c], sub.updatedAtMs))) plan.served.push(userId);
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
  return { claimed: [], writes: [], busy: 0, alreadySettled: 0, unsubscribed: 0, recipients: [], served: [] };
}

/**
 * The claim of a whole chunk given every subscription and ledger entry of its
 * recipients (`subs[i]` and `ledgers[i]` belong to `task.userIds[i]`): what
 * the transactional path carries out.
 */
export function planChunkClaim(task: DeliveryTask, subs: readonly (SubscriptionDoc | undefined)[], ledgers: readonly RecipientLedger[], ctx: ClaimContext): ClaimPlan {
  const plan = emptyPlan();
  task.userIds.forEach((userId, i) => {
    decideRecipient(plan, task, userId, subs[i], ledgers[i] ?? {}, ctx);
  });
  return plan;
}

/**
 * The first-attempt plan: the same decision on the assumption that no ledger
 * entry exists, which the store makes true by creating every entry on the
 * condition that none exists (a commit that fails as a whole otherwise).
 * Undefined when the assumption cannot even be tried: a recipient is repeated
 * (a second create of one document would fail the commit) or a subscription is
 * gone (only the ledger can tell unsubscribed from already settled).
 */
export function planFirstAttempt(task: DeliveryTask, subs: readonly (SubscriptionDoc | undefined)[], ctx: ClaimContext): ClaimPlan | undefined {
  // A retry or a redrive may own an open entry on a channel the shopper has since dropped: only the
  // transaction reads it (and closes it), so those never take the shortcut.
  if ((ctx.retryCount ?? 0) > 0 || task.redriveRunId !== undefined) return undefined;
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
