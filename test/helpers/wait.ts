/** Polling until a condition holds, for assertions on asynchronous pipelines. */
import { setTimeout as sleep } from 'node:timers/promises';

/** `waitFor` gave up. `lastValue` is what the predicate returned last (e.g. partial counts). */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastValue: unknown,
    options?: { cause?: unknown },
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(lastValue)}`, options);
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What is awaited, for the error message. */
  what?: string;
}

/**
 * Calls `predicate` until it returns a truthy value and resolves that value.
 * Errors thrown by the predicate count as "not yet" (the last one becomes the
 * `cause`). Throws {@link WaitTimeoutError} after `timeoutMs` (default 30 s).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' }: WaitOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      last = value;
      if (value) return value as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) throw new WaitTimeoutError(what, timeoutMs, last, { cause: lastError });
    await sleep(intervalMs);
  }
}
