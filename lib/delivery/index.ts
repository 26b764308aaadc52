/**
 * Delivery: the ledger and the chunk executor.
 * (Being written; the signatures below are the contract the CLI codes against.)
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { DeliveryState } from '../model.ts';

export interface RedriveResult {
  eventKey: string;
  states: DeliveryState[];
  deliveries: number;
  tasks: number;
  dryRun: boolean;
}

/**
 * Re-enqueues the deliveries of `eventKey` in `states` (default `exhausted`):
 * resets them to `failed` and creates delivery tasks for their recipients
 * whose subscriptions still exist. With `dryRun`, counts and writes nothing.
 */
export async function redriveDeliveries(
  _eventKey: string,
  _options: { states: DeliveryState[]; dryRun: boolean; config: Config; log: Logger },
): Promise<RedriveResult> {
  throw new Error('redriveDeliveries: not implemented yet');
}
