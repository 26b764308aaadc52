/**
 * The handler behind `applyShopperActions`: one Pub/Sub push in, one answer
 * out. A message that is not an action is acknowledged (200) and logged by
 * field and problem, never by content (it may hold a user id that is an
 * address): Pub/Sub would redeliver the same bytes forever. Firestore being
 * down is a 503, which Pub/Sub retries and then dead-letters.
 */
import { errorToProblemReply, jsonReply, problemRow, type HttpReply, type ProblemTable } from '../http/index.ts';
import { errorFields, log as rootLog, recipientRef, type Logger } from '../log.ts';
import type { MetricsRecorder } from '../metrics/index.ts';
import { StoreUnavailableError, type PendingStore, type SubscriptionStore } from '../subscriptions/index.ts';
import type { IncomingRequest } from '../events/index.ts';
import { applyShopperAction, parseShopperActionPush, type ClickRecorder } from './apply.ts';
import { InvalidShopperActionError } from './errors.ts';

const PROBLEMS: ProblemTable = [
  problemRow(StoreUnavailableError, { status: 503, type: 'unavailable', title: 'Temporarily unavailable', headers: () => ({ 'retry-after': '10' }) }),
];

export interface ShopperActionDeps {
  store: Pick<SubscriptionStore, 'readForPut' | 'deleteSubscription'>;
  /** Pending subscriptions (double opt-in), which a `confirm` action confirms. */
  pending?: Pick<PendingStore, 'confirm'>;
  /** Where `click` actions are recorded (lib/clicks). */
  clicks?: ClickRecorder;
  /** Counts each click recorded (`restock.clicks`); unset, nothing is counted. */
  metrics?: Pick<MetricsRecorder, 'clickRecorded'>;
  logger?: Logger;
}

/** Handles one push; always resolves to an answer. */
export async function handleShopperActionPush(deps: ShopperActionDeps, req: IncomingRequest): Promise<HttpReply> {
  const logger = (deps.logger ?? rootLog).child({ component: 'shopper-actions' });
  try {
    const action = parseShopperActionPush(req);
    const outcome = await applyShopperAction(deps.store, action, deps.pending, deps.clicks);
    logger.info('shopper action applied', { type: action.type, outcome, productId: action.productId, user: recipientRef(action.userId) });
    // Only the first click of a notification: a repeat or a click without a sent notification is no shopper more.
    if (action.type === 'click' && outcome === 'clicked') deps.metrics?.clickRecorded(action.channel);
    return jsonReply(200, { outcome });
  } catch (err) {
    if (err instanceof InvalidShopperActionError) {
      logger.warn('shopper action rejected', { field: err.field, problem: err.problem });
      return jsonReply(200, { outcome: 'rejected', field: err.field, problem: err.problem });
    }
    const reply = errorToProblemReply(err, PROBLEMS);
    logger.error('shopper action failed', { status: reply.status, err: errorFields(err) });
    return reply;
  }
}
