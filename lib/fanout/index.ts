/**
 * Fan-out: turns one restock event into chunked delivery tasks.
 * (Being written; the signatures below are the contract the CLI codes against.)
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';

export interface FanoutProgress {
  pages: number;
  chunks: number;
  recipients: number;
}

export interface ReplayResult extends FanoutProgress {
  eventKey: string;
  productId: string;
  dryRun: boolean;
  /** The generation the replay ran under (part of task names). */
  generation: number;
}

/**
 * Runs the fan-out again for a stored event (`fanouts/{eventKey}.event`) under a
 * new generation, so task names cannot hide a chunk; the delivery ledger skips
 * recipients already settled, so a replay can only fill gaps. With `dryRun`,
 * counts what would be enqueued and writes nothing.
 * @throws FanoutNotFoundError when no fan-out is stored under `eventKey`.
 */
export async function replayFanout(
  _eventKey: string,
  _options: { dryRun: boolean; config: Config; log: Logger; onProgress?: (p: FanoutProgress) => void },
): Promise<ReplayResult> {
  throw new Error('replayFanout: not implemented yet');
}
