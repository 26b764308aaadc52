import { describe, expect, test } from 'vitest';
import { TokenBucket } from '../../../emulators/cloud-tasks/token-bucket.ts';

describe('dispatch token bucket', () => {
  test('a full bucket allows a burst of its capacity, then nothing until it refills', () => {
    // Prepare
    const bucket = new TokenBucket(2, 3, 0);
    // Act
    const burst = [0, 0, 0, 0].map(() => bucket.tryTake(0));
    // Assess
    expect(burst).toEqual([true, true, true, false]);
    expect(bucket.msUntilToken(0)).toBe(500);
  });

  test('refills at the rate: 2/s gives one token every 500 ms', () => {
    const bucket = new TokenBucket(2, 1, 0);
    expect(bucket.tryTake(0)).toBe(true);
    expect(bucket.tryTake(499)).toBe(false);
    expect(bucket.tryTake(500)).toBe(true);
  });

  test('never holds more than its capacity however long it idles', () => {
    const bucket = new TokenBucket(100, 2, 0);
    const taken = [1, 2, 3].map(() => bucket.tryTake(3_600_000)).filter(Boolean).length;
    expect(taken).toBe(2);
  });

  test('over a long run the number of dispatches matches rate × time + burst', () => {
    const bucket = new TokenBucket(5, 1, 0);
    let taken = 0;
    for (let t = 0; t <= 10_000; t += 10) if (bucket.tryTake(t)) taken++;
    expect(taken).toBe(51);
  });

  test('reconfiguring lowers the capacity immediately', () => {
    const bucket = new TokenBucket(10, 10, 0);
    bucket.reconfigure(1, 1, 0);
    expect([bucket.tryTake(0), bucket.tryTake(0)]).toEqual([true, false]);
  });
});
