/**
 * What the pipeline records, as a small interface over plain numbers and
 * labels: the domain (`lib/delivery`, `lib/fanout`, `lib/outbox`) records
 * through it, as do the subscription API and applyShopperActions (orders and
 * clicks), so unit tests and the simulation run without the OpenTelemetry
 * SDK. `./otel.ts` implements it with OpenTelemetry instruments; the names and
 * labels of those instruments are listed in docs/metrics.md.
 */
import type { Attribution } from '../model.ts';

/**
 * What became of one notification in one attempt at its chunk. `retried` is a
 * send that failed and is left to the queue's retry (the ledger's `failed`).
 */
export type NotificationOutcome = 'sent' | 'rejected' | 'retried' | 'exhausted';

/** Which Cloud Tasks task was dispatched late. */
export type TaskKind = 'delivery' | 'continuation';

/** How a fan-out ended (its whole life, across continuations). */
export type FanoutEnd = 'completed' | 'failed';

/** An order as the metrics count it: its attribution, the channel credited (none when unattributed), currency and amount. */
export interface OrderRecorded {
  attribution: Attribution;
  channel: string | undefined;
  /** ISO 4217, upper case. */
  currency: string;
  /** In the currency's minor units. */
  valueMinor: number;
}

/** The recording side of the pipeline's metrics. Implementations never throw. */
export interface MetricsRecorder {
  /** `count` notifications of `channel` ended one attempt as `outcome`. */
  notifications(channel: string, outcome: NotificationOutcome, count: number): void;
  /** One attempt at a chunk took `durationMs` (claim → send → record); `settled` is the answer it gave. */
  chunkDelivered(durationMs: number, settled: boolean): void;
  /** A fan-out ended `durationMs` after it started (first claim to completion, continuations included). */
  fanoutEnded(durationMs: number, end: FanoutEnd): void;
  /** One request to the fan-out function ended as `outcome` (`completed`, `ignored`, `rejected`, ...). */
  eventHandled(outcome: string): void;
  /** A task was dispatched `lagMs` after its schedule time (X-CloudTasks-TaskETA). */
  queueLag(lagMs: number, task: TaskKind): void;
  /** An outbox row was published `lagMs` after its stock change was committed. */
  outboxPublished(lagMs: number, path: 'fast-path' | 'sweep'): void;
  /** A shopper's first click on a notification of `channel` was recorded (lib/clicks). */
  clickRecorded(channel: string): void;
  /** The storefront reported an order the first time (a repeat of the same order is not counted again). */
  orderRecorded(order: OrderRecorded): void;
}

/** Records nothing: the CLI, unit tests, and processes with RESTOCK_METRICS_EXPORTER=none. */
export const NO_METRICS: MetricsRecorder = {
  notifications() {},
  chunkDelivered() {},
  fanoutEnded() {},
  eventHandled() {},
  queueLag() {},
  outboxPublished() {},
  clickRecorded() {},
  orderRecorded() {},
};

/** How many notifications of each channel ended each way: one entry per (channel, outcome) seen. Pure. */
export function notificationCounts(
  outcomes: readonly { channel: string; state: 'sent' | 'rejected' | 'failed' | 'exhausted' }[],
): { channel: string; outcome: NotificationOutcome; count: number }[] {
  const counts = new Map<string, { channel: string; outcome: NotificationOutcome; count: number }>();
  for (const { channel, state } of outcomes) {
    const outcome: NotificationOutcome = state === 'failed' ? 'retried' : state;
    const key = `${channel}\u0000${outcome}`;
    const entry = counts.get(key) ?? { channel, outcome, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

/**
 * How late a Cloud Tasks dispatch is: `nowMs` minus the task's schedule time,
 * which Cloud Tasks sends as `X-CloudTasks-TaskETA` (seconds since the epoch,
 * with a fractional part). Undefined when the header is absent or malformed
 * (a caller other than Cloud Tasks); never negative (clocks of two machines). Pure.
 */
export function queueLagMs(etaHeader: string | undefined, nowMs: number): number | undefined {
  if (etaHeader === undefined || !/^\d+(\.\d+)?$/.test(etaHeader.trim())) return undefined;
  return Math.max(0, nowMs - Number(etaHeader.trim()) * 1000);
}
