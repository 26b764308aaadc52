/**
 * Where the relay publishes: Pub/Sub, or any stand-in with the same promise
 * (tests, the bench). One attempt is bounded by a timeout, so a Pub/Sub outage
 * costs the relay that long, never more.
 */
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { PublishTimeoutError } from './errors.ts';
import type { OutboundMessage } from './decide.ts';

export interface Publisher {
  /**
   * Publishes one message; resolves to its message id once Pub/Sub has it.
   * @throws PublishTimeoutError when it did not complete within the timeout; any Pub/Sub error as it is.
   */
  publish(message: OutboundMessage): Promise<string>;
}

/**
 * A publisher on `topicName`. Messages are sent as they come (a 5 ms batching
 * window, so a sweep's rows share requests) and each attempt gives up after
 * `timeoutMs`. No ordering key: see docs/outbox.md "Ordering".
 */
export function pubsubPublisher(pubsub: PubSub, topicName: string, options: { timeoutMs: number }): Publisher {
  const topic: Topic = pubsub.topic(topicName, {
    batching: { maxMessages: 100, maxMilliseconds: 5 },
    gaxOpts: { timeout: options.timeoutMs },
  });
  return {
    async publish(message) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PublishTimeoutError(message.attributes.eventId ?? '', options.timeoutMs)), options.timeoutMs);
      });
      try {
        // A publish that outlives the timeout may still reach Pub/Sub later: a duplicate with the
        // same eventId, which the consumers absorb (same dedup keys).
        return await Promise.race([topic.publishMessage({ data: message.data, attributes: message.attributes }), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
