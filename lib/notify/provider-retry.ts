/**
 * Retrying one request to a push provider (FCM, a web push service) within
 * the call, the same way for each: p-retry's backoff as the floor, the
 * provider's Retry-After as the wait when it gives one, and an answer whose
 * Retry-After is longer than the delivery may wait left to Cloud Tasks'
 * retry instead of held here.
 */
import pRetry from 'p-retry';

export interface ProviderRetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** The longest Retry-After waited for within the call. */
  maxRetryAfterMs: number;
  /** The Retry-After an attempt's error carries (undefined: none, retried on the backoff alone). */
  retryAfterOf(error: unknown): number | undefined;
}

/** Runs `attempt` until it resolves or may not be retried any more; rejects with its last error. */
export function withProviderRetries<T>(attempt: () => Promise<T>, o: ProviderRetryOptions): Promise<T> {
  return pRetry(attempt, {
    retries: o.retries,
    minTimeout: 200,
    maxTimeout: 2000,
    randomize: true,
    shouldRetry: ({ error }) => (o.retryAfterOf(error) ?? 0) <= o.maxRetryAfterMs,
    onFailedAttempt: async ({ error, retriesLeft }) => {
      const after = o.retryAfterOf(error);
      if (retriesLeft > 0 && after !== undefined && after <= o.maxRetryAfterMs) await new Promise((r) => setTimeout(r, after));
    },
  });
}
