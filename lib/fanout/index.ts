/**
 * Fan-out: turns one restock event into chunked delivery tasks. The door of
 * the concern: what `functions/fanOutRestock.ts`, the simulation, the CLI and
 * the benchmark use. Everything else in this folder is private to it (tests
 * import the pure rules from their modules).
 *
 * - {@link handleFanoutRequest}: one request to `fanOutRestock`, answered.
 * - {@link replayFanout}: `restock replay`.
 * - the reads the CLI's queries make (fan-outs, ranges, waves, rejected events).
 */
export { answerRefusedFanoutRequest, fanoutAttemptOf, handleFanoutRequest, type FanoutRequest, type RefusedFanoutRequest } from './entry.ts';
export { replayFanout, type FanoutOutcome, type ReplayResult } from './handle.ts';
export { LeaseHeldError, LeaseLostError, FanoutNotFoundError, FanoutNotReplayableError } from './errors.ts';
export { readRejectedEvents, recordRejectedEvent } from './rejected.ts';
export { FANOUT_PROBLEMS } from './problems.ts';
export type { FanoutProgress } from './run.ts';
export { pageSizeFor } from './rules.ts';
export { readFanout, readFanouts, fanoutRef, fanoutsAtSequence, fanoutsOfProduct, failFanout } from './store.ts';
export { readRanges, rangeRef, type RangeRef } from './ranges-store.ts';
export { decideRangeCount } from './ranges.ts';
export { compareFifo, waveDocId } from './wave-rules.ts';
export { wavesOf } from './waves.ts';
