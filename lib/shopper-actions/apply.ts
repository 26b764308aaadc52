/**
 * Applying shopper actions: what `applyShopperActions` does with each pushed
 * message. Deciding is pure ({@link unsubscribeDecision}); the store carries
 * it out with a conditional delete.
 */
import { decodePushData, InvalidEventError, readPushMessage, type IncomingRequest } from '../events/index.ts';
import type { SubscriptionDoc } from '../model.ts';
import type { ConfirmOutcome, PendingStore, SubscriptionStore } from '../subscriptions/index.ts';
import { firstProblem } from '../validation.ts';
import { InvalidShopperActionError } from './errors.ts';
import { shopperActionSchema, type ClickAction, type ShopperAction, type UnsubscribeAction } from './schema.ts';

/** What became of one action. */
export type ShopperActionOutcome =
  /** The subscription the link named was removed. */
  | 'unsubscribed'
  /** There was none (already unsubscribed, notified, or never there). */
  | 'already-gone'
  /** The shopper subscribed again after the link was issued: the later subscription stays. */
  | 'later-subscription-kept'
  /** What became of a confirmation (double opt-in). */
  | ConfirmOutcome
  /** A tracked link's first click of its notification was recorded / it had been counted before. */
  | 'clicked'
  | 'already-clicked'
  | 'not-notified';

/** Where clicks are recorded (lib/clicks' store), given by the function so this concern does not depend on it. */
export interface ClickRecorder {
  record(click: Omit<ClickAction, 'type' | 'requestedAtMs'> & { clickedAtMs: number }): Promise<'clicked' | 'already-clicked' | 'not-notified'>;
}

/** Whether an unsubscribe removes `current` (pure): only the generation the link was issued for. */
export function unsubscribeDecision(action: Pick<UnsubscribeAction, 'generation'>, current: Pick<SubscriptionDoc, 'createdAtMs'> | undefined): 'delete' | Exclude<ShopperActionOutcome, 'unsubscribed'> {
  if (!current) return 'already-gone';
  return current.createdAtMs === action.generation ? 'delete' : 'later-subscription-kept';
}

/**
 * The action in a Pub/Sub push (raw or CloudEvent, lib/events' one reading of push bodies).
 * @throws InvalidShopperActionError naming the field.
 */
export function parseShopperActionPush(req: IncomingRequest): ShopperAction {
  let data: unknown;
  try {
    const message = readPushMessage(req);
    data = decodePushData(message.data, message.messageId);
  } catch (err) {
    if (err instanceof InvalidEventError) throw new InvalidShopperActionError(err.field, err.problem, { cause: err });
    throw err;
  }
  const parsed = shopperActionSchema.safeParse(data);
  if (!parsed.success) {
    const { field, problem } = firstProblem(parsed.error, data, 'data');
    throw new InvalidShopperActionError(field, problem, { cause: parsed.error });
  }
  return parsed.data;
}

/** Rounds of read-then-conditional-delete before giving up (a PUT racing the unsubscribe each time). */
const ROUNDS = 5;

/**
 * Applies one action. An unsubscribe reads the subscription and deletes it
 * only if it is the generation the link named and unchanged since the read
 * (a PUT in between is read again).
 * @throws StoreUnavailableError (lib/subscriptions) when Firestore is down: the push is retried.
 */
export async function applyShopperAction(
  store: Pick<SubscriptionStore, 'readForPut' | 'deleteSubscription'>,
  action: ShopperAction,
  pending?: Pick<PendingStore, 'confirm'>,
  clicks?: ClickRecorder,
): Promise<ShopperActionOutcome> {
  switch (action.type) {
    case 'click': {
      // Without a click store (a deployment that predates tracked links) the click is not recorded; nothing else depends on it.
      if (!clicks) return 'already-clicked';
      const { type: _type, requestedAtMs, ...click } = action;
      return clicks.record({ ...click, clickedAtMs: requestedAtMs });
    }
    case 'confirm':
      // Without a pending store nothing is ever pending here: the link's request is gone.
      return pending ? pending.confirm(action.productId, action.userId, action.generation, action.requestedAtMs) : 'already-gone';
    case 'unsubscribe': {
      for (let round = 1; ; round++) {
        const { subscription } = await store.readForPut(action.productId, action.userId);
        const decision = unsubscribeDecision(action, subscription?.doc);
        if (decision !== 'delete') return decision;
        if (await store.deleteSubscription(action.productId, action.userId, subscription!.version)) return 'unsubscribed';
        if (round >= ROUNDS) return 'later-subscription-kept';
      }
    }
  }
}
