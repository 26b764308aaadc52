import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { chunk, chunkTaskId, continuationTaskId, eventTaskPrefix, redriveTaskId } from '../../../lib/tasks/index.ts';
import { dedupKey } from '../../../lib/model.ts';

const TASK_ID = /^[A-Za-z0-9_-]{1,500}$/;

describe('chunking', () => {
  test('cuts in order into runs of at most the size', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });

  test('refuses a size that is not a positive integer', () => {
    expect(() => chunk([1], 0)).toThrow(RangeError);
    expect(() => chunk([1], 1.5)).toThrow(RangeError);
  });

  test('property: chunks concatenate back to the input and none is larger than the size', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.integer({ min: 1, max: 50 }), (items, size) => {
        const chunks = chunk(items, size);
        expect(chunks.flat()).toEqual(items);
        expect(chunks.every((c) => c.length >= 1 && c.length <= size)).toBe(true);
      }),
    );
  });
});

describe('naming chunk tasks', () => {
  test('the same members under the same event and generation give the same name (a retry saves a duplicate task)', () => {
    expect(chunkTaskId('e', 0, ['a', 'b'])).toBe(chunkTaskId('e', 0, ['a', 'b']));
  });

  test('different members, event or generation give different names (a changed chunk is never hidden)', () => {
    const base = chunkTaskId('e', 0, ['a', 'b']);
    expect(chunkTaskId('e', 0, ['a', 'c'])).not.toBe(base);
    expect(chunkTaskId('e', 0, ['a'])).not.toBe(base);
    expect(chunkTaskId('f', 0, ['a', 'b'])).not.toBe(base);
    expect(chunkTaskId('e', 1, ['a', 'b'])).not.toBe(base);
    expect(chunkTaskId('e', 0, ['a,b'])).not.toBe(chunkTaskId('e', 0, ['a', 'b']));
  });

  test('property: names are valid Cloud Tasks ids and distinct member lists never share one', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.array(fc.string({ minLength: 1 }), { minLength: 1 }), fc.array(fc.string({ minLength: 1 }), { minLength: 1 }), (eventKey, a, b) => {
        expect(chunkTaskId(eventKey, 0, a)).toMatch(TASK_ID);
        if (JSON.stringify(a) !== JSON.stringify(b)) expect(chunkTaskId(eventKey, 0, a)).not.toBe(chunkTaskId(eventKey, 0, b));
      }),
    );
  });

  test('continuations are named per cursor and never collide with chunk names', () => {
    expect(continuationTaskId('e', 0, 'u9')).toMatch(TASK_ID);
    expect(continuationTaskId('e', 0, 'u9')).not.toBe(continuationTaskId('e', 0, 'u10'));
    expect(continuationTaskId('e', 0, null)).toContain('-cont-');
  });
});

describe('the dedup key', () => {
  test('is sha256 of productId:userId:createdAtMs:channel in hex: one key per sign-up and channel, whichever restock reaches it', () => {
    // echo -n 'p-1:u-1:1700000000000:email' | sha256sum
    const signup = { productId: 'p-1', userId: 'u-1', createdAtMs: 1_700_000_000_000 };
    expect(dedupKey(signup, 'email')).toBe('7f66e2be210f783253b856ec9df3f45cd5d4bb887ec39e6e06cf88b874968e66');
    expect(dedupKey(signup, 'email')).not.toBe(dedupKey(signup, 'push'));
    // Subscribing again after the subscription was removed is a new sign-up, with keys of its own.
    expect(dedupKey(signup, 'email')).not.toBe(dedupKey({ ...signup, createdAtMs: signup.createdAtMs + 1 }, 'email'));
  });
});

describe('the task prefix of an event', () => {
  test('starts every task id of the event (chunks, continuations, redrives) and no other event’s', () => {
    const prefix = eventTaskPrefix('e1');
    for (const id of [chunkTaskId('e1', 3, ['a']), continuationTaskId('e1', 0, 'x'), redriveTaskId('e1', 'run', ['a'])]) {
      expect(id.startsWith(`${prefix}-`)).toBe(true);
      expect(id).toMatch(TASK_ID);
    }
    expect(chunkTaskId('e2', 0, ['a']).startsWith(`${prefix}-`)).toBe(false);
  });
});
