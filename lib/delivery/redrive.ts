/**
 * Redrive: gives deliveries that ended `exhausted` (or `failed`, or stuck
 * `sending` past their lease) another round of attempts. Their ledger entries
 * go back to `failed` and their recipients are enqueued again, in chunks, under
 * task names that belong to this redrive, so no earlier name hides them.
 */
import { randomUUID } from 'node:crypto';
import { FieldPath } from '@google-cloud/firestore';
import { deliveryAudience } from '../config.ts';
import { COLLECTIONS, type DeliveryDoc, type DeliveryState, type FanoutDoc } from '../model.ts';
import type { Runtime } from '../runtime.ts';
import { enqueueHttpTask } from '../tasks/index.ts';
import { chunk, FanoutNotFoundError, redriveTaskId } from '../fanout/index.ts';
import type { DeliveryTask } from './payload.ts';

export interface RedriveResult {
  eventKey: string;
  states: DeliveryState[];
  /** Ledger entries reset to `failed` (or that would be, with dryRun). */
  deliveries: number;
  /** Delivery tasks created (or that would be). */
  tasks: number;
  dryRun: boolean;
}

const PAGE = 500;

/**
 * Re-enqueues the deliveries of `eventKey` in `states` (default `exhausted`).
 * A `sending` entry is taken only once its lease has expired (its attempt died).
 * @throws FanoutNotFoundError when the event has no fan-out (nothing to take product details from).
 */
export async function redriveDeliveries(
  rt: Runtime,
  eventKey: string,
  options: { states: DeliveryState[]; dryRun: boolean },
): Promise<RedriveResult> {
  const { config } = rt;
  const log = rt.log.child({ eventKey });
  const fanoutSnap = await rt.db.collection(COLLECTIONS.fanouts).doc(eventKey).get();
  if (!fanoutSnap.exists) throw new FanoutNotFoundError(eventKey);
  const fanout = fanoutSnap.data() as FanoutDoc;
  const states = options.states.length > 0 ? options.states : (['exhausted'] as DeliveryState[]);
  const runId = randomUUID().slice(0, 8);
  const result: RedriveResult = { eventKey, states, deliveries: 0, tasks: 0, dryRun: options.dryRun };

  let cursor: string | undefined;
  for (;;) {
    let query = rt.db
      .collection(COLLECTIONS.deliveries)
      .where('eventKey', '==', eventKey)
      .where('state', 'in', states)
      .orderBy(FieldPath.documentId())
      .limit(PAGE);
    if (cursor) query = query.startAfter(cursor);
    const snap = await query.get();
    if (snap.empty) break;
    cursor = snap.docs.at(-1)!.id;
    const nowMs = rt.now();
    const picked = snap.docs.filter((d) => {
      const doc = d.data() as DeliveryDoc;
      return doc.state !== 'sending' || (doc.leaseExpiresAtMs ?? 0) <= nowMs;
    });
    const userIds = [...new Set(picked.map((d) => (d.data() as DeliveryDoc).userId))];
    const chunks = chunk(userIds, config.chunkSize);
    result.deliveries += picked.length;
    result.tasks += chunks.length;
    if (!options.dryRun && picked.length > 0) {
      const batch = rt.db.batch();
      for (const d of picked) batch.update(d.ref, { state: 'failed', leaseExpiresAtMs: null, updatedAtMs: nowMs });
      await batch.commit();
      for (const members of chunks) {
        const body: DeliveryTask = {
          version: 1,
          eventKey,
          productId: fanout.productId,
          generation: fanout.generation,
          product: fanout.product,
          userIds: members,
          ...(fanout.publishTimeMs !== undefined ? { publishTimeMs: fanout.publishTimeMs } : {}),
        };
        await enqueueHttpTask(rt.tasks, config, { taskId: redriveTaskId(eventKey, runId, members), url: config.deliveryUrl, audience: deliveryAudience(config), body });
      }
    }
    if (snap.size < PAGE) break;
  }
  log.info(options.dryRun ? 'redrive planned (dry run)' : 'redrive enqueued', { ...result, productId: fanout.productId });
  return result;
}
