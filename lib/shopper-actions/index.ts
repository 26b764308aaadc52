/**
 * Shopper actions: what a shopper asks for through a public link (today
 * unsubscribe), published by the public function that verified the link and
 * applied by the private `applyShopperActions`, so the public function holds
 * no database access (issue 31, item 8).
 */
export { clickActionSchema, shopperActionSchema, unsubscribeActionSchema, type ClickAction, type ShopperAction, type ShopperActionType, type UnsubscribeAction } from './schema.ts';
export { InvalidShopperActionError, ShopperActionPublishError } from './errors.ts';
export { pubsubShopperActionPublisher, type ShopperActionPublisher } from './publish.ts';
export { applyShopperAction, parseShopperActionPush, unsubscribeDecision, type ClickRecorder, type ShopperActionOutcome } from './apply.ts';
export { handleShopperActionPush, type ShopperActionDeps } from './handler.ts';
