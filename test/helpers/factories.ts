/**
 * Factories for integration tests: subscribers, inventory events, publishing
 * through Pub/Sub, and pushing a message straight to the fan-out function in
 * each shape it must accept.
 */
import { randomUUID } from 'node:crypto';
import type { SubscriptionDoc } from '../../lib/model.ts';
import {
  inventoryEvent as buildInventoryEvent,
  publishEvent,
  seedProduct,
  seedSubscribers as seedSubscribersInto,
  type InventoryEvent,
  type SeedSubscribersOptions,
  type StackDescription,
} from '../../emulators/stack/index.ts';
import { taskSignatureHeaders } from '../../lib/tasks/index.ts';
import { stack, type StackAccess } from './stack.ts';

export type { InventoryEvent } from '../../emulators/stack/index.ts';

/** A unique product id for one test, so tests can share the stack (and the sink) in parallel. */
export function uniqueProductId(label = 'test'): string {
  return `${label}-${randomUUID().slice(0, 8)}`;
}

/** An `inventory.updated` event: a restock 0 → 25 at sequence 2 of a fresh product, unless overridden. */
export function inventoryEvent(overrides: Partial<InventoryEvent> = {}): InventoryEvent {
  return buildInventoryEvent({ productId: uniqueProductId('product'), ...overrides });
}

export interface SeedOptions extends SeedSubscribersOptions {
  /** Which stack (default the shared one). */
  on?: StackAccess;
  /** Also write `products/{productId}` (default: sold out at sequence 1); false to skip. */
  product?: { available?: number; sequence?: number; name?: string; url?: string } | false;
}

/**
 * Seeds `n` subscribers of `productId` (email channel unless `channels` says
 * otherwise) and, unless `product: false`, the product's stock state.
 */
export async function seedSubscribers(productId: string, n: number, opts: SeedOptions = {}): Promise<SubscriptionDoc[]> {
  const { on = stack(), product = {}, ...rest } = opts;
  if (product !== false) await seedProduct(on.firestore, productId, product);
  return seedSubscribersInto(on.firestore, productId, n, rest);
}

/**
 * Publishes an event to the stack's topic. `attributes` default to a fresh
 * `eventId` (the outbox relay always sets one); pass `{}` for none.
 * Resolves the Pub/Sub messageId.
 */
export async function publish(
  event: InventoryEvent | Record<string, unknown>,
  attributes?: Record<string, string>,
  on: StackAccess = stack(),
): Promise<string> {
  return publishEvent(on.pubsub, on.description.topic, event, attributes);
}

/** A Pub/Sub message as a push delivers it. */
export interface PushMessage {
  /** An object is JSON-encoded; a string or Buffer is sent as is; omit for an attributes-only message. */
  data?: unknown;
  attributes?: Record<string, string>;
  messageId?: string;
  publishTime?: string;
  deliveryAttempt?: number;
}

/** How the message reaches the function. */
export type PushMode = 'push' | 'cloudevent-binary' | 'cloudevent-structured';

const PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

/**
 * POSTs a message straight to the fan-out function: a raw Pub/Sub push body
 * (`push`, as a push subscription sends it), or an Eventarc CloudEvent in
 * binary or structured mode. Resolves the HTTP response (status and body
 * unread).
 */
export async function pushDirect(
  fanOutUrl: string,
  message: PushMessage,
  { mode = 'push', projectId = 'restock-local', topic = 'inventory-updated', subscription = 'fan-out-restock' }: {
    mode?: PushMode;
    projectId?: string;
    topic?: string;
    subscription?: string;
  } = {},
): Promise<Response> {
  const messageId = message.messageId ?? String(Math.floor(Math.random() * 1e15));
  const publishTime = message.publishTime ?? new Date().toISOString();
  const wire: Record<string, unknown> = {
    ...(message.attributes ? { attributes: message.attributes } : {}),
    messageId,
    message_id: messageId,
    publishTime,
    publish_time: publishTime,
  };
  if (message.data !== undefined) wire.data = encodeData(message.data);
  const subscriptionName = `projects/${projectId}/subscriptions/${subscription}`;
  const body = {
    message: wire,
    subscription: subscriptionName,
    ...(message.deliveryAttempt ? { deliveryAttempt: message.deliveryAttempt } : {}),
  };
  const source = `//pubsub.googleapis.com/projects/${projectId}/topics/${topic}`;
  if (mode === 'push') {
    return fetch(fanOutUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  }
  if (mode === 'cloudevent-binary') {
    return fetch(fanOutUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'ce-specversion': '1.0',
        'ce-id': messageId,
        'ce-type': PUBLISHED,
        'ce-source': source,
        'ce-time': publishTime,
      },
      body: JSON.stringify(body),
    });
  }
  const event = {
    specversion: '1.0',
    id: messageId,
    type: PUBLISHED,
    source,
    time: publishTime,
    datacontenttype: 'application/json',
    data: body,
  };
  return fetch(fanOutUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/cloudevents+json' },
    body: JSON.stringify(event),
  });
}

function encodeData(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('base64');
  if (typeof data === 'string') return Buffer.from(data).toString('base64');
  return Buffer.from(JSON.stringify(data)).toString('base64');
}

/**
 * The signature header a task body for `audience` needs on a stack (issue 31,
 * item 1): what fan-out adds under the stack's RESTOCK_TASK_SIGNING_KEYS, for
 * tests that post task bodies themselves.
 */
export function signedTaskHeaders(description: Pick<StackDescription, 'env'>, audience: string, body: string): Record<string, string> {
  const keys = description.env.RESTOCK_TASK_SIGNING_KEYS?.split(',');
  return taskSignatureHeaders(keys ? { taskSigningKeys: keys } : { taskSigningKeys: undefined }, audience, Buffer.from(body));
}
