/**
 * Redrive: gives deliveries that ended `exhausted` (or `failed`, or stuck
 * `sending` past their lease) another round of attempts by enqueueing their
 * recipients again, in chunks, under task names that belong to this redrive,
 * so no earlier name hides them.
 *
 * Nothing is written to the ledger: the redrive's task itself is what lets
 * delivery reopen an `exhausted` entry (rules.ts `mayClaim`). So a
 * redrive whose enqueue fails leaves every entry as it was, and running it
 * again finds the same entries: safe to repeat.
 */
import { randomUUID } from 'node:crypto';
import type { DeliveryDoc } from '../model.ts';
import type { Runtime } from '../runtime.ts';
import { chunk, deliveryTaskFor, enqueueDeliveryTask, redriveTaskId } from '../tasks/index.ts';
import { readFanout } from '../fanout/index.ts';
import { pageOfEntries } from './ledger.ts';
import { planRedrive, redriveStates } from './rules.ts';
import type { RedrivableState } from '../model.ts';

/** What a redrive did (or, with `dryRun`, would do). */
export interface RedriveResult {
  eventKey: string;
  states: RedrivableState[];
  /** Ledger entries taken (or that would be, with dryRun). */
  deliveries: number;
  /** Delivery tasks created (or that would be). */
  tasks: number;
  dryRun: boolean;
}

const PAGE = 500;

/**
 * Re-enqueues the deliveries of `eventKey` in `states` (default `exhausted`).
 * A `sending` entry is taken only once its lease has expired (its attempt died).
 * @throws NotRedrivableError when a state may not be redriven (checked before anything is read).
 * @throws FanoutNotFoundError when the event has no fan-out (nothing to take product details from).
 * @throws EnqueueError when the queue refuses; the ledger is unchanged, so the redrive can simply be run again.
 */
export async function redriveDeliveries(rt: Runtime, eventKey: string, options: { states: readonly string[]; dryRun: boolean }): Promise<RedriveResult> {
  const states = redriveStates(options.states);
  const { config } = rt;
  const log = rt.log.child({ eventKey });
  const fanout = await readFanout(rt.db, eventKey);
  const runId = randomUUID().slice(0, 8);
  const result: RedriveResult = { eventKey, states, deliveries: 0, tasks: 0, dryRun: options.dryRun };

  let cursor: string | undefined;
  for (;;) {
    const docs = await pageOfEntries(rt.db, eventKey, states, PAGE, cursor, fanout.ledgerShards ?? config.ledgerShards);
    if (docs.length === 0) break;
    cursor = docs.at(-1)!.id;
    const { picked, userIds } = planRedrive(docs.map((d) => d.data() as DeliveryDoc), states, rt.now());
    const chunks = chunk(userIds, config.chunkSize);
    if (!options.dryRun) {
      for (const members of chunks) {
        await enqueueDeliveryTask(rt.tasks, config, redriveTaskId(eventKey, runId, members), deliveryTaskFor(fanout, members, runId));
      }
    }
    result.deliveries += picked.length;
    result.tasks += chunks.length;
    if (docs.length < PAGE) break;
  }
  log.info(options.dryRun ? 'redrive planned (dry run)' : 'redrive enqueued', { ...result, productId: fanout.productId });
  return result;
}
