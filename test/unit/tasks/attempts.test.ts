import { describe, expect, test } from 'vitest';
import { isLastTaskAttempt } from '../../../lib/tasks/index.ts';

describe('the last attempt of a Cloud Tasks task', () => {
  test('is attempt retryCount + 1 = maxAttempts (the header counts from 0), whether given as a number or as the header', () => {
    expect(isLastTaskAttempt(8, 10)).toBe(false);
    expect(isLastTaskAttempt(9, 10)).toBe(true);
    expect(isLastTaskAttempt('9', 10)).toBe(true);
    expect(isLastTaskAttempt('0', 1)).toBe(true);
  });

  test('is never a request without the header (a Pub/Sub push) or with a header that is not a whole number', () => {
    expect(isLastTaskAttempt(undefined, 1)).toBe(false);
    expect(isLastTaskAttempt('x', 1)).toBe(false);
    expect(isLastTaskAttempt('1.5', 1)).toBe(false);
  });
});
