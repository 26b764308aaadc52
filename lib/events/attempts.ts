/**
 * Whether a Pub/Sub push is the last delivery its subscription makes before
 * the message goes to the dead-letter topic. Pub/Sub counts `deliveryAttempt`
 * from 1 and sends it in the push body only when the subscription has a
 * dead-letter policy, whose `max_delivery_attempts` the function is told
 * (RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS). On that attempt a fan-out that cannot
 * finish ends `failed` instead of being left `running` behind a dead letter:
 * the same rule as a continuation's last Cloud Tasks attempt (lib/tasks). Pure.
 *
 * No count (no dead-letter policy, an Eventarc CloudEvent, the Pub/Sub
 * emulator, which omits it) is never the last attempt: the redelivery or the
 * dead-letter alert is then the only signal. Pub/Sub's count is best effort,
 * so any count at or past the limit is taken as the last.
 */
export function isLastPushAttempt(deliveryAttempt: number | undefined, maxDeliveryAttempts: number): boolean {
  return deliveryAttempt !== undefined && Number.isInteger(deliveryAttempt) && deliveryAttempt >= maxDeliveryAttempts;
}
