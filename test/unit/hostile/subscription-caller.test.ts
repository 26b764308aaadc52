/**
 * Issue 31, items 2 and 4: the subscription API names its caller only from a
 * token `lib/auth` verified, by the pipeline's rules (signature or Cloud Run's
 * check, issuer, audience, expiry, `email_verified: true`), and only from
 * `X-Serverless-Authorization` whenever that header is present. Before, an
 * `alg: none`, expired or foreign-audience token was read as a storefront.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { HttpRequestLike } from '../../../lib/http/index.ts';
import { Logger } from '../../../lib/log.ts';
import { createSubscriptionApi } from '../../../lib/subscriptions/index.ts';
import { startTestIssuer, type TestIssuer } from '../../helpers/test-issuer.ts';
import { MemorySubscriptionStore } from '../subscriptions/memory-store.ts';

const EU = 'storefront-eu@shop-prod.iam.gserviceaccount.com';
const AUDIENCE = 'https://restocksubscriptions-123456.us-central1.run.app';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer('subscription-caller');
});
afterAll(() => issuer.close());

function api() {
  const store = new MemorySubscriptionStore();
  const handler = createSubscriptionApi({
    store,
    settings: {
      restockThreshold: 0,
      maxSubscriptionsPerUser: 5,
      maxBodyBytes: 1024,
      storefrontTenants: [{ account: EU, prefix: 'eu-' }],
      callerPolicy: { audience: AUDIENCE, issuers: [issuer.issuer], jwksUrl: issuer.jwksUrl },
    },
    logger: new Logger({}, 'ERROR', () => {}),
  } as Parameters<typeof createSubscriptionApi>[0]);
  const put = (headers: Record<string, string>) =>
    handler({
      method: 'PUT',
      url: '/v1/products/p/subscriptions/eu-1',
      headers: { 'content-type': 'application/json', ...headers },
      rawBody: Buffer.from(JSON.stringify({ channels: { email: 'attacker@evil.example' } })),
    } satisfies HttpRequestLike);
  return { store, put };
}

const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);
const unsigned = (claims: Record<string, unknown>) => `Bearer ${part({ alg: 'none', typ: 'JWT' })}.${part({ iss: issuer.issuer, aud: AUDIENCE, exp: nowS() + 600, email: EU, email_verified: true, ...claims })}.`;

describe('tokens the subscription API refuses (nothing stored)', () => {
  const cases: [string, () => Promise<Record<string, string>>, number][] = [
    ['an unsigned (alg: none) token naming the storefront', async () => ({ authorization: unsigned({}) }), 401],
    ['a token signed by a key nobody published', async () => ({ authorization: `${(await issuer.bearer(EU, AUDIENCE)).slice(0, -10)}AAAAAAAAAA` }), 401],
    ['an expired token', async () => ({ authorization: await issuer.bearer(EU, AUDIENCE, { email_verified: true, exp: nowS() - 3600 }) }), 401],
    ['a token for another audience', async () => ({ authorization: await issuer.bearer(EU, 'https://elsewhere.example') }), 401],
    ['a token without email_verified', async () => ({ authorization: await issuer.bearer(EU, AUDIENCE, {}) }), 401],
    [
      'an X-Serverless-Authorization that is not a bearer token beside a valid Authorization (no fallback)',
      async () => ({ 'x-serverless-authorization': 'Basic Zm9vOmJhcg==', authorization: await issuer.bearer(EU, AUDIENCE) }),
      401,
    ],
  ];
  for (const [name, headers, status] of cases) {
    test(`${name}: ${status}`, async () => {
      // Prepare
      const { store, put } = api();

      // Act
      const reply = await put(await headers());

      // Assess
      expect(reply.status).toBe(status);
      expect(store.subscriptions.size).toBe(0);
    });
  }

  test('a verified token of the storefront is accepted', async () => {
    const { store, put } = api();
    expect((await put({ authorization: await issuer.bearer(EU, AUDIENCE) })).status).toBe(201);
    expect(store.subscriptions.size).toBe(1);
  });
});
