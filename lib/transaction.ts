/**
 * Firestore transactions, retried a little more widely than the client does.
 *
 * The client retries a transaction that ends ABORTED (contention). The
 * Firestore emulator, under concurrent transactions on one document, instead
 * fails the loser's next call with INVALID_ARGUMENT "Transaction is invalid or
 * closed" (firebase-tools#4473, #6758); production can answer the same for a
 * transaction that outlived its deadline. Both mean "run it again", so they
 * are retried here, a few times with jittered backoff, before giving up.
 */
import type { Firestore, Transaction } from '@google-cloud/firestore';
import pRetry, { AbortError } from 'p-retry';
import { isTransientGrpcError } from './grpc.ts';

/** Whether a failed transaction may simply be run again: the one classifier of `lib/grpc.ts`. */
export const isRetryableTransactionError: (err: unknown) => boolean = isTransientGrpcError;

/**
 * Runs `work` in a transaction (which the client itself retries on ABORTED),
 * and runs the whole again on the errors {@link isRetryableTransactionError}
 * accepts. Errors thrown by `work` itself (domain errors) are never retried.
 */
export async function runTransaction<T>(db: Firestore, work: (tx: Transaction) => Promise<T>, attempts = 4): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await db.runTransaction(work);
      } catch (err) {
        if (isRetryableTransactionError(err)) throw err;
        throw new AbortError(err as Error);
      }
    },
    { retries: attempts - 1, minTimeout: 50, maxTimeout: 1000, randomize: true },
  );
}
