/**
 * The pure parts of lib/metrics: how outcomes become counts per channel and
 * outcome, and how late a Cloud Tasks dispatch is from its ETA header.
 */
import { describe, expect, test } from 'vitest';
import { notificationCounts, queueLagMs } from '../../../lib/metrics/index.ts';

describe('notificationCounts', () => {
  test('counts each channel and outcome once, and names a failed send "retried" (the queue retries it)', () => {
    // Prepare
    const outcomes = [
      { channel: 'email', state: 'sent' as const },
      { channel: 'email', state: 'sent' as const },
      { channel: 'push', state: 'sent' as const },
      { channel: 'email', state: 'failed' as const },
      { channel: 'push', state: 'rejected' as const },
      { channel: 'push', state: 'exhausted' as const },
    ];

    // Act
    const counts = notificationCounts(outcomes);

    // Assess
    expect(counts).toHaveLength(5);
    expect(counts).toEqual(
      expect.arrayContaining([
        { channel: 'email', outcome: 'sent', count: 2 },
        { channel: 'push', outcome: 'sent', count: 1 },
        { channel: 'email', outcome: 'retried', count: 1 },
        { channel: 'push', outcome: 'rejected', count: 1 },
        { channel: 'push', outcome: 'exhausted', count: 1 },
      ]),
    );
  });

  test('counts nothing for a chunk with nothing claimed', () => {
    expect(notificationCounts([])).toEqual([]);
  });
});

describe('queueLagMs', () => {
  test('is the dispatch time minus the ETA Cloud Tasks sends in seconds with a fraction', () => {
    expect(queueLagMs('1700000000.250000', 1_700_000_001_000)).toBe(750);
  });

  test('is undefined without the header or with one that is not a time, so callers other than Cloud Tasks record nothing', () => {
    expect(queueLagMs(undefined, 1_700_000_000_000)).toBeUndefined();
    expect(queueLagMs('soon', 1_700_000_000_000)).toBeUndefined();
    expect(queueLagMs('-5', 1_700_000_000_000)).toBeUndefined();
  });

  test('is never negative when the dispatcher clock is ahead of ours', () => {
    expect(queueLagMs('1700000002', 1_700_000_000_000)).toBe(0);
  });
});
