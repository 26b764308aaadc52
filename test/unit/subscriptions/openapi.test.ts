import { createConfig, lintFromString } from '@redocly/openapi-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { OPENAPI_PATH, createSubscriptionApi, openApiDocument, parseSubscriptionRequest } from '../../../lib/subscriptions/index.ts';
import { createContract } from '../../helpers/openapi-contract.ts';
import type { HttpReply } from '../../../lib/http/index.ts';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const { document } = openApiDocument();

/** An answer as the contract reads it, from a reply or from parts. */
const answer = (status: number, contentType: string | undefined, body: unknown) => ({
  status,
  headers: new Headers(contentType ? { 'content-type': contentType } : {}),
  text: body === undefined ? '' : JSON.stringify(body),
});
const fromReply = (r: HttpReply) => ({ status: r.status, headers: new Headers(r.headers), text: r.body ?? '' });

const SUBSCRIPTION = { productId: 'sku-1', userId: 'user-1', channels: ['email'], locale: 'en-US', createdAtMs: 1, updatedAtMs: 2 };
const PROBLEM = { type: 'tag:restock-fanout,2026:problem:invalid-request', title: 'Request has invalid fields', status: 400, detail: 'see errors', errors: [{ pointer: '#/channels', detail: 'must name at least one channel' }] };

describe('the OpenAPI document', () => {
  it('passes Redocly’s recommended lint with no error and no warning', async () => {
    // Prepare
    const config = await createConfig({ extends: ['recommended'] });

    // Act
    const problems = await lintFromString({ source: openApiDocument().json, absoluteRef: 'openapi.json', config });

    // Assess
    expect(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
  });

  it('is OpenAPI 3.1 and says for every operation that errors are application/problem+json', () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const operations = Object.values(document.paths as Record<string, Record<string, any>>).flatMap((item) =>
      Object.entries(item).filter(([method]) => ['get', 'put', 'post', 'delete', 'patch'].includes(method)),
    );
    expect(operations.length).toBeGreaterThanOrEqual(6);
    for (const [, op] of operations) {
      const errorResponses = Object.entries(op.responses as Record<string, any>).filter(([status]) => status === 'default' || Number(status) >= 400);
      expect(Object.keys(op.responses)).toContain('default');
      for (const [, response] of errorResponses) {
        const resolved = response.$ref ? (document.components as any).responses[response.$ref.split('/').pop()] : response;
        expect(Object.keys(resolved.content)).toEqual(['application/problem+json']);
      }
    }
  });

  it('describes the PUT body with the schema that validates it: same verdicts on good and bad bodies', () => {
    // Prepare
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile((document.components as any).schemas.SubscriptionRequest);
    const bodies = [
      { channels: { email: 'ann@example.com' } },
      { channels: { push: 'fcm-token' }, locale: 'en-us' },
      { channels: {} },
      { channels: { email: 'ann-at-example.com' } },
      { channels: { push: '' } },
      { channels: { email: 'ann@example.com' }, extra: 1 },
      { channels: { email: 'ann@example.com', sms: '+1' } },
      { locale: 'en-US' },
    ];

    // Act
    const verdicts = bodies.map((body) => {
      let code = true;
      try {
        parseSubscriptionRequest(body);
      } catch {
        code = false;
      }
      return { body, code, document: validate(body) };
    });

    // Assess: the document's schema accepts what the code accepts (except `channels: {}`,
    // whose "at least one channel" rule JSON Schema cannot say from zod's refine).
    for (const v of verdicts.filter((v) => Object.keys(v.body.channels ?? { x: 1 }).length > 0)) expect(v).toMatchObject({ document: v.code });
  });

  it('is served at GET /v1/openapi.json, cacheable, with an ETag that turns a repeat into 304', async () => {
    // Prepare
    const api = createSubscriptionApi({ store: {} as never, settings: { restockThreshold: 0, maxSubscriptionsPerUser: 1, maxBodyBytes: 1 } });

    // Act
    const first = await api({ method: 'GET', url: OPENAPI_PATH, headers: {} });
    const again = await api({ method: 'GET', url: OPENAPI_PATH, headers: { 'if-none-match': first.headers.etag } });

    // Assess
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.headers['cache-control']).toBe('public, max-age=300');
    expect(JSON.parse(first.body ?? '')).toEqual(document);
    expect(again).toMatchObject({ status: 304, headers: { etag: first.headers.etag } });
    expect(again.body).toBeUndefined();
    expect(createContract().violations('GET', OPENAPI_PATH, fromReply(first))).toEqual([]);
  });
});

describe('the contract check', () => {
  const contract = createContract();

  it('accepts answers that match the document', () => {
    expect(contract.violations('GET', '/v1/products/sku-1/subscriptions/user-1', answer(200, 'application/json; charset=utf-8', SUBSCRIPTION))).toEqual([]);
    expect(contract.violations('PUT', '/v1/products/sku-1/subscriptions/user-1', answer(400, 'application/problem+json', PROBLEM))).toEqual([]);
    expect(contract.violations('DELETE', '/v1/products/sku-1/subscriptions/user-1', answer(204, undefined, undefined))).toEqual([]);
    expect(contract.violations('GET', '/favicon.ico', answer(404, 'application/problem+json', { ...PROBLEM, status: 404 }))).toEqual([]);
  });

  it('refuses a subscription of the wrong shape: an echoed address, a missing field, a string time', () => {
    // Prepare
    const wrong = { ...SUBSCRIPTION, channels: { email: 'ann@example.com' }, createdAtMs: '1', updatedAtMs: undefined };

    // Act
    const violations = contract.violations('GET', '/v1/products/sku-1/subscriptions/user-1', answer(200, 'application/json', wrong));

    // Assess
    expect(violations.join('\n')).toMatch(/\/channels must be array/);
    expect(violations.join('\n')).toMatch(/\/createdAtMs must be integer/);
    expect(violations.join('\n')).toMatch(/must have required property 'updatedAtMs'/);
  });

  it('refuses an error that is not problem+json, a status the document does not list, and an undocumented route', () => {
    expect(contract.violations('PUT', '/v1/products/sku-1/subscriptions/user-1', answer(400, 'application/json', PROBLEM))).not.toEqual([]);
    expect(contract.violations('PUT', '/v1/products/sku-1/subscriptions/user-1', answer(400, 'application/problem+json', { title: 'x' }))).not.toEqual([]);
    expect(contract.violations('GET', '/v1/users/user-1/subscriptions', answer(201, 'application/json', { subscriptions: [], nextPageToken: null }))).not.toEqual([]);
    expect(contract.violations('POST', '/v1/products/sku-1/subscriptions/user-1', answer(200, 'application/json', SUBSCRIPTION))).not.toEqual([]);
    expect(contract.violations('GET', '/v1/shops/s-1', answer(200, 'application/json', {}))).not.toEqual([]);
  });
});
