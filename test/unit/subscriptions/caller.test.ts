/**
 * Who may act for whom (issue 19, item 9): the caller is read from the token
 * Cloud Run checked, logged on every change, and scoped to a tenant prefix of
 * user ids when the operator says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type StorefrontTenant } from '../../../lib/config.ts';
import type { HttpRequestLike } from '../../../lib/http/index.ts';
import { Logger } from '../../../lib/log.ts';
import { CallerNotIdentifiedError, createSubscriptionApi, identifyCaller, type CallerPolicy } from '../../../lib/subscriptions/index.ts';
import { startTestIssuer, type TestIssuer } from '../../helpers/test-issuer.ts';
import { MemorySubscriptionStore } from './memory-store.ts';

const EU = 'storefront-eu@shop-prod.iam.gserviceaccount.com';
const US = 'storefront-us@shop-prod.iam.gserviceaccount.com';
const AUDIENCE = 'https://restocksubscriptions-123.us-central1.run.app';

let issuer: TestIssuer;
let policy: CallerPolicy;
/** Signed ID tokens of `email` for the API's audience, by name. */
const tokens = new Map<string, string>();
beforeAll(async () => {
  issuer = await startTestIssuer('caller-test');
  policy = { audience: AUDIENCE, issuers: [issuer.issuer], jwksUrl: issuer.jwksUrl };
  for (const email of [EU, US, 'ann.operator@example.com', 'intruder@other.iam.gserviceaccount.com']) tokens.set(email, await issuer.bearer(email, AUDIENCE));
});
afterAll(() => issuer.close());

const as = (email: string) => ({ authorization: tokens.get(email)! });

function setup(tenants?: StorefrontTenant[]) {
  const store = new MemorySubscriptionStore();
  const lines: string[] = [];
  const api = createSubscriptionApi({
    store,
    settings: { restockThreshold: 0, maxSubscriptionsPerUser: 5, maxBodyBytes: 1024, storefrontTenants: tenants, callerPolicy: policy },
    logger: new Logger({}, 'DEBUG', (line) => lines.push(line)),
  });
  const call = (method: string, url: string, headers: Record<string, string>, body?: unknown) =>
    api({
      method,
      url,
      headers: { 'content-type': 'application/json', ...headers },
      rawBody: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    } satisfies HttpRequestLike);
  return { store, call, lines };
}

const subscribe = { channels: { email: 'shopper@example.com' } };

describe('identifyCaller names the caller from a verified token', () => {
  it('takes the service account email of a verified token', async () => {
    expect(await identifyCaller({ headers: as(EU) }, policy)).toEqual({ email: EU, label: EU });
  });

  it('reads X-Serverless-Authorization (the one Cloud Run checked), never an Authorization beside it', async () => {
    // Prepare
    const headers = { 'x-serverless-authorization': as(EU).authorization, ...as(US) };

    // Act
    const caller = await identifyCaller({ headers }, policy);

    // Assess
    expect(caller.email).toBe(EU);
  });

  it('labels a person’s account by a hash, never by its address', async () => {
    const caller = await identifyCaller({ headers: as('ann.operator@example.com') }, policy);
    expect(caller.label).toMatch(/^account:[0-9a-f]{12}$/);
  });

  it('is anonymous without a token', async () => {
    expect(await identifyCaller({ headers: {} }, policy)).toEqual({ label: 'anonymous' });
  });

  it('refuses a token that is not a JWT', async () => {
    await expect(identifyCaller({ headers: { authorization: 'Bearer nope' } }, policy)).rejects.toBeInstanceOf(CallerNotIdentifiedError);
  });

  it('does not take an email the token says is unverified', async () => {
    const unverified = await issuer.bearer(EU, AUDIENCE, { email_verified: false });
    expect((await identifyCaller({ headers: { authorization: unverified } }, policy)).email).toBeUndefined();
  });
});

describe('every change is logged with who made it, and no shopper address', () => {
  it('PUT and DELETE log the calling service account in clear', async () => {
    // Prepare
    const { call, lines } = setup();

    // Act
    await call('PUT', '/v1/products/p/subscriptions/u', as(EU), subscribe);
    await call('DELETE', '/v1/products/p/subscriptions/u', as(EU));

    // Assess
    const changes = lines.map((l) => JSON.parse(l)).filter((l) => /^subscription (created|deleted)$/.test(l.message));
    expect(changes.map((l) => [l.message, l.caller])).toEqual([
      ['subscription created', EU],
      ['subscription deleted', EU],
    ]);
    expect(lines.join('\n')).not.toContain('shopper@example.com');
  });

  it('a refusal is logged with the caller too', async () => {
    const { call, lines } = setup([{ account: EU, prefix: 'eu-' }]);
    await call('PUT', '/v1/products/p/subscriptions/us-1', as(EU), subscribe);
    expect(lines.map((l) => JSON.parse(l)).find((l) => l.message === 'subscription request refused')).toMatchObject({ caller: EU, status: 403 });
  });
});

