/**
 * The one table from error class to answer for `deliverRestockBatch`: which
 * failures Cloud Tasks retries (any non-2xx is retried up to the queue's
 * limits) and which it need not. Anything not in the table is a 500 whose
 * detail says nothing about the cause (lib/http).
 */
import { HTTP_PROBLEMS, problemRow, type ProblemTable } from '../http/index.ts';
import { InvalidDeliveryTaskError } from '../tasks/index.ts';
import { AUTH_PROBLEMS } from '../auth/index.ts';
import type { ChunkReport } from './execute.ts';

/** A chunk attempt left something retryable (failed sends, recipients leased by another attempt): 503 so Cloud Tasks retries it. */
export class ChunkNotSettledError extends Error {
  override readonly name = 'ChunkNotSettledError';
  constructor(readonly report: ChunkReport) {
    super(`${report.failed} notification(s) failed and ${report.busy} are being sent by another attempt; the chunk will be retried`);
  }
}

/** Delivery's problems, its own conditions first, then the generic request problems. */
export const DELIVERY_PROBLEMS: ProblemTable = [
  problemRow(ChunkNotSettledError, {
    status: 503,
    type: 'chunk-not-settled',
    title: 'Chunk not settled; retry',
    extensions: (e) => ({ report: e.report }),
  }),
  // Who may call: the same answers as fan-out's (lib/auth).
  ...AUTH_PROBLEMS,
  problemRow(InvalidDeliveryTaskError, { status: 400, type: 'invalid-delivery-task', title: 'Invalid delivery task' }),
  ...HTTP_PROBLEMS,
];
