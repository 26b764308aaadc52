import { describe, expect, it } from 'vitest';
import {
  BodyTooLargeError,
  MalformedJsonError,
  UnreadableBodyError,
  UnsupportedEncodingError,
  errorToProblemReply,
  fromFrameworkError,
  SECURITY_HEADERS,
  writeReply,
} from '../../../lib/http/index.ts';

/** A body-parser style error, as functions-framework's parsers raise them. */
function bodyParserError(type: string, status: number, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(`body-parser: ${type}`), { type, status, statusCode: status, expose: true, ...extra });
}

describe('errors raised by the framework before the function runs', () => {
  it('describe malformed JSON from the raw body, with a position and no excerpt', () => {
    // Prepare
    const raw = Buffer.from('{"channels": {"email": "ann@example.com",}}');

    // Act
    const err = fromFrameworkError(bodyParserError('entity.parse.failed', 400, { body: raw.toString() }), raw);

    // Assess
    expect(err).toBeInstanceOf(MalformedJsonError);
    expect(err.message).toMatch(/not valid JSON \(syntax error at character \d+\)/);
    expect(err.message).not.toContain('ann@example.com');
  });

  it('describe a JSON primitive refused by strict parsing as not an object', () => {
    const err = fromFrameworkError(bodyParserError('entity.parse.failed', 400), Buffer.from('"hello"'));
    expect(err.message).toBe('The request body must be a JSON object, not a string');
  });

  it.each([
    ['entity.too.large', 413, { length: 2048, limit: 1024 }, BodyTooLargeError],
    ['charset.unsupported', 415, { charset: 'latin1' }, UnsupportedEncodingError],
    ['encoding.unsupported', 415, { encoding: 'zstd' }, UnsupportedEncodingError],
    ['request.aborted', 400, {}, UnreadableBodyError],
    ['request.size.invalid', 400, {}, UnreadableBodyError],
    [undefined, 400, {}, UnreadableBodyError],
  ])('map %s to the typed error with the same status', (type, status, extra, cls) => {
    // Act
    const err = fromFrameworkError(bodyParserError(String(type), status, extra));
    const reply = errorToProblemReply(type === undefined ? fromFrameworkError(Object.assign(new Error('zlib'), { status })) : err);

    // Assess
    if (type !== undefined) expect(err).toBeInstanceOf(cls);
    expect(reply.status).toBe(status);
    expect(reply.headers['content-type']).toBe('application/problem+json');
  });

  it('map a path the router cannot percent-decode to 400 invalid-request naming the path', () => {
    // Prepare
    const routerError = Object.assign(new URIError("Failed to decode param '%E0%A4'"), { status: 400 });

    // Act
    const reply = errorToProblemReply(fromFrameworkError(routerError));

    // Assess
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body ?? '').errors).toEqual([{ parameter: 'path', detail: 'must be valid percent-encoded UTF-8' }]);
  });

  it('leave server-side errors as internal: a 500 problem without their message', () => {
    // Act
    const reply = errorToProblemReply(fromFrameworkError(new Error('ENOMEM at /srv/x.js:1')));

    // Assess
    expect(reply.status).toBe(500);
    expect(reply.body).not.toContain('ENOMEM');
  });
});

describe('problem answers', () => {
  it('carry type, title, status, detail and the field, per RFC 9457', () => {
    // Act
    const reply = errorToProblemReply(new BodyTooLargeError(2000, 1000));

    // Assess
    expect(JSON.parse(reply.body ?? '')).toEqual({
      type: 'tag:restock-fanout,2026:problem:body-too-large',
      title: 'Request body too large',
      status: 413,
      detail: 'The request body is 2000 bytes; at most 1000 bytes are accepted',
      errors: [{ pointer: '#', detail: 'The request body is 2000 bytes; at most 1000 bytes are accepted' }],
      maxBytes: 1000,
    });
    expect(reply.headers['cache-control']).toBe('no-store');
  });
});

describe('writeReply', () => {
  it('writes status, headers, length and body on a Node-style response', () => {
    // Prepare
    const headers: Record<string, string | number> = {};
    let ended: string | undefined;
    const res = { statusCode: 0, setHeader: (n: string, v: string | number) => (headers[n] = v), end: (b?: string) => (ended = b) };

    // Act
    writeReply(res, { status: 201, headers: { 'content-type': 'application/json' }, body: '{"é":1}' });

    // Assess
    expect(res.statusCode).toBe(201);
    expect(headers).toEqual({ ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': 8 });
    expect(ended).toBe('{"é":1}');
  });
});