describe('RESTOCK_STOREFRONT_TENANTS scopes each storefront to its shoppers', () => {
  const tenants = [
    { account: EU, prefix: 'eu-' },
    { account: US, prefix: 'us-' },
  ];

  it('lets a storefront create, read, list and delete for user ids of its prefix', async () => {
    // Prepare
    const { call } = setup(tenants);

    // Act
    const statuses = [
      (await call('PUT', '/v1/products/p/subscriptions/eu-1', as(EU), subscribe)).status,
      (await call('GET', '/v1/products/p/subscriptions/eu-1', as(EU))).status,
      (await call('GET', '/v1/users/eu-1/subscriptions', as(EU))).status,
      (await call('DELETE', '/v1/products/p/subscriptions/eu-1', as(EU))).status,
    ];

    // Assess
    expect(statuses).toEqual([201, 200, 200, 204]);
  });

  it.each([
    ['PUT', '/v1/products/p/subscriptions/us-1'],
    ['GET', '/v1/products/p/subscriptions/us-1'],
    ['DELETE', '/v1/products/p/subscriptions/us-1'],
    ['GET', '/v1/users/us-1/subscriptions'],
  ])('refuses %s %s for another tenant’s shopper with 403 naming userId, and changes nothing', async (method, url) => {
    // Prepare
    const { call, store } = setup(tenants);
    await call('PUT', '/v1/products/p/subscriptions/us-1', as(US), subscribe);

    // Act
    const reply = await call(method, url, as(EU), method === 'PUT' ? { channels: { email: 'other@example.com' } } : undefined);

    // Assess
    expect(reply.status).toBe(403);
    const body = JSON.parse(reply.body ?? '');
    expect(body).toMatchObject({ type: 'tag:restock-fanout,2026:problem:caller-not-allowed', errors: [{ parameter: 'userId' }] });
    expect(body.detail).toContain('"eu-"');
    expect(store.subscriptions.get('p\u0000us-1')?.doc.channels).toEqual(subscribe.channels);
  });

  it('refuses a service account that is not listed with 403, even to count', async () => {
    const { call } = setup(tenants);
    const reply = await call('GET', '/v1/products/p/subscriptions?count=true', as('intruder@other.iam.gserviceaccount.com'));
    expect(reply.status).toBe(403);
    expect(JSON.parse(reply.body ?? '').errors).toEqual([{ header: 'authorization', detail: expect.stringContaining('not a storefront') }]);
  });

  it('refuses a request without an identity with 401', async () => {
    const { call } = setup(tenants);
    const reply = await call('PUT', '/v1/products/p/subscriptions/eu-1', {}, subscribe);
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(reply.body ?? '')).toMatchObject({ type: 'tag:restock-fanout,2026:problem:caller-not-identified', errors: [{ header: 'authorization' }] });
  });

  it('a prefix of * lets one storefront act for every shopper', async () => {
    const { call } = setup([{ account: EU, prefix: '*' }]);
    expect((await call('PUT', '/v1/products/p/subscriptions/anyone', as(EU), subscribe)).status).toBe(201);
  });

  it('unset (the emulators only: required elsewhere), any caller may act for any shopper (the local stack)', async () => {
    const { call } = setup(undefined);
    expect((await call('PUT', '/v1/products/p/subscriptions/anyone', {}, subscribe)).status).toBe(201);
  });
});

describe('parsing RESTOCK_STOREFRONT_TENANTS', () => {
  it('reads account=prefix pairs, accounts in lower case', () => {
    const config = parseConfig({ RESTOCK_STOREFRONT_TENANTS: ` Storefront-EU@shop-prod.iam.gserviceaccount.com=eu-, ${US}=us- ` });
    expect(config.storefrontTenants).toEqual([
      { account: EU, prefix: 'eu-' },
      { account: US, prefix: 'us-' },
    ]);
  });

  it.each([
    ['no prefix', `${EU}`],
    ['an empty prefix', `${EU}=`],
    ['not an email', 'storefront=eu-'],
    ['a prefix with a slash', `${EU}=eu/`],
    ['the same account twice', `${EU}=eu-,${EU}=us-`],
  ])('refuses %s, naming the variable and the entry', (_name, value) => {
    const failure = (() => {
      try {
        parseConfig({ RESTOCK_STOREFRONT_TENANTS: value });
      } catch (err) {
        return err;
      }
    })();
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(/^RESTOCK_STOREFRONT_TENANTS: entry \d/);
  });
});
