import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { InvalidEventError, parseIncoming, PUBSUB_CLOUDEVENT_TYPE, type IncomingRequest } from '../../../lib/events/index.ts';
import { isValidDocumentId } from '../../../lib/model.ts';

const validEvent = { type: 'inventory.updated', version: 1, productId: 'sku-1', available: 5, previousAvailable: 0, sequence: 7 };

function push(data: unknown, attributes: Record<string, string> = {}, extra: Record<string, unknown> = {}): IncomingRequest {
  const encoded = data === undefined ? undefined : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)).toString('base64');
  return {
    headers: { 'content-type': 'application/json' },
    body: { message: { ...(encoded !== undefined ? { data: encoded } : {}), attributes, messageId: 'm-1', publishTime: '2026-11-22T10:00:00.000Z', ...extra }, subscription: 'projects/p/subscriptions/s' },
  };
}

function rejection(req: IncomingRequest): InvalidEventError {
  try {
    parseIncoming(req);
  } catch (err) {
    if (err instanceof InvalidEventError) return err;
    throw err;
  }
  throw new Error('expected the request to be rejected');
}

describe('parsing an inventory event', () => {
  test('a raw Pub/Sub push body gives the event, keyed by messageId', () => {
    const parsed = parseIncoming(push(validEvent));
    expect(parsed).toMatchObject({ kind: 'event', eventKey: 'm-1', messageId: 'm-1', publishTimeMs: Date.parse('2026-11-22T10:00:00.000Z'), event: validEvent });
  });

  test('a producer-set eventId attribute is the event key, so a re-published change keeps its identity', () => {
    expect(parseIncoming(push(validEvent, { eventId: 'outbox-42' }))).toMatchObject({ eventKey: 'outbox-42', messageId: 'm-1' });
  });

  test('a binary-mode Eventarc CloudEvent is read from its body', () => {
    const req = push(validEvent);
    req.headers = { 'ce-type': PUBSUB_CLOUDEVENT_TYPE, 'ce-specversion': '1.0', 'ce-id': 'm-1', 'content-type': 'application/json' };
    expect(parseIncoming(req)).toMatchObject({ eventKey: 'm-1', event: { productId: 'sku-1' } });
  });

  test('a structured-mode CloudEvent carries the message in data', () => {
    const inner = push(validEvent).body;
    const req: IncomingRequest = {
      headers: { 'content-type': 'application/cloudevents+json' },
      body: { specversion: '1.0', type: PUBSUB_CLOUDEVENT_TYPE, source: '//pubsub', id: 'm-1', data: inner },
    };
    expect(parseIncoming(req)).toMatchObject({ eventKey: 'm-1', event: { available: 5 } });
  });

  test('snake_case message fields (as some push senders write them) are understood', () => {
    const req: IncomingRequest = { headers: {}, body: { message: { data: Buffer.from(JSON.stringify(validEvent)).toString('base64'), message_id: 'm-9', publish_time: '2026-11-22T10:00:00Z' } } };
    expect(parseIncoming(req)).toMatchObject({ eventKey: 'm-9' });
  });

  test('a message with no data reads the event from its attributes', () => {
    const parsed = parseIncoming(push(undefined, { productId: 'sku-2', available: '3', previousAvailable: '0', sequence: '11' }));
    expect(parsed).toMatchObject({ kind: 'event', event: { productId: 'sku-2', available: 3, previousAvailable: 0, sequence: 11 } });
  });

  test('the body as a raw string (no JSON content type) is parsed too', () => {
    const req = push(validEvent);
    expect(parseIncoming({ headers: {}, body: JSON.stringify(req.body) })).toMatchObject({ eventKey: 'm-1' });
  });

  test('a continuation names the fan-out to resume', () => {
    expect(parseIncoming({ headers: { 'ce-type': 'restock.fanout.continue' }, body: { eventKey: 'm-1' } })).toEqual({ kind: 'continuation', eventKey: 'm-1' });
  });

  test.each<[string, IncomingRequest, string, RegExp]>([
    ['not JSON', { headers: {}, body: 'not json {' }, 'body', /not JSON/],
    ['empty body', { headers: {}, body: '' }, 'body', /empty/],
    ['a JSON array', { headers: {}, body: [1, 2] }, 'body', /object/],
    ['no message', { headers: {}, body: { subscription: 's' } }, 'message', /required/],
    ['no messageId', { headers: {}, body: { message: { data: 'e30=' } } }, 'message.messageId', /required/],
    ['data not base64', push(undefined, {}, { data: '%%%' }), 'message.data', /base64/],
    ['data not JSON', push('hello'), 'message.data', /not JSON/],
    ['invalid UTF-8', push(undefined, {}, { data: Buffer.from([0xff, 0xfe, 0x7b]).toString('base64') }), 'message.data', /UTF-8/],
    ['data a JSON string', push('"x"'), 'message.data', /object/],
    ['missing productId', push({ ...validEvent, productId: undefined }), 'data.productId', /required/],
    ['empty productId', push({ ...validEvent, productId: '' }), 'data.productId', /empty/],
    ['productId with a slash', push({ ...validEvent, productId: 'a/b' }), 'data.productId', /document id/],
    ['productId __x__', push({ ...validEvent, productId: '__x__' }), 'data.productId', /document id/],
    ['negative available', push({ ...validEvent, available: -1 }), 'data.available', /negative/],
    ['fractional available', push({ ...validEvent, available: 1.5 }), 'data.available', /whole/],
    ['available as string', push({ ...validEvent, available: '5' }), 'data.available', /must be a number, not string/],
    ['missing sequence', push({ ...validEvent, sequence: undefined }), 'data.sequence', /required/],
    ['unknown version', push({ ...validEvent, version: 2 }), 'data.version', /unsupported version/],
    ['wrong type', push({ ...validEvent, type: 'inventory.deleted' }), 'data.type', /inventory.updated/],
    ['unknown field', push({ ...validEvent, colour: 'red' }), 'data.colour', /not a known field/],
    ['bad occurredAt', push({ ...validEvent, occurredAt: 'yesterday' }), 'data.occurredAt', /ISO 8601/],
    ['attribute not a string', push(validEvent, { n: 1 as unknown as string }), 'message.attributes.n', /string/],
    ['attributes-only with a bad quantity', push(undefined, { productId: 'p', available: 'lots', sequence: '1' }), 'message.attributes.available', /number/],
    ['huge data', push({ ...validEvent, product: { name: 'x'.repeat(70_000) } }), 'message.data', /larger than/],
    ['eventId a Firestore-illegal id', push(validEvent, { eventId: 'a/b' }), 'message.attributes.eventId', /document id/],
  ])('%s is rejected, naming the field and the problem', (_name, req, field, problem) => {
    const err = rejection(req);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(problem);
  });

  test('a CloudEvent of another type is rejected naming ce-type', () => {
    const err = rejection({ headers: { 'ce-type': 'google.cloud.storage.object.v1.finalized' }, body: { bucket: 'b' } });
    expect(err.field).toBe('ce-type');
  });

  test('a rejected event that had a readable envelope keeps its event key for the record', () => {
    expect(rejection(push({ ...validEvent, available: -3 })).eventKey).toBe('m-1');
  });

  test('property: any valid event survives encoding into every envelope shape unchanged', () => {
    const event = fc.record({
      productId: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/).filter(isValidDocumentId),
      available: fc.nat(),
      previousAvailable: fc.option(fc.nat(), { nil: undefined }),
      sequence: fc.nat(),
    });
    fc.assert(
      fc.property(event, (e) => {
        const data = Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined));
        const parsed = parseIncoming(push(data));
        expect(parsed.kind === 'event' && parsed.event).toMatchObject(data);
      }),
    );
  });

  test('property: arbitrary bytes as message data never throw anything but InvalidEventError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseIncoming(push(undefined, {}, { data: Buffer.from(bytes).toString('base64') }));
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidEventError);
        }
      }),
    );
  });

  test('property: arbitrary JSON bodies never throw anything but InvalidEventError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        try {
          parseIncoming({ headers: {}, body });
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidEventError);
        }
      }),
    );
  });
});
