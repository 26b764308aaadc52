/**
 * Every error a client can meet is an RFC 9457 problem (`application/problem+json`)
 * naming the field and the problem, never an HTML page or a stack trace:
 * including the errors functions-framework raises before the function runs.
 */
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { stack } from '../../helpers/index.ts';
import { assertKeepsContract } from '../../helpers/openapi-contract.ts';
import { send, type Answer } from './http-client.ts';

const MAX_BODY_BYTES = parseConfig(stack().description.env).maxBodyBytes;
const baseUrl = () => stack().description.functions.restockSubscriptions.replace(/\/$/, '');
const PUT_PATH = '/v1/products/sku-1/subscriptions/user-1';

const api = (method: string, path: string, options?: Parameters<typeof send>[3]) => send(baseUrl(), method, path, options);


/** Asserts the answer is a problem of `type` with `status`, no stack trace, and returns its body. */
function expectProblem(res: Answer, status: number, type: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ type: `tag:restock-fanout,2026:problem:${type}`, status, title: expect.any(String), detail: expect.any(String) });
  expect(res.text).not.toMatch(/\bat .+:\d+:\d+|node_modules|<html|<pre/i);
  return res.body;
}

/** A raw request, for what fetch will not send (a path with `..` that fetch would resolve away). */
function rawRequest(method: string, path: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(baseUrl());
    const req = request({ host: url.hostname, port: url.port, path, method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        const answer = { status: res.statusCode ?? 0, headers: h, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
        assertKeepsContract(method, path, answer);
        resolve(answer);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('body errors raised by functions-framework before the function runs', () => {
  it('malformed JSON is 400 malformed-json with the position, not express’s HTML stack trace', async () => {
    // Act
    const res = await api('PUT', PUT_PATH, { body: '{"channels": {"email": "ann@example.com",}}', headers: { 'content-type': 'application/json' } });

    // Assess
    const problem = expectProblem(res, 400, 'malformed-json');
    expect(problem.detail).toMatch(/syntax error at character \d+/);
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '#' })]);
    expect(res.text).not.toContain('ann@example.com');
  });

  it('a JSON string at the top (refused by the framework’s strict parser) is 400 malformed-json', async () => {
    const res = await api('PUT', PUT_PATH, { body: '"channels"', headers: { 'content-type': 'application/json' } });
    expect(expectProblem(res, 400, 'malformed-json').detail).toBe('The request body must be a JSON object, not a string');
  });

  it('a charset other than UTF-8 is 415 naming content-type', async () => {
    const res = await api('PUT', PUT_PATH, { body: '{}', headers: { 'content-type': 'application/json; charset=latin1' } });
    expect(expectProblem(res, 415, 'unsupported-encoding').errors).toEqual([expect.objectContaining({ header: 'content-type' })]);
  });

  it('a body that is not what its Content-Encoding says is 400 unreadable-body', async () => {
    const res = await api('PUT', PUT_PATH, { body: '{"channels":{}}', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
    expectProblem(res, 400, 'unreadable-body');
  });
});

describe('body errors found by the function', () => {
  it('a gzip-compressed valid body is accepted (the framework inflates it)', async () => {
    const body = gzipSync(JSON.stringify({ channels: { push: 't' } }));
    const res = await api('PUT', '/v1/products/sku-gzip/subscriptions/user-1', {
      body,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(res.status).toBe(201);
  });

  it(`a body over RESTOCK_MAX_BODY_BYTES (${MAX_BODY_BYTES}) is 413 with the limit`, async () => {
    const res = await api('PUT', PUT_PATH, { json: { channels: { push: 'x'.repeat(MAX_BODY_BYTES) } } });
    expect(expectProblem(res, 413, 'body-too-large')).toMatchObject({ maxBytes: MAX_BODY_BYTES });
  });

  it('no Content-Type is 415 naming content-type', async () => {
    const res = await api('PUT', PUT_PATH, { body: new TextEncoder().encode('{"channels":{"push":"t"}}') });
    expect(expectProblem(res, 415, 'unsupported-media-type').errors).toEqual([expect.objectContaining({ header: 'content-type' })]);
  });

  it('text/plain is 415 naming content-type', async () => {
    const res = await api('PUT', PUT_PATH, { body: '{"channels":{"push":"t"}}', headers: { 'content-type': 'text/plain' } });
    expect(expectProblem(res, 415, 'unsupported-media-type').detail).toContain('text/plain');
  });

  it('form data is 415 too', async () => {
    const res = await api('PUT', PUT_PATH, { body: 'channels=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expectProblem(res, 415, 'unsupported-media-type');
  });

  it('an empty JSON body is 400 malformed-json', async () => {
    const res = await api('PUT', PUT_PATH, { body: '', headers: { 'content-type': 'application/json' } });
    expect(expectProblem(res, 400, 'malformed-json').detail).toBe('The request body is empty; send a JSON object');
  });

  it('a JSON array is 400 malformed-json', async () => {
    const res = await api('PUT', PUT_PATH, { json: [{ channels: { push: 't' } }] });
    expect(expectProblem(res, 400, 'malformed-json').detail).toBe('The request body must be a JSON object, not an array');
  });
});

describe('field errors', () => {
  it('an invalid email is 400 invalid-request naming #/channels/email, without echoing it', async () => {
    const res = await api('PUT', PUT_PATH, { json: { channels: { email: 'ann-at-example.com' } } });
    expect(expectProblem(res, 400, 'invalid-request').errors).toEqual([
      { pointer: '#/channels/email', detail: 'must be an email address like name@example.com' },
    ]);
    expect(res.text).not.toContain('ann-at-example.com');
  });

  it('empty channels is 400 naming #/channels', async () => {
    const res = await api('PUT', PUT_PATH, { json: { channels: {} } });
    expect(expectProblem(res, 400, 'invalid-request').errors).toEqual([
      { pointer: '#/channels', detail: 'must name at least one channel: email, push or webpush' },
    ]);
  });

  it('unknown fields are refused, each named', async () => {
    const res = await api('PUT', PUT_PATH, { json: { channels: { push: 't', sms: '+1' }, priority: 'high' } });
    const pointers = expectProblem(res, 400, 'invalid-request').errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers.sort()).toEqual(['#/channels/sms', '#/priority']);
  });

  it('an invalid locale is 400 naming #/locale', async () => {
    const res = await api('PUT', PUT_PATH, { json: { channels: { push: 't' }, locale: 'english please' } });
    expect(expectProblem(res, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ pointer: '#/locale' })]);
  });

  it.each([
    ['an encoded slash', '/v1/products/a%2Fb/subscriptions/user-1', 'productId'],
    ['a reserved __name__', '/v1/products/sku-1/subscriptions/__admin__', 'userId'],
    ['more than 256 bytes', `/v1/products/sku-1/subscriptions/${'u'.repeat(257)}`, 'userId'],
  ])('an id with %s is 400 naming the parameter', async (_name, path, parameter) => {
    const res = await api('PUT', path, { json: { channels: { push: 't' } } });
    expect(expectProblem(res, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter })]);
  });

  it('an id that is .. (sent raw: fetch would resolve it) is 400 naming the parameter', async () => {
    const res = await rawRequest('PUT', '/v1/products/sku-1/subscriptions/%2E%2E', { 'content-type': 'application/json' }, '{"channels":{"push":"t"}}');
    expect(expectProblem(res, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter: 'userId' })]);
  });

  it('a path that does not percent-decode (refused by express’s router) is 400 invalid-request', async () => {
    const res = await api('PUT', '/v1/products/%E0%A4/subscriptions/user-1', { json: { channels: { push: 't' } } });
    expect(expectProblem(res, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter: 'path' })]);
  });

  it('an out-of-range pageSize is 400 naming pageSize', async () => {
    const res = await api('GET', '/v1/users/user-1/subscriptions?pageSize=1000');
    expect(expectProblem(res, 400, 'invalid-request').errors).toEqual([expect.objectContaining({ parameter: 'pageSize' })]);
  });
});

describe('routes and methods', () => {
  it.each([['/'], ['/v1'], ['/v2/users/user-1/subscriptions'], ['/v1/products/sku-1'], ['/favicon.ico'], ['/robots.txt']])(
    'GET %s is 404 not-found',
    async (path) => {
      expectProblem(await api('GET', path), 404, 'not-found');
    },
  );

  it.each([
    ['POST', PUT_PATH, 'PUT, GET, DELETE, HEAD'],
    ['PATCH', PUT_PATH, 'PUT, GET, DELETE, HEAD'],
    ['DELETE', '/v1/users/user-1/subscriptions', 'GET, HEAD'],
    ['POST', '/v1/products/sku-1/subscriptions', 'GET, HEAD'],
  ])('%s %s is 405 with an Allow header', async (method, path, allow) => {
    const res = await api(method, path, { json: {} });
    expectProblem(res, 405, 'method-not-allowed');
    expect(res.headers.get('allow')).toBe(allow);
  });
});
