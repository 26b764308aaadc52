/** The notification sink: what the local stack and tests may use. */
export { startSink, type SinkOptions, type SinkServer } from './server.ts';
export {
  MAX_BATCH_ITEMS,
  SEND_PATH,
  rejectionByRule,
  sendRequestSchema,
  type ItemResult,
  type ItemStatus,
  type Notification,
  type Problem,
  type SendRequest,
  type SendResponse,
} from './contract.ts';
export type { FaultProfile } from './faults.ts';
export type { ConfirmationRecord, NotificationRecord, SinkStats } from './store.ts';
