/**
 * Cloud Tasks, and the contract of the tasks the pipeline enqueues: the
 * delivery task (its body, how it is built, named and enqueued), shared by
 * fan-out, delivery and redrive so none of them imports another for it.
 */
export { enqueueHttpTask, EnqueueError, type HttpTask, type EnqueueResult } from './enqueue.ts';
export {
  deliveryTaskSchema,
  parseDeliveryTask,
  deliveryTaskFor,
  heldDeliveryTask,
  enqueueDeliveryTask,
  InvalidDeliveryTaskError,
  MAX_DELIVERY_TASK_BYTES,
  type DeliveryTask,
  type TaskSource,
} from './delivery-task.ts';
export {
  CONTINUATION_CLOUDEVENT_TYPE,
  continuationTaskSchema,
  enqueueContinuationTask,
  InvalidContinuationTaskError,
  parseContinuationTask,
  type ContinuationBody,
  type ContinuationTask,
} from './continuation-task.ts';
export { isLastTaskAttempt } from './attempts.ts';
export { chunk, chunkTaskId, heldTaskId, continuationTaskId, eventTaskPrefix, rangeContinuationTaskId, redriveTaskId } from './naming.ts';
export {
  continuationQueuePath,
  deliveryQueueFor,
  deliveryQueueId,
  deliveryQueueIds,
  deliveryQueueIndex,
  pipelineQueues,
  type PipelineQueue,
  type QueueNaming,
  type QueueRole,
} from './queues.ts';
export { TASK_SIGNATURE_HEADER, TaskSignatureError, taskSignatureHeaders, verifyTaskSignature } from './signature.ts';
