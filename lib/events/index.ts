/** Inventory events: parse and validate whatever shape they arrive in. */
export { InvalidEventError } from './errors.ts';
export { isLastPushAttempt } from './attempts.ts';
export { inventoryEventSchema, EVENT_TYPE, EVENT_VERSION, type InventoryEvent } from './schema.ts';
export {
  parseIncoming,
  readPushMessage,
  decodePushData,
  type PushMessage,
  PUBSUB_CLOUDEVENT_TYPE,
  MAX_EVENT_DATA_BYTES,
  type Incoming,
  type IncomingRequest,
  type ReceivedEvent,
  type Continuation,
} from './parse.ts';
