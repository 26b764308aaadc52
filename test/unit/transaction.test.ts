import { describe, expect, test } from 'vitest';
import type { Firestore } from '@google-cloud/firestore';
import { isRetryableTransactionError, runTransaction } from '../../lib/transaction.ts';

/** A Firestore whose runTransaction fails with the given errors, then succeeds. */
function flakyDb(failures: unknown[]): { db: Firestore; calls: () => number } {
  let calls = 0;
  const db = {
    runTransaction: async (work: (tx: unknown) => Promise<unknown>) => {
      calls++;
      const failure = failures.shift();
      if (failure) throw failure;
      return work({});
    },
  } as unknown as Firestore;
  return { db, calls: () => calls };
}

const closed = Object.assign(new Error('3 INVALID_ARGUMENT: Transaction is invalid or closed.'), { code: 3, details: 'Transaction is invalid or closed.' });
const aborted = Object.assign(new Error('10 ABORTED: Transaction lock timeout.'), { code: 10 });

describe('transactions', () => {
  test("the emulator's closed-transaction error and ABORTED are retried until the work succeeds", async () => {
    const { db, calls } = flakyDb([closed, aborted]);
    await expect(runTransaction(db, async () => 'done')).resolves.toBe('done');
    expect(calls()).toBe(3);
  });

  test('a domain error thrown by the work is not retried and comes out unchanged', async () => {
    const { db, calls } = flakyDb([]);
    class CapReachedError extends Error {}
    const err = new CapReachedError('cap');
    await expect(runTransaction(db, async () => Promise.reject(err))).rejects.toBe(err);
    expect(calls()).toBe(1);
  });

  test('other INVALID_ARGUMENT errors are not retried', async () => {
    const bad = Object.assign(new Error('3 INVALID_ARGUMENT: Document path is invalid'), { code: 3 });
    const { db, calls } = flakyDb([bad]);
    await expect(runTransaction(db, async () => 1)).rejects.toBe(bad);
    expect(calls()).toBe(1);
  });

  test('gives up after the attempts, with the last error', async () => {
    const { db, calls } = flakyDb([closed, closed, closed]);
    await expect(runTransaction(db, async () => 1, 3)).rejects.toBe(closed);
    expect(calls()).toBe(3);
  });

  test('classifies errors', () => {
    expect(isRetryableTransactionError(closed)).toBe(true);
    expect(isRetryableTransactionError(aborted)).toBe(true);
    expect(isRetryableTransactionError(new Error('x'))).toBe(false);
    expect(isRetryableTransactionError(undefined)).toBe(false);
  });
});
