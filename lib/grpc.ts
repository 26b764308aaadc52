/**
 * The one answer to "is this Google API error worth trying again?", used by
 * Firestore transactions, task creation and the subscription store alike, so
 * a code cannot be transient in one place and permanent in another.
 */
import { status } from '@grpc/grpc-js';

/**
 * gRPC codes that say "the call may succeed if made again": the deadline
 * passed, a quota or rate limit hit, contention (ABORTED), a server-side
 * hiccup (INTERNAL), the service unreachable (UNAVAILABLE).
 */
export const TRANSIENT_GRPC_CODES: ReadonlySet<number> = new Set([
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
  status.INTERNAL,
  status.UNAVAILABLE,
]);

/** The numeric gRPC code of an error from a Google client, if it has one. */
export function grpcCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Whether a transaction that failed this way may simply be run again. The
 * Firestore emulator, under concurrent transactions on one document, fails the
 * loser's next call with INVALID_ARGUMENT "Transaction is invalid or closed"
 * (firebase-tools#4473, #6758); production can answer the same for a
 * transaction that outlived its deadline. Both mean "run it again".
 */
export function isClosedTransactionError(err: unknown): boolean {
  const e = err as { details?: unknown; message?: unknown } | null | undefined;
  const text = `${typeof e?.details === 'string' ? e.details : ''} ${typeof e?.message === 'string' ? e.message : ''}`;
  return grpcCode(err) === status.INVALID_ARGUMENT && /transaction is invalid or closed/i.test(text);
}

/** Whether a Google API call that failed with `err` may succeed if made again. */
export function isTransientGrpcError(err: unknown): boolean {
  const code = grpcCode(err);
  return (code !== undefined && TRANSIENT_GRPC_CODES.has(code)) || isClosedTransactionError(err);
}
