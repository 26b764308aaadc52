/**
 * Delivery: the ledger and the chunk executor. `deliverRestockBatch` calls
 * {@link parseDeliveryTask}, {@link verifyTaskToken} and {@link deliverChunk};
 * `restock redrive` calls {@link redriveDeliveries}.
 */
export { parseDeliveryTask, InvalidDeliveryTaskError, deliveryTaskSchema, MAX_DELIVERY_TASK_BYTES, type DeliveryTask } from './payload.ts';
export { deliverChunk, type ChunkReport, type AttemptInfo } from './execute.ts';
export { verifyTaskToken, MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError } from '../auth/index.ts';
export { redriveDeliveries, type RedriveResult } from './redrive.ts';
export { deliveryRef } from './ledger.ts';
