/**
 * Whether a Cloud Tasks attempt is its task's last: `X-CloudTasks-TaskRetryCount`
 * counts from 0, so attempt `retryCount + 1` of `maxAttempts` is the last. On
 * it, delivery turns what still fails into `exhausted` and a continuation that
 * cannot finish ends its fan-out `failed`. Pure.
 *
 * `retryCount` is the count, or the header as received: absent (a Pub/Sub
 * push, whose last try is the dead-letter topic's business) or not a whole
 * number is never the last attempt.
 */
export function isLastTaskAttempt(retryCount: number | string | undefined, maxAttempts: number): boolean {
  if (retryCount === undefined) return false;
  const count = Number(retryCount);
  return Number.isInteger(count) && count + 1 >= maxAttempts;
}
