/**
 * The Pub/Sub and Cloud Tasks resources the stack creates at start, through
 * the official clients against the emulators (the same calls Terraform's
 * resources make in production).
 */
import { PubSub } from '@google-cloud/pubsub';
import { status } from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { tasksClientOptions } from '../../lib/clients.ts';
import { grpcCode } from '../../lib/grpc.ts';

/** Settings of the push subscription that triggers the fan-out. */
export interface SubscriptionSettings {
  /** Retry backoff of redeliveries (short locally; production uses 10 s–600 s). */
  minimumBackoffSeconds: number;
  maximumBackoffSeconds: number;
  /** Deliveries before a message goes to the dead-letter topic (5..100). */
  maxDeliveryAttempts: number;
  /** How long Pub/Sub waits for the push endpoint to answer (Eventarc uses 600). */
  ackDeadlineSeconds: number;
}

export const DEFAULT_SUBSCRIPTION: SubscriptionSettings = {
  minimumBackoffSeconds: 1,
  maximumBackoffSeconds: 10,
  maxDeliveryAttempts: 5,
  ackDeadlineSeconds: 600,
};

/** Settings of the delivery queue. */
export interface QueueSettings {
  /** Must equal RESTOCK_DELIVERY_MAX_ATTEMPTS (the stack sets both from this). */
  maxAttempts: number;
  minBackoffSeconds: number;
  maxBackoffSeconds: number;
  maxDoublings: number;
  maxDispatchesPerSecond: number;
  maxConcurrentDispatches: number;
}

export const DEFAULT_QUEUE: QueueSettings = {
  maxAttempts: 10,
  minBackoffSeconds: 0.5,
  maxBackoffSeconds: 10,
  maxDoublings: 4,
  maxDispatchesPerSecond: 500,
  // The real default is 1000; two cores and one delivery process locally ask for less.
  maxConcurrentDispatches: 32,
};

/** A PubSub client for an emulator at host:port (ignores PUBSUB_EMULATOR_HOST). */
export function pubsubFor(projectId: string, hostPort: string): PubSub {
  // Locally there is no metadata server; without this the auth library probes for one first.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  return new PubSub({ projectId, apiEndpoint: hostPort, emulatorMode: true });
}

export interface PubSubWiring {
  projectId: string;
  pubsub: string;
  topic: string;
  deadLetterTopic: string;
  subscription: string;
  deadLetterSubscription: string;
  pushEndpoint: string;
  settings: SubscriptionSettings;
  /** The shopper actions' topic and its push subscription to `applyShopperActions` (as inventory-updated → fanOutRestock). */
  shopperActions?: { topic: string; subscription: string; pushEndpoint: string };
}

/**
 * Creates the dead-letter topic with its pull subscription, then the topic and
 * the push subscription to the fan-out function with retry and dead-letter
 * policies. Idempotent: existing resources are left as they are.
 *
 * The topic comes last and its subscription right after it: a message
 * published to a topic with no subscription is acked and dropped, so on an
 * emulator restarted while publishers retry, that gap is kept to the one
 * CreateSubscription call.
 */
export async function wirePubSub(w: PubSubWiring): Promise<void> {
  const client = pubsubFor(w.projectId, w.pubsub);
  try {
    const [deadLetter] = await client.topic(w.deadLetterTopic).get({ autoCreate: true });
    await ensureSubscription(() => deadLetter.createSubscription(w.deadLetterSubscription));
    const [topic] = await client.topic(w.topic).get({ autoCreate: true });
    await ensureSubscription(() =>
      topic.createSubscription(w.subscription, {
        pushConfig: { pushEndpoint: w.pushEndpoint },
        ackDeadlineSeconds: w.settings.ackDeadlineSeconds,
        retryPolicy: {
          minimumBackoff: { seconds: w.settings.minimumBackoffSeconds },
          maximumBackoff: { seconds: w.settings.maximumBackoffSeconds },
        },
        deadLetterPolicy: {
          deadLetterTopic: deadLetter.name,
          maxDeliveryAttempts: w.settings.maxDeliveryAttempts,
        },
      }),
    );
    if (w.shopperActions) {
      const actions = w.shopperActions;
      const [actionsTopic] = await client.topic(actions.topic).get({ autoCreate: true });
      await ensureSubscription(() =>
        actionsTopic.createSubscription(actions.subscription, {
          pushConfig: { pushEndpoint: actions.pushEndpoint },
          ackDeadlineSeconds: w.settings.ackDeadlineSeconds,
          retryPolicy: { minimumBackoff: { seconds: w.settings.minimumBackoffSeconds }, maximumBackoff: { seconds: w.settings.maximumBackoffSeconds } },
        }),
      );
    }
  } finally {
    await client.close();
  }
}

/** Creates a subscription unless it exists: one RPC, so it follows its topic's creation as closely as it can. */
async function ensureSubscription(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (err) {
    if (grpcCode(err) !== status.ALREADY_EXISTS) throw err;
  }
}

/** Creates or updates the delivery queue with the stack's settings (UpdateQueue creates a missing queue). */
export async function configureQueue(tasksHost: string, queueName: string, q: QueueSettings): Promise<void> {
  const client = new CloudTasksClient(tasksClientOptions(tasksHost));
  const seconds = (s: number): { seconds: number; nanos: number } => ({
    seconds: Math.floor(s),
    nanos: Math.round((s % 1) * 1e9),
  });
  try {
    await client.updateQueue({
      queue: {
        name: queueName,
        rateLimits: { maxDispatchesPerSecond: q.maxDispatchesPerSecond, maxConcurrentDispatches: q.maxConcurrentDispatches },
        retryConfig: {
          maxAttempts: q.maxAttempts,
          minBackoff: seconds(q.minBackoffSeconds),
          maxBackoff: seconds(q.maxBackoffSeconds),
          maxDoublings: q.maxDoublings,
        },
      },
      updateMask: {
        paths: [
          'rate_limits.max_dispatches_per_second',
          'rate_limits.max_concurrent_dispatches',
          'retry_config.max_attempts',
          'retry_config.min_backoff',
          'retry_config.max_backoff',
          'retry_config.max_doublings',
        ],
      },
    });
  } finally {
    await client.close();
  }
}
