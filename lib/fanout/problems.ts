/**
 * The one table from error class to answer for `fanOutRestock`: which
 * failures Pub/Sub (or Cloud Tasks, for a continuation) should redeliver, and
 * after how long. Anything not in the table (Firestore, Cloud Tasks) is a 500
 * whose detail says nothing about the cause (lib/http): redelivered.
 */
import { HTTP_PROBLEMS, problemRow, type ProblemTable } from '../http/index.ts';
import { LeaseHeldError, LeaseLostError } from './errors.ts';

/** Fan-out's problems, its own conditions first, then the generic request problems. */
export const FANOUT_PROBLEMS: ProblemTable = [
  problemRow(LeaseHeldError, {
    status: 503,
    type: 'fanout-lease-held',
    title: 'Fan-out is being run by another attempt',
    headers: (e) => ({ 'retry-after': String(Math.max(1, Math.ceil((e.leaseExpiresAtMs - Date.now()) / 1000))) }),
    extensions: (e) => ({ eventKey: e.eventKey }),
  }),
  problemRow(LeaseLostError, {
    status: 503,
    type: 'fanout-lease-lost',
    title: 'Fan-out was taken over by another attempt',
    extensions: (e) => ({ eventKey: e.eventKey }),
  }),
  ...HTTP_PROBLEMS,
];
