/**
 * The retry schedule of a Cloud Tasks queue, as `RetryConfig` documents it:
 * the interval starts at `min_backoff`, doubles `max_doublings` times, then
 * grows linearly by `2^max_doublings * min_backoff` per retry, capped at
 * `max_backoff`. With min 10 s, max 300 s and 3 doublings the retries come
 * after 10, 20, 40, 80, 160, 240, 300, 300... seconds.
 */

/** The retry part of a queue's configuration, in milliseconds. */
export interface RetryPolicy {
  /** -1 = unlimited */
  maxAttempts: number;
  /** 0 = unlimited */
  maxRetryDurationMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  maxDoublings: number;
}

/**
 * Delay before retry number `retry` (1 = the retry after the first failed
 * attempt). Pure; `retry` below 1 is treated as 1.
 */
export function backoffMs(policy: RetryPolicy, retry: number): number {
  const n = Math.max(1, Math.floor(retry));
  const doublings = Math.max(0, policy.maxDoublings);
  const raw =
    n - 1 <= doublings
      ? policy.minBackoffMs * 2 ** (n - 1)
      : policy.minBackoffMs * 2 ** doublings * (n - doublings);
  return Math.min(policy.maxBackoffMs, raw);
}

/**
 * Whether a task that has been attempted `attempts` times, the first at
 * `firstAttemptMs`, may be attempted again at `nowMs`. When both limits are
 * set, the task stops only once both are reached (the real service's rule);
 * -1 attempts or a 0 duration means that limit is absent.
 */
export function mayRetry(policy: RetryPolicy, attempts: number, firstAttemptMs: number, nowMs: number): boolean {
  const attemptsLimited = policy.maxAttempts !== -1;
  const durationLimited = policy.maxRetryDurationMs > 0;
  const attemptsUsed = attemptsLimited && attempts >= policy.maxAttempts;
  const durationUsed = durationLimited && nowMs - firstAttemptMs >= policy.maxRetryDurationMs;
  if (attemptsLimited && durationLimited) return !(attemptsUsed && durationUsed);
  if (attemptsLimited) return !attemptsUsed;
  if (durationLimited) return !durationUsed;
  return true;
}
