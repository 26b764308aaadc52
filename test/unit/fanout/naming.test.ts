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
  test('is sha256 of eventKey:userId:channel in hex', () => {
    // echo -n 'm-1:u-1:email' | sha256sum
    expect(dedupKey('m-1', 'u-1', 'email')).toBe('f0c65bd7dc0985b5f69e0e103d6c57d0591040cf518949f1cc0753e04698d04e');
    expect(dedupKey('m-1', 'u-1', 'email')).not.toBe(dedupKey('m-1', 'u-1', 'push'));
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
