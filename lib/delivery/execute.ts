/**
 * Delivering one chunk: claim → send (batched, bounded concurrency, one
 * idempotencyKey per notification) → record. The chunk is settled when
 * nothing retryable remains; otherwise the caller answers non-2xx and Cloud
 * Tasks retries the chunk, and the ledger skips what is done.
 */
import pLimit from 'p-limit';
import type { Runtime } from '../runtime.ts';
import type { Logger } from '../log.ts';
import { chunk, chunkTaskId, enqueueDeliveryTask, heldDeliveryTask, heldTaskId, isLastTaskAttempt, type DeliveryTask } from '../tasks/index.ts';
import { safeLink, type Notification, type NotificationResult, type Notifier } from '../notify/index.ts';
import { clickUrl } from '../unsubscribe/index.ts';
import { claimChunk, recordOutcomes } from './ledger.ts';
import { forgetDeadAddresses } from './dead-addresses.ts';
import { ledgerShardsFor, outcomeOf, type ClaimedDelivery, type Outcome } from './rules.ts';
import { notificationCounts } from '../metrics/index.ts';

/**
 * What one attempt at a chunk did, counted per outcome; logged as the
 * `chunk delivered` line and answered as the delivery function's body.
 */
export interface ChunkReport {
  /** True when every recipient of the chunk is settled: answer 2xx. */
  settled: boolean;
  lastAttempt: boolean;
  sent: number;
  rejected: number;
  failed: number;
  exhausted: number;
  busy: number;
  alreadySettled: number;
  unsubscribed: number;
  /** Notifications not sent because a newer stock event had ended the restock: their shoppers keep their subscriptions. */
  soldOutBeforeSend: number;
  /** Notifications held back for their shoppers' send windows, each in a delayed task scheduled for the window's opening. */
  held: number;
  /** Delayed tasks enqueued for them: one per distinct opening among the chunk's held recipients. */
  heldTasks: number;
  subscriptionsRemoved: number;
  /** Subscriptions kept although settled, because a PUT changed them after the claim (their shopper's latest request stands). */
  subscriptionsChangedMeanwhile: number;
}

/** What Cloud Tasks says about the attempt being made. */
export interface AttemptInfo {
  /** `X-CloudTasks-TaskRetryCount`: 0 on the first attempt. */
  retryCount: number;
}

/** How product links are tracked (lib/clicks): the public function's base URL and the keys that seal its tokens. */
interface LinkTracking {
  baseUrl: string;
  keys: readonly string[];
  nowMs: number;
}

/** The tracking settings, when the deployment tracks clicks and has what a link needs. */
function linkTracking(rt: Runtime): LinkTracking | undefined {
  const { clickTracking, unsubscribeUrl: baseUrl, unsubscribeSecret: keys } = rt.config;
  return clickTracking && baseUrl && keys?.length ? { baseUrl, keys, nowMs: rt.now() } : undefined;
}

function toNotification(task: DeliveryTask, d: ClaimedDelivery, tracking: LinkTracking | undefined): Notification {
  // Only an https: product URL is linked at all (safeLink), so only one gets a tracked link.
  const url = safeLink(task.product.url);
  const clickLink =
    tracking && url
      ? clickUrl(
          tracking.baseUrl,
          { eventKey: task.eventKey, productId: task.productId, userId: d.userId, channel: d.channel, ...(task.wave !== undefined ? { wave: task.wave } : {}), url, issuedAtMs: tracking.nowMs },
          tracking.keys,
        )
      : undefined;
  return {
    idempotencyKey: d.key,
    channel: d.channel,
    to: d.to,
    userId: d.userId,
    ...(d.subscriptionCreatedAtMs !== undefined ? { subscriptionCreatedAtMs: d.subscriptionCreatedAtMs } : {}),
    template: 'restock',
    ...(d.locale ? { locale: d.locale } : {}),
    data: {
      eventKey: task.eventKey,
      productId: task.productId,
      available: task.product.available,
      ...(task.product.name !== undefined ? { productName: task.product.name } : {}),
      ...(task.product.url !== undefined ? { productUrl: task.product.url } : {}),
      ...(task.publishTimeMs !== undefined ? { publishTimeMs: task.publishTimeMs } : {}),
      ...(clickLink ? { clickUrl: clickLink } : {}),
    },
  };
}

/**
 * Delivers one chunk. On the queue's last attempt, notifications still failing
 * become `exhausted` (visible, redrivable) instead of `failed`.
 */
