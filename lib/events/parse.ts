/**
 * Reads an inventory event out of whatever shape it arrives in:
 *
 * - a raw Pub/Sub push body `{ message, subscription }` (what a push
 *   subscription sends, and what the local stack uses);
 * - an Eventarc `google.cloud.pubsub.topic.v1.messagePublished` CloudEvent,
 *   binary mode (`ce-*` headers) or structured (`application/cloudevents+json`);
 * - a message with no `data` whose fields are all attributes;
 * - a fan-out continuation, a CloudEvent the fan-out sends itself through
 *   Cloud Tasks when it nears its time limit.
 *
 * Everything that cannot be understood becomes an {@link InvalidEventError}
 * naming the field; nothing here throws anything else.
 */
import { InvalidEventError } from './errors.ts';
import { inventoryEventSchema, type InventoryEvent } from './schema.ts';
import { firstProblem } from '../validation.ts';
import { isValidDocumentId } from '../model.ts';
import { CONTINUATION_CLOUDEVENT_TYPE, InvalidContinuationTaskError, parseContinuationTask, type ContinuationBody } from '../tasks/index.ts';

export const PUBSUB_CLOUDEVENT_TYPE = 'google.cloud.pubsub.topic.v1.messagePublished';
/** Largest decoded `message.data` accepted; inventory events are a few hundred bytes. */
export const MAX_EVENT_DATA_BYTES = 64 * 1024;

/** The parts of an HTTP request the parser needs (no framework types). */
export interface IncomingRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The body as the framework parsed it: an object for JSON, else a Buffer/string or undefined. */
  body: unknown;
  rawBody?: Buffer;
}

/** A Pub/Sub message carrying a valid inventory event. */
export interface ReceivedEvent {
  kind: 'event';
  /** `eventId` attribute when the producer set one, else the messageId (docs/design.md "Identity of an event"). */
  eventKey: string;
  messageId: string;
  publishTimeMs?: number;
  /** The push body's `deliveryAttempt` (from 1), sent only by a subscription with a dead-letter policy. */
  deliveryAttempt?: number;
  attributes: Record<string, string>;
  event: InventoryEvent;
}

/** The fan-out's own request to go on from its checkpoint (the body lib/tasks' continuation contract defines). */
export interface Continuation extends ContinuationBody {
  kind: 'continuation';
}

export type Incoming = ReceivedEvent | Continuation;

function header(headers: IncomingRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function bodyObject(req: IncomingRequest): Record<string, unknown> {
  let body = req.body;
  if (Buffer.isBuffer(body) || typeof body === 'string') {
    const text = body.toString();
    if (text.trim() === '') throw new InvalidEventError('body', 'is empty');
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new InvalidEventError('body', 'is not JSON', undefined, { cause: err });
    }
  }
  if (body === undefined || body === null || (isObject(body) && Object.keys(body).length === 0 && !req.rawBody?.length)) {
    throw new InvalidEventError('body', 'is empty');
  }
  if (!isObject(body)) throw new InvalidEventError('body', 'must be a JSON object');
  return body;
}

/** Pulls the Pub/Sub message out of a push body or a CloudEvent. */
function pubsubEnvelope(req: IncomingRequest, body: Record<string, unknown>): Record<string, unknown> {
  const binaryType = header(req.headers, 'ce-type');
  const contentType = header(req.headers, 'content-type') ?? '';
  if (binaryType !== undefined) {
    if (binaryType !== PUBSUB_CLOUDEVENT_TYPE) {
      throw new InvalidEventError('ce-type', `unsupported CloudEvent type "${binaryType}"`);
    }
    return body;
  }
  if (contentType.startsWith('application/cloudevents+json') || ('specversion' in body && 'type' in body)) {
    if (body.type !== PUBSUB_CLOUDEVENT_TYPE) {
      throw new InvalidEventError('type', `unsupported CloudEvent type ${JSON.stringify(body.type)}`);
    }
    if (!isObject(body.data)) throw new InvalidEventError('data', 'must be the Pub/Sub message payload object');
    return body.data;
  }
  return body;
}

function stringMap(v: unknown, field: string, eventKey?: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new InvalidEventError(field, 'must be an object of strings', eventKey);
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value !== 'string') throw new InvalidEventError(`${field}.${k}`, 'must be a string', eventKey);
    out[k] = value;
  }
  return out;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
const EVENT_ATTRIBUTES = ['type', 'version', 'productId', 'available', 'previousAvailable', 'sequence', 'occurredAt'];

/** An attributes-only message: the event's fields are attributes (numbers as strings). */
function eventFromAttributes(attributes: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of EVENT_ATTRIBUTES) {
    const v = attributes[key];
    if (v === undefined) continue;
    out[key] = key !== 'productId' && key !== 'type' && key !== 'occurredAt' && NUMERIC.test(v) ? Number(v) : v;
  }
  return out;
}

