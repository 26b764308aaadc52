/**
 * A queue's settings: the real service's defaults and bounds, and how
 * CreateQueue / UpdateQueue (with or without an update mask) combine what the
 * caller sent with what the queue had. Pure.
 */
import type { RetryPolicy } from './backoff.ts';
import { InvalidArgumentError } from './errors.ts';

/** A queue's effective settings, durations in milliseconds. */
export interface QueueConfig {
  maxDispatchesPerSecond: number;
  /** Output only: derived from the rate, as the real service does. */
  maxBurstSize: number;
  maxConcurrentDispatches: number;
  retry: RetryPolicy;
  /** 0..1; only echoed back, the emulator writes no Cloud Logging entries. */
  loggingSamplingRatio: number | undefined;
}

/** The settings a request carried; `undefined` = not given (proto3 zero). */
export type QueueSettingsInput = {
  [K in SettingPath]?: number;
};

/** Defaults of a queue created without settings (the real service's). */
export const QUEUE_DEFAULTS = {
  maxDispatchesPerSecond: 500,
  maxConcurrentDispatches: 1000,
  maxAttempts: 100,
  maxRetryDurationMs: 0,
  minBackoffMs: 100,
  maxBackoffMs: 3_600_000,
  maxDoublings: 16,
} as const;

/** Upper bounds the real service enforces. */
export const QUEUE_LIMITS = { maxDispatchesPerSecond: 500, maxConcurrentDispatches: 5000 } as const;

/** The mask paths (snake_case, as in the proto) of every settable field. */
export const SETTING_PATHS = [
  'rate_limits.max_dispatches_per_second',
  'rate_limits.max_concurrent_dispatches',
  'retry_config.max_attempts',
  'retry_config.max_retry_duration',
  'retry_config.min_backoff',
  'retry_config.max_backoff',
  'retry_config.max_doublings',
  'stackdriver_logging_config.sampling_ratio',
] as const;
export type SettingPath = (typeof SETTING_PATHS)[number];

/** Paths that UpdateQueue accepts but ignores (output only or App Engine only). */
const IGNORED_PATHS = ['name', 'state', 'purge_time', 'rate_limits.max_burst_size', 'app_engine_routing_override'];

/**
 * The burst size the emulator derives from a rate. The real service picks it
 * from the rate without documenting the rule; it reports 100 for the default
 * 500/s, which this reproduces (rate / 5, at least 1, at most 500).
 */
export function burstSizeFor(maxDispatchesPerSecond: number): number {
  return Math.min(500, Math.max(1, Math.ceil(maxDispatchesPerSecond / 5)));
}

