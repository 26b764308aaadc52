/**
 * The bad-input corpus: requests that must never crash an entry point, loop,
 * or be mistaken for valid input. Each is sent as raw bytes with its own
 * headers, so shapes a well-behaved client cannot produce (truncated JSON,
 * invalid UTF-8, a lying Content-Encoding) are covered too.
 */

/** One malformed request. */
export interface BadRequest {
  name: string;
  headers: Record<string, string>;
  body: string | Uint8Array<ArrayBuffer>;
  /** A part of the field the rejection must name (e.g. `productId`), when the corpus knows it. */
  field: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const PUBLISHED = 'google.cloud.pubsub.topic.v1.messagePublished';

let serial = 0;
/** A fresh messageId, so every corpus entry is its own rejected event. */
function messageId(): string {
  serial += 1;
  return `bad-${Date.now().toString(36)}-${serial}`;
}

function b64(data: string | Uint8Array): string {
  return Buffer.from(data).toString('base64');
}

/** A raw Pub/Sub push body around `message` fields (messageId added unless given). */
function push(message: Record<string, unknown>, name: string, field: string): BadRequest {
  return { name, headers: JSON_TYPE, body: JSON.stringify({ message: { messageId: messageId(), ...message }, subscription: 'projects/restock-local/subscriptions/fan-out-restock' }), field };
}

/** A valid restock event of a product that does not exist, with `overrides` applied (`undefined` deletes). */
function event(overrides: Record<string, unknown>): Record<string, unknown> {
  const base: Record<string, unknown> = {
    type: 'inventory.updated',
    version: 1,
    productId: `corpus-${messageId()}`,
    available: 25,
    previousAvailable: 0,
    sequence: 2,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

/** A push whose data is `event(overrides)`. */
function pushEvent(name: string, field: string, overrides: Record<string, unknown>): BadRequest {
  return push({ data: b64(JSON.stringify(event(overrides))) }, name, field);
}

function deeplyNested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Every malformed request `fanOutRestock` must record in `rejectedEvents` and acknowledge. Built fresh per call (new messageIds). */
export function fanOutCorpus(): BadRequest[] {
  const invalidUtf8 = new Uint8Array([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]); // {"m\xff\xfe":1}
  return [
    // Not JSON at all, or not the JSON an envelope is.
    { name: 'not JSON', headers: JSON_TYPE, body: 'hello, fan-out', field: 'body' },
    { name: 'truncated JSON', headers: JSON_TYPE, body: '{"message": {"data": "eyJ', field: 'body' },
    { name: 'JSON with a trailing comma', headers: JSON_TYPE, body: '{"message": {"messageId": "1",}}', field: 'body' },
    { name: 'a JSON string at the top', headers: JSON_TYPE, body: '"message"', field: 'body' },
    { name: 'JSON null', headers: JSON_TYPE, body: 'null', field: 'body' },
    { name: 'a JSON array at the top', headers: JSON_TYPE, body: '[{"message": {}}]', field: 'body' },
    { name: 'plain text', headers: { 'content-type': 'text/plain' }, body: 'restock please', field: 'body' },
    { name: 'invalid UTF-8 in the body', headers: JSON_TYPE, body: invalidUtf8, field: '' },
    { name: 'a charset other than UTF-8', headers: { 'content-type': 'application/json; charset=latin1' }, body: '{"message":{}}', field: 'body' },
    { name: 'a body that is not what its Content-Encoding says', headers: { ...JSON_TYPE, 'content-encoding': 'gzip' }, body: '{"message":{}}', field: 'body' },
    { name: 'deeply nested JSON at the top (10,000 levels)', headers: JSON_TYPE, body: deeplyNested(10_000), field: 'body' },
    { name: 'an empty object', headers: JSON_TYPE, body: '{}', field: 'message' },
    { name: 'message is a string', headers: JSON_TYPE, body: JSON.stringify({ message: 'hello' }), field: 'message' },
    // The message envelope.
    push({ messageId: undefined }, 'a push without messageId', 'message.messageId'),
    push({ messageId: '' }, 'an empty messageId', 'message.messageId'),
    push({ messageId: 12345 }, 'a numeric messageId', 'message.messageId'),
    push({}, 'a push message with no data and no attributes', 'productId'),
    push({ attributes: 'eventId=1' }, 'attributes that are a string', 'message.attributes'),
    push({ attributes: { eventId: 'e', sequence: 3 } }, 'an attribute value that is a number', 'message.attributes.sequence'),
    push({ attributes: { eventId: 'a/b' } }, 'an eventId Firestore cannot hold (slash)', 'message.attributes.eventId'),
    push({ attributes: { eventId: '__reserved__' } }, 'an eventId Firestore reserves (__x__)', 'message.attributes.eventId'),
    push({ attributes: { eventId: 'e'.repeat(600) } }, 'an eventId longer than 500 characters', 'message.attributes.eventId'),
    push({ data: '!!! not base64 !!!' }, 'data that is not base64', 'message.data'),
    push({ data: 42 }, 'data that is a number', 'message.data'),
    push({ data: b64('restock: yes') }, 'data that is not JSON', 'message.data'),
    push({ data: b64(new Uint8Array([0xc3, 0x28, 0xa0, 0xa1])) }, 'data that is invalid UTF-8', 'message.data'),
    push({ data: b64('[1, 2, 3]') }, 'data that is a JSON array', 'message.data'),
    push({ data: b64(JSON.stringify(event({})).replace(/}$/, `,"nested":${deeplyNested(5_000)}}`)) }, 'deeply nested JSON in data', 'nested'),
    // The event.
    pushEvent('a missing productId', 'productId', { productId: undefined }),
    pushEvent('an empty productId', 'productId', { productId: '' }),
    pushEvent('a numeric productId', 'productId', { productId: 42 }),
    pushEvent('a productId with a slash', 'productId', { productId: 'shoes/42' }),
    pushEvent('a productId of ".."', 'productId', { productId: '..' }),
    pushEvent('a productId of 2,000 characters', 'productId', { productId: 'p'.repeat(2000) }),
    pushEvent('a negative quantity', 'available', { available: -1 }),
    pushEvent('a fractional quantity', 'available', { available: 2.5 }),
    pushEvent('a quantity that is a string', 'available', { available: '25' }),
    pushEvent('a quantity beyond 2^53', 'available', { available: 2 ** 60 }),
    pushEvent('a missing sequence', 'sequence', { sequence: undefined }),
    pushEvent('a negative sequence', 'sequence', { sequence: -5 }),
    pushEvent('an unknown event version', 'version', { version: 2 }),
    pushEvent('another event type', 'type', { type: 'inventory.deleted' }),
    pushEvent('an unknown field', 'color', { color: 'red' }),
    pushEvent('an occurredAt that is not a date-time', 'occurredAt', { occurredAt: 'yesterday' }),
    pushEvent('a product URL that is not a URL', 'product', { product: { url: 'not a url' } }),
    push(
      { attributes: { eventId: `attr-${messageId()}`, productId: 'p-attr', available: '2.5', sequence: '3' } },
      'an attributes-only message with a fractional quantity',
      'available',
    ),
    push(
      { attributes: { eventId: `attr-${messageId()}`, productId: 'p-attr', available: 'plenty', sequence: '3' } },
      'an attributes-only message with a quantity that is not a number',
      'available',
    ),
    // Huge payloads.
    pushEvent('a payload larger than RESTOCK_MAX_BODY_BYTES', 'body', { product: { name: 'x'.repeat(80 * 1024) } }),
    // CloudEvents of the wrong kind.
    {
      name: 'a binary CloudEvent of another type',
      headers: { ...JSON_TYPE, 'ce-specversion': '1.0', 'ce-id': messageId(), 'ce-type': 'com.example.object.finalized', 'ce-source': '//storage' },
      body: JSON.stringify({ message: { messageId: messageId(), data: b64(JSON.stringify(event({}))) } }),
      field: 'ce-type',
    },
    {
      name: 'a structured CloudEvent of another type',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: messageId(), type: 'com.example.other', source: '//x', data: { message: { messageId: messageId() } } }),
      field: 'type',
    },
    {
      name: 'a structured messagePublished CloudEvent whose data is a string',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: messageId(), type: PUBLISHED, source: '//pubsub', data: 'hello' }),
      field: 'data',
    },
    // A malformed continuation is no longer anonymous input: continuations must carry the tasks
    // service account's token, so it is in test/integration/hostile/forged-fanout.test.ts.
  ];
}