export async function deliverChunk(rt: Runtime, notifier: Notifier, task: DeliveryTask, attempt: AttemptInfo, log: Logger): Promise<ChunkReport> {
  const { config } = rt;
  const startedAtMs = rt.now();
  const lastAttempt = isLastTaskAttempt(attempt.retryCount, config.deliveryMaxAttempts);
  const claim = await claimChunk(rt.db, task, {
    nowMs: rt.now(),
    leaseMs: config.deliveryLeaseMs,
    ttlDays: config.ledgerTtlDays,
    ledgerShards: ledgerShardsFor(task, config.ledgerShards),
    retryCount: attempt.retryCount,
    threshold: config.restockThreshold,
    ...(config.sendWindow ? { window: { window: config.sendWindow, defaultTimeZone: config.defaultTimeZone } } : {}),
  });

  const limit = pLimit(config.sendConcurrency);
  const results = new Map<string, NotificationResult>();
  await Promise.all(
    chunk(claim.claimed, config.notifyBatchSize).map((batch) =>
      limit(async () => {
        const tracking = linkTracking(rt);
        for (const r of await notifier.send(batch.map((d) => toNotification(task, d, tracking)))) results.set(r.idempotencyKey, r);
      }),
    ),
  );

  const outcomes: Outcome[] = claim.claimed.map((delivery) => outcomeOf(delivery, results.get(delivery.key), lastAttempt));
  // Before recording: if the cleanup fails, the chunk fails and its retry finds the token dead again.
  const deadAddresses = claim.claimed.filter((d) => results.get(d.key)?.status === 'rejected' && results.get(d.key)?.deadAddress);
  const cleaned = await forgetDeadAddresses(rt.db, deadAddresses.map((d) => ({ userId: d.userId, channel: d.channel, address: d.to, productId: task.productId })), rt.now());
  if (cleaned > 0) log.info('dead addresses removed from other subscriptions', { deadAddresses: deadAddresses.length, subscriptionsChanged: cleaned });
  const recorded = await recordOutcomes(rt.db, claim, outcomes, rt.now());
  // After the sends are recorded: a refused enqueue fails the chunk, and its retry, which finds these entries
  // `held` and the windows still closed, holds them again under the same task names (promise 18).
  const heldTasks = await enqueueHolds(rt, task, claim.holds);

  const count = (state: Outcome['state']) => outcomes.filter((o) => o.state === state).length;
  const report: ChunkReport = {
    settled: claim.busy === 0 && count('failed') === 0,
    lastAttempt,
    sent: count('sent'),
    rejected: count('rejected'),
    failed: count('failed'),
    exhausted: count('exhausted'),
    busy: claim.busy,
    alreadySettled: claim.alreadySettled,
    unsubscribed: claim.unsubscribed,
    soldOutBeforeSend: claim.soldOutBeforeSend,
    held: claim.held,
    heldTasks,
    subscriptionsRemoved: recorded.removed,
    subscriptionsChangedMeanwhile: recorded.changedMeanwhile,
  };
  // Counted once recorded, so the counts are what the ledger says, not what was merely tried.
  for (const c of notificationCounts(outcomes.map((o) => ({ channel: o.delivery.channel, state: o.state })))) rt.metrics?.notifications(c.channel, c.outcome, c.count);
  rt.metrics?.chunkDelivered(rt.now() - startedAtMs, report.settled);
  const firstError = outcomes.find((o) => o.error && o.state !== 'sent')?.error;
  const level = report.exhausted > 0 ? 'error' : report.settled ? 'info' : 'warn';
  log[level]('chunk delivered', { ...report, retryCount: attempt.retryCount, recipients: task.userIds.length, ...(firstError ? { firstError } : {}) });
  return report;
}

/**
 * Enqueues one delayed delivery task per opening instant of the chunk's held
 * recipients, scheduled for it (Cloud Tasks `scheduleTime`), each named after
 * (chunk, opening, members) so a retried chunk creates none twice.
 * @throws EnqueueError (lib/tasks) when the queue refuses: the chunk is retried.
 */
async function enqueueHolds(rt: Runtime, task: DeliveryTask, holds: ReadonlyMap<number, string[]>): Promise<number> {
  if (holds.size === 0) return 0;
  const chunkId = chunkTaskId(task.eventKey, task.generation, task.userIds);
  const limit = pLimit(rt.config.enqueueConcurrency);
  await Promise.all(
    [...holds].map(([opensAtMs, userIds]) => limit(() => enqueueDeliveryTask(rt.tasks, rt.config, heldTaskId(chunkId, opensAtMs, userIds), heldDeliveryTask(task, userIds, opensAtMs)))),
  );
  return holds.size;
}