function decodeData(data: unknown, eventKey: string): unknown {
  if (typeof data !== 'string') throw new InvalidEventError('message.data', 'must be a base64 string', eventKey);
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(data)) throw new InvalidEventError('message.data', 'is not base64', eventKey);
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > MAX_EVENT_DATA_BYTES) {
    throw new InvalidEventError('message.data', `is larger than ${MAX_EVENT_DATA_BYTES} bytes`, eventKey);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new InvalidEventError('message.data', 'is not valid UTF-8', eventKey, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidEventError('message.data', 'is not JSON', eventKey, { cause: err });
  }
}

function eventKeyOf(attributes: Record<string, string>, messageId: string): string {
  const key = attributes.eventId ?? messageId;
  if (key.length > 500 || !isValidDocumentId(key)) {
    throw new InvalidEventError(attributes.eventId !== undefined ? 'message.attributes.eventId' : 'message.messageId', 'must be at most 500 characters and usable as a Firestore document id', undefined);
  }
  return key;
}

/**
 * Parses one request to `fanOutRestock`.
 * @throws InvalidEventError for anything that is not a valid event or continuation.
 */
export function parseIncoming(req: IncomingRequest): Incoming {
  const body = bodyObject(req);
  if (header(req.headers, 'ce-type') === CONTINUATION_CLOUDEVENT_TYPE) {
    // The fan-out's own task: its contract (lib/tasks) reads it; what is wrong is poison like any bad event.
    try {
      return { kind: 'continuation', ...parseContinuationTask(body) };
    } catch (err) {
      if (!(err instanceof InvalidContinuationTaskError)) throw err;
      throw new InvalidEventError(err.field, err.problem, undefined, { cause: err });
    }
  }

  const pushed = readPushMessageOf(req, body);
  const { messageId, attributes } = pushed;
  const eventKey = eventKeyOf(attributes, messageId);
  const message = { data: pushed.data };

  const rawEvent = message.data === undefined || message.data === '' ? eventFromAttributes(attributes) : decodeData(message.data, eventKey);
  if (!isObject(rawEvent)) throw new InvalidEventError('message.data', 'must be a JSON object', eventKey);
  const parsed = inventoryEventSchema.safeParse(rawEvent);
  if (!parsed.success) {
    const { field, problem } = firstProblem(parsed.error, rawEvent, message.data === undefined || message.data === '' ? 'message.attributes' : 'data');
    throw new InvalidEventError(field, problem, eventKey, { cause: parsed.error });
  }

  return {
    kind: 'event',
    eventKey,
    messageId,
    attributes,
    event: parsed.data,
    ...(pushed.publishTimeMs !== undefined ? { publishTimeMs: pushed.publishTimeMs } : {}),
    ...(pushed.deliveryAttempt !== undefined ? { deliveryAttempt: pushed.deliveryAttempt } : {}),
  };
}

/** One Pub/Sub message as a push (raw or as an Eventarc CloudEvent) delivers it; `data` still base64, as sent. */
export interface PushMessage {
  messageId: string;
  attributes: Record<string, string>;
  /** `message.data` as received (a base64 string, or absent): {@link decodePushData} reads it. */
  data: unknown;
  publishTimeMs?: number;
  /** The push body's `deliveryAttempt` (from 1), sent only by a subscription with a dead-letter policy. */
  deliveryAttempt?: number;
}

function readPushMessageOf(req: IncomingRequest, body: Record<string, unknown>): PushMessage {
  const envelope = pubsubEnvelope(req, body);
  const message = envelope.message;
  if (!isObject(message)) throw new InvalidEventError('message', 'is required (a Pub/Sub push body or messagePublished CloudEvent)');
  const messageId = message.messageId ?? message.message_id;
  if (typeof messageId !== 'string' || messageId === '') throw new InvalidEventError('message.messageId', 'is required');
  const attributes = stringMap(message.attributes, 'message.attributes');
  const publishTime = message.publishTime ?? message.publish_time;
  const publishTimeMs = typeof publishTime === 'string' ? Date.parse(publishTime) : NaN;
  const deliveryAttempt = typeof envelope.deliveryAttempt === 'number' ? envelope.deliveryAttempt : undefined;
  return {
    messageId,
    attributes,
    data: message.data,
    ...(Number.isFinite(publishTimeMs) ? { publishTimeMs } : {}),
    ...(deliveryAttempt !== undefined ? { deliveryAttempt } : {}),
  };
}

/**
 * The Pub/Sub message of a push request, whatever its envelope (raw push,
 * Eventarc binary or structured CloudEvent): the one reading of push bodies,
 * for inventory events here and for any other topic a function is pushed
 * (lib/shopper-actions).
 * @throws InvalidEventError naming the field for anything that is not a push of one message.
 */
export function readPushMessage(req: IncomingRequest): PushMessage {
  return readPushMessageOf(req, bodyObject(req));
}

/**
 * A message's `data` decoded: base64, at most {@link MAX_EVENT_DATA_BYTES},
 * UTF-8, JSON. `key` names the message in the error.
 * @throws InvalidEventError naming `message.data`.
 */
export function decodePushData(data: unknown, key: string): unknown {
  return decodeData(data, key);
}
