/**
 * The OpenAPI document as a client fetches it: through functions-framework,
 * the very document the contract test holds the other answers to, cacheable.
 */
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../lib/subscriptions/index.ts';
import { stack } from '../../helpers/index.ts';
import { send } from './http-client.ts';

const baseUrl = () => stack().description.functions.restockSubscriptions.replace(/\/$/, '');

describe('GET /v1/openapi.json', () => {
  it('answers the document the contract test checks against, cacheable by shared caches', async () => {
    // Act
    const res = await send(baseUrl(), 'GET', '/v1/openapi.json');

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.body).toEqual(openApiDocument().document);
    expect(res.body.openapi).toMatch(/^3\.1\./);
  });

  it('answers 304 without a body to a client that sends back its ETag', async () => {
    // Prepare
    const first = await send(baseUrl(), 'GET', '/v1/openapi.json');
    const etag = first.headers.get('etag') ?? '';

    // Act
    const again = await send(baseUrl(), 'GET', '/v1/openapi.json', { headers: { 'if-none-match': etag } });

    // Assess
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });
});