/** A malformed request to the subscription API and the problem it must be answered with. */
export interface BadApiRequest {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array<ArrayBuffer>;
  status: number;
  /** Last part of the problem type URI. */
  problem: string;
}

/** Malformed requests to `restockSubscriptions`; none may change any subscription. */
export function subscriptionCorpus(productId: string): BadApiRequest[] {
  const put = `/v1/products/${productId}/subscriptions`;
  const good = JSON.stringify({ channels: { email: 'corpus@example.com' } });
  return [
    { name: 'not JSON', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: 'email=me', status: 400, problem: 'malformed-json' },
    { name: 'truncated JSON', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: '{"channels": {"email": "a@', status: 400, problem: 'malformed-json' },
    { name: 'a JSON array', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: '[]', status: 400, problem: 'malformed-json' },
    { name: 'invalid UTF-8', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), status: 400, problem: 'malformed-json' },
    { name: 'deeply nested JSON', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: `{"channels": ${deeplyNested(10_000)}}`, status: 400, problem: 'invalid-request' },
    { name: 'channels of the wrong type', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: '{"channels": "email"}', status: 400, problem: 'invalid-request' },
    { name: 'an email that is a number', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: '{"channels": {"email": 7}}', status: 400, problem: 'invalid-request' },
    { name: 'a push token that is an object', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: '{"channels": {"push": {"t": 1}}}', status: 400, problem: 'invalid-request' },
    { name: 'no Content-Type', method: 'PUT', path: `${put}/u1`, headers: {}, body: good, status: 415, problem: 'unsupported-media-type' },
    { name: 'a huge body', method: 'PUT', path: `${put}/u1`, headers: JSON_TYPE, body: JSON.stringify({ channels: { push: 'x'.repeat(200 * 1024) } }), status: 413, problem: 'body-too-large' },
    { name: 'a userId with a control character', method: 'PUT', path: `${put}/u%01`, headers: JSON_TYPE, body: good, status: 400, problem: 'invalid-request' },
    { name: 'a userId with an encoded slash', method: 'PUT', path: `${put}/a%2Fb`, headers: JSON_TYPE, body: good, status: 400, problem: 'invalid-request' },
    { name: 'a reserved userId (__x__)', method: 'PUT', path: `${put}/__name__`, headers: JSON_TYPE, body: good, status: 400, problem: 'invalid-request' },
    { name: 'a userId of 300 bytes', method: 'PUT', path: `${put}/${'u'.repeat(300)}`, headers: JSON_TYPE, body: good, status: 400, problem: 'invalid-request' },
    { name: 'an empty userId', method: 'PUT', path: `${put}/`, headers: JSON_TYPE, body: good, status: 400, problem: 'invalid-request' },
    { name: 'a path that does not percent-decode', method: 'PUT', path: `${put}/%E0%A4%A`, headers: JSON_TYPE, body: good, status: 400, problem: 'invalid-request' },
  ];
}
