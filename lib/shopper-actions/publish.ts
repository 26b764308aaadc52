/**
 * Publishing shopper actions: the public function's only side effect. It
 * holds `roles/pubsub.publisher` on one topic and no database access.
 */
import type { PubSub } from '@google-cloud/pubsub';
import { ShopperActionPublishError } from './errors.ts';
import type { ShopperAction } from './schema.ts';

/** Where shopper actions go; a fake in tests. */
export interface ShopperActionPublisher {
  /** @throws ShopperActionPublishError when the topic does not take it. */
  publish(action: ShopperAction): Promise<void>;
}

/** Publishes each action as one JSON message to `topic`, its `type` also an attribute (for filters and dashboards). */
export function pubsubShopperActionPublisher(pubsub: PubSub, topic: string): ShopperActionPublisher {
  const handle = pubsub.topic(topic);
  return {
    async publish(action) {
      try {
        await handle.publishMessage({ data: Buffer.from(JSON.stringify(action)), attributes: { type: action.type } });
      } catch (cause) {
        throw new ShopperActionPublishError({ cause });
      }
    },
  };
}
