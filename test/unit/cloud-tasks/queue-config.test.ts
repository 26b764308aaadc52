import { describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '../../../emulators/cloud-tasks/errors.ts';
import { burstSizeFor, expandMask, resolveQueueConfig } from '../../../emulators/cloud-tasks/queue-config.ts';

describe('queue settings', () => {
  test('a queue created without settings gets the real defaults', () => {
    const c = resolveQueueConfig({});
    expect(c).toEqual({
      maxDispatchesPerSecond: 500,
      maxBurstSize: 100,
      maxConcurrentDispatches: 1000,
      retry: { maxAttempts: 100, maxRetryDurationMs: 0, minBackoffMs: 100, maxBackoffMs: 3_600_000, maxDoublings: 16 },
      loggingSamplingRatio: undefined,
    });
  });

  test('an update with a mask changes only the masked fields', () => {
    const current = resolveQueueConfig({ 'retry_config.max_attempts': 7, 'rate_limits.max_dispatches_per_second': 20 });
    const updated = resolveQueueConfig({ 'rate_limits.max_dispatches_per_second': 3 }, current, expandMask(['rateLimits.maxDispatchesPerSecond']));
    expect(updated.maxDispatchesPerSecond).toBe(3);
    expect(updated.maxBurstSize).toBe(burstSizeFor(3));
    expect(updated.retry.maxAttempts).toBe(7);
  });

  test('an update without a mask replaces every field, unset ones falling back to defaults', () => {
    const current = resolveQueueConfig({ 'retry_config.max_attempts': 7 });
    const updated = resolveQueueConfig({ 'rate_limits.max_dispatches_per_second': 3 }, current);
    expect(updated.retry.maxAttempts).toBe(100);
    expect(updated.maxDispatchesPerSecond).toBe(3);
  });

  test('a mask naming a whole message covers its fields; snake_case and camelCase both work', () => {
    expect(expandMask(['retry_config']).sort()).toEqual(
      ['retry_config.max_attempts', 'retry_config.max_backoff', 'retry_config.max_doublings', 'retry_config.max_retry_duration', 'retry_config.min_backoff'].sort(),
    );
    expect(expandMask(['retryConfig.minBackoff'])).toEqual(['retry_config.min_backoff']);
  });

  test('output-only fields in a mask are ignored; unknown fields are INVALID_ARGUMENT', () => {
    expect(expandMask(['state', 'rate_limits.max_burst_size'])).toEqual([]);
    expect(() => expandMask(['rate_limits.speed'])).toThrow(InvalidArgumentError);
  });

  test.each([
    ['rate above 500/s', { 'rate_limits.max_dispatches_per_second': 501 }, 'rate_limits.max_dispatches_per_second'],
    ['negative rate', { 'rate_limits.max_dispatches_per_second': -1 }, 'rate_limits.max_dispatches_per_second'],
    ['concurrency above 5000', { 'rate_limits.max_concurrent_dispatches': 5001 }, 'rate_limits.max_concurrent_dispatches'],
    ['max_attempts below -1', { 'retry_config.max_attempts': -2 }, 'retry_config.max_attempts'],
    ['min_backoff above max_backoff', { 'retry_config.min_backoff': 5000, 'retry_config.max_backoff': 1000 }, 'retry_config.min_backoff'],
    ['negative doublings', { 'retry_config.max_doublings': -1 }, 'retry_config.max_doublings'],
    ['sampling ratio above 1', { 'stackdriver_logging_config.sampling_ratio': 1.5 }, 'stackdriver_logging_config.sampling_ratio'],
  ] as const)('%s is refused naming the field', (_why, input, field) => {
    let err: unknown;
    try {
      resolveQueueConfig(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe(field);
  });

  test('unlimited attempts (-1) is a valid setting', () => {
    expect(resolveQueueConfig({ 'retry_config.max_attempts': -1 }).retry.maxAttempts).toBe(-1);
  });
});
