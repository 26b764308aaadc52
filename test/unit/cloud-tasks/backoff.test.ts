import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { backoffMs, mayRetry, type RetryPolicy } from '../../../emulators/cloud-tasks/backoff.ts';

const policy = (p: Partial<RetryPolicy>): RetryPolicy => ({
  maxAttempts: 100,
  maxRetryDurationMs: 0,
  minBackoffMs: 10_000,
  maxBackoffMs: 300_000,
  maxDoublings: 3,
  ...p,
});

describe('retry backoff', () => {
  test('reproduces the documented example: 10s min, 300s max, 3 doublings → 10, 20, 40, 80, 160, 240, 300, 300 s', () => {
    // Prepare
    const p = policy({});
    // Act
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(p, n) / 1000);
    // Assess
    expect(delays).toEqual([10, 20, 40, 80, 160, 240, 300, 300]);
  });

  test('with zero doublings the interval grows linearly from the minimum', () => {
    const delays = [1, 2, 3, 4].map((n) => backoffMs(policy({ minBackoffMs: 100, maxBackoffMs: 10_000, maxDoublings: 0 }), n));
    expect(delays).toEqual([100, 200, 300, 400]);
  });

  test('the default queue (0.1 s .. 3600 s, 16 doublings) doubles from 100 ms and is capped at an hour', () => {
    const p = policy({ minBackoffMs: 100, maxBackoffMs: 3_600_000, maxDoublings: 16 });
    expect(backoffMs(p, 1)).toBe(100);
    expect(backoffMs(p, 2)).toBe(200);
    expect(backoffMs(p, 10)).toBe(51_200);
    expect(backoffMs(p, 30)).toBe(3_600_000);
  });

  test('delays never decrease, never fall below min nor exceed max', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 200 }),
        (min, extra, doublings, n) => {
          const p = policy({ minBackoffMs: min, maxBackoffMs: min + extra, maxDoublings: doublings });
          const d = backoffMs(p, n);
          expect(d).toBeGreaterThanOrEqual(min);
          expect(d).toBeLessThanOrEqual(min + extra);
          expect(backoffMs(p, n + 1)).toBeGreaterThanOrEqual(d);
        },
      ),
    );
  });
});

describe('when a failed task may be retried', () => {
  test('max_attempts alone: the task stops after that many attempts', () => {
    const p = policy({ maxAttempts: 3 });
    expect(mayRetry(p, 2, 0, 1_000_000)).toBe(true);
    expect(mayRetry(p, 3, 0, 1)).toBe(false);
  });

  test('-1 attempts and no duration limit retries forever', () => {
    expect(mayRetry(policy({ maxAttempts: -1 }), 10_000, 0, 1e12)).toBe(true);
  });

  test('max_retry_duration alone (unlimited attempts): the task stops once that long has passed since its first attempt', () => {
    const p = policy({ maxAttempts: -1, maxRetryDurationMs: 5_000 });
    expect(mayRetry(p, 50, 1_000, 5_999)).toBe(true);
    expect(mayRetry(p, 2, 1_000, 6_000)).toBe(false);
  });

  test('with both limits the task keeps retrying until both are reached', () => {
    const p = policy({ maxAttempts: 3, maxRetryDurationMs: 5_000 });
    expect(mayRetry(p, 3, 0, 4_000)).toBe(true); // attempts used, time left
    expect(mayRetry(p, 2, 0, 9_000)).toBe(true); // time used, attempts left
    expect(mayRetry(p, 3, 0, 5_000)).toBe(false);
  });
});