function camelToSnake(segment: string): string {
  return segment.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Expands update-mask paths (snake_case or lowerCamelCase) to the setting
 * paths they cover. Throws {@link InvalidArgumentError} on an unknown path.
 */
export function expandMask(paths: readonly string[]): SettingPath[] {
  const out = new Set<SettingPath>();
  for (const raw of paths) {
    const path = raw.split('.').map(camelToSnake).join('.');
    const covered = SETTING_PATHS.filter((p) => p === path || p.startsWith(`${path}.`));
    if (covered.length === 0 && !IGNORED_PATHS.some((p) => p === path || p.startsWith(`${path}.`))) {
      throw new InvalidArgumentError(`Unknown field in update_mask: "${raw}".`, 'update_mask');
    }
    covered.forEach((p) => out.add(p));
  }
  return [...out];
}

function flatten(config: QueueConfig): Record<SettingPath, number | undefined> {
  return {
    'rate_limits.max_dispatches_per_second': config.maxDispatchesPerSecond,
    'rate_limits.max_concurrent_dispatches': config.maxConcurrentDispatches,
    'retry_config.max_attempts': config.retry.maxAttempts,
    'retry_config.max_retry_duration': config.retry.maxRetryDurationMs,
    'retry_config.min_backoff': config.retry.minBackoffMs,
    'retry_config.max_backoff': config.retry.maxBackoffMs,
    'retry_config.max_doublings': config.retry.maxDoublings,
    'stackdriver_logging_config.sampling_ratio': config.loggingSamplingRatio,
  };
}

/**
 * The queue's settings after a create (no `current`) or an update: with a
 * mask, only the masked fields change; without one, every field is replaced
 * (the API's rule), and a field not given falls back to its default.
 * Throws {@link InvalidArgumentError} for values outside the real bounds.
 */
export function resolveQueueConfig(input: QueueSettingsInput, current?: QueueConfig, mask?: readonly SettingPath[]): QueueConfig {
  const merged: QueueSettingsInput = current && mask ? { ...flatten(current) } : {};
  for (const path of current && mask ? mask : SETTING_PATHS) merged[path] = input[path];
  const pick = (path: SettingPath, fallback: number): number => {
    const v = merged[path];
    return v === undefined || v === 0 ? fallback : v;
  };
  const config: QueueConfig = {
    maxDispatchesPerSecond: pick('rate_limits.max_dispatches_per_second', QUEUE_DEFAULTS.maxDispatchesPerSecond),
    maxBurstSize: 0,
    maxConcurrentDispatches: pick('rate_limits.max_concurrent_dispatches', QUEUE_DEFAULTS.maxConcurrentDispatches),
    retry: {
      maxAttempts: pick('retry_config.max_attempts', QUEUE_DEFAULTS.maxAttempts),
      maxRetryDurationMs: pick('retry_config.max_retry_duration', QUEUE_DEFAULTS.maxRetryDurationMs),
      minBackoffMs: pick('retry_config.min_backoff', QUEUE_DEFAULTS.minBackoffMs),
      maxBackoffMs: pick('retry_config.max_backoff', QUEUE_DEFAULTS.maxBackoffMs),
      maxDoublings: pick('retry_config.max_doublings', QUEUE_DEFAULTS.maxDoublings),
    },
    loggingSamplingRatio: merged['stackdriver_logging_config.sampling_ratio'],
  };
  validate(config);
  config.maxBurstSize = burstSizeFor(config.maxDispatchesPerSecond);
  return config;
}

function invalid(field: string, problem: string): never {
  throw new InvalidArgumentError(`${field} ${problem}`, field);
}

function validate(c: QueueConfig): void {
  const r = c.retry;
  if (!(c.maxDispatchesPerSecond > 0) || c.maxDispatchesPerSecond > QUEUE_LIMITS.maxDispatchesPerSecond) {
    invalid('rate_limits.max_dispatches_per_second', `must be in (0, ${QUEUE_LIMITS.maxDispatchesPerSecond}] (got ${c.maxDispatchesPerSecond}).`);
  }
  if (!Number.isInteger(c.maxConcurrentDispatches) || c.maxConcurrentDispatches < 1 || c.maxConcurrentDispatches > QUEUE_LIMITS.maxConcurrentDispatches) {
    invalid('rate_limits.max_concurrent_dispatches', `must be in [1, ${QUEUE_LIMITS.maxConcurrentDispatches}] (got ${c.maxConcurrentDispatches}).`);
  }
  if (!Number.isInteger(r.maxAttempts) || r.maxAttempts < -1) invalid('retry_config.max_attempts', `must be -1 (unlimited) or positive (got ${r.maxAttempts}).`);
  if (r.maxRetryDurationMs < 0) invalid('retry_config.max_retry_duration', 'must not be negative.');
  if (r.minBackoffMs < 0) invalid('retry_config.min_backoff', 'must not be negative.');
  if (r.maxBackoffMs < 0) invalid('retry_config.max_backoff', 'must not be negative.');
  if (r.minBackoffMs > r.maxBackoffMs) {
    invalid('retry_config.min_backoff', `must not exceed max_backoff (${r.minBackoffMs} ms > ${r.maxBackoffMs} ms).`);
  }
  if (!Number.isInteger(r.maxDoublings) || r.maxDoublings < 0) invalid('retry_config.max_doublings', `must be a non-negative integer (got ${r.maxDoublings}).`);
  const ratio = c.loggingSamplingRatio;
  if (ratio !== undefined && (ratio < 0 || ratio > 1)) invalid('stackdriver_logging_config.sampling_ratio', `must be in [0, 1] (got ${ratio}).`);
}
