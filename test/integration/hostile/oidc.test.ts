/**
 * Hostile callers of `deliverRestockBatch`: a request without a valid OIDC
 * token from the queue's service account is refused (401 for the token, 403
 * for the caller) and sends nothing.
 *
 * Two setups:
 * - tokens minted here, on a stack whose delivery function trusts a key set
 *   this test serves, so every defect (audience, issuer, expiry, signature,
 *   algorithm, caller) can be made on purpose with a key the function trusts;
 * - tokens the Cloud Tasks emulator signs, on the shared stack, whose
 *   delivery function trusts the emulator's JWKS (as `npm start` does).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { parseConfig } from '../../../lib/config.ts';
import { COLLECTIONS } from '../../../lib/model.ts';
import { REPO_ROOT, RESOURCE_NAMES } from '../../../emulators/stack/index.ts';
import { accessFor, seedSubscribers, signedTaskHeaders, stack, startStack, uniqueProductId, waitFor, type Stack, type StackAccess, type StackDescription } from '../../helpers/index.ts';

const SERVICE_ACCOUNT = RESOURCE_NAMES.serviceAccount;

/** A delivery task body for `userIds` of `productId`, as fan-out sends it. */
function taskBody(productId: string, userIds: string[]): string {
  return JSON.stringify({ version: 1, eventKey: `hostile-${productId}`, productId, generation: 0, product: { name: 'Hostile', available: 3 }, userIds });
}

/** Posts a task body signed as fan-out signs it (issue 31, item 1), so the token alone decides. */
async function deliver(url: string, body: string, authorization?: string, signedBy: Pick<StackDescription, 'env'> = stack().description): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...signedTaskHeaders(signedBy, url, body), ...(authorization ? { authorization } : {}) }, body });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** What the refused request left behind: sends at the sink and ledger entries (both must be none). */
async function traces(on: StackAccess, productId: string): Promise<{ sent: number; ledger: number }> {
  const stats = await on.sink.stats(productId);
  const ledger = await on.firestore.collection(COLLECTIONS.deliveries).where('productId', '==', productId).count().get();
  return { sent: stats.items, ledger: ledger.data().count };
}

/** An issuer this test controls: a key pair and its JWKS served over HTTP. */
interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  key: CryptoKey;
  kid: string;
  close(): Promise<void>;
}

async function startTestIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = 'hostile-test-key';
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer: base, jwksUrl: `${base}/certs`, key: privateKey, kid, close: () => new Promise((r) => server.close(() => r())) };
}

describe('deliverRestockBatch refuses forged, stale and foreign tokens (tokens minted by this test)', () => {
  let own: Stack;
  let on: StackAccess;
  let issuer: TestIssuer;
  let other: { key: CryptoKey };
  let deliveryUrl: string;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    other = { key: (await generateKeyPair('RS256')).privateKey };
    own = await startStack({
      dir: join(REPO_ROOT, '.local', 'test-stacks', `hostile-oidc-${process.pid}`),
      functionEnv: { deliverRestockBatch: { RESTOCK_OIDC_ISSUERS: issuer.issuer, RESTOCK_OIDC_JWKS_URL: issuer.jwksUrl } },
    });
    on = accessFor(own.description);
    deliveryUrl = own.description.functions.deliverRestockBatch;
  }, 180_000);

  afterAll(async () => {
    await on?.close();
    await own?.stop();
    await issuer?.close();
  });

  /** A token with the right claims unless overridden; `key: 'none'` makes an unsigned one. */
  async function token(o: { aud?: string; iss?: string; email?: string; emailVerified?: boolean; expSeconds?: number; key?: CryptoKey | 'none'; kid?: string } = {}): Promise<string> {
    const nowSeconds = Math.floor(Date.now() / 1000);
    const claims = { email: o.email ?? SERVICE_ACCOUNT, email_verified: o.emailVerified ?? true };
    if (o.key === 'none') {
      const encode = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const payload = { ...claims, iss: o.iss ?? issuer.issuer, aud: o.aud ?? deliveryUrl, sub: '1', iat: nowSeconds, exp: nowSeconds + (o.expSeconds ?? 3600) };
      return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
    }
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: o.kid ?? issuer.kid, typ: 'JWT' })
      .setIssuer(o.iss ?? issuer.issuer)
      .setAudience(o.aud ?? deliveryUrl)
      .setSubject('1')
      .setIssuedAt(nowSeconds - 7200)
      .setExpirationTime(nowSeconds + (o.expSeconds ?? 3600))
      .sign(o.key ?? issuer.key);
  }

  const refusals: [string, number, () => Promise<string | undefined>][] = [
    ['no Authorization header', 401, async () => undefined],
    ['a scheme other than Bearer', 401, async () => `Basic ${Buffer.from('tasks:secret').toString('base64')}`],
    ['a token that is not a JWT', 401, async () => 'Bearer not.a.jwt'],
    ['an unsigned token (alg none)', 401, async () => `Bearer ${await token({ key: 'none' })}`],
    ['a token signed by a key the issuer never published', 401, async () => `Bearer ${await token({ key: other.key })}`],
    ['a token for another audience', 401, async () => `Bearer ${await token({ aud: 'https://elsewhere.example/' })}`],
    ['a token from another issuer', 401, async () => `Bearer ${await token({ iss: 'https://accounts.evil.example' })}`],
    ['an expired token', 401, async () => `Bearer ${await token({ expSeconds: -600 })}`],
    ['a valid token of another service account', 403, async () => `Bearer ${await token({ email: 'intruder@evil-project.iam.gserviceaccount.com' })}`],
    ['a valid token whose email is not verified', 403, async () => `Bearer ${await token({ emailVerified: false })}`],
  ];

  for (const [name, status, authorization] of refusals) {
    test(`${name}: ${status}, nothing sent, nothing claimed`, async () => {
      // Prepare
      const productId = uniqueProductId('hostile');
      const subs = await seedSubscribers(productId, 3, { on });

      // Act
      const res = await deliver(deliveryUrl, taskBody(productId, subs.map((s) => s.userId)), await authorization(), on.description);

      // Assess
      expect(res.status).toBe(status);
      expect(await traces(on, productId)).toEqual({ sent: 0, ledger: 0 });
    });
  }

  test('the same request with a valid token is delivered (the refusals above were for the token alone)', async () => {
    // Prepare
    const productId = uniqueProductId('hostile-ok');
    const subs = await seedSubscribers(productId, 3, { on });

    // Act
    const res = await deliver(deliveryUrl, taskBody(productId, subs.map((s) => s.userId)), `Bearer ${await token()}`, on.description);

    // Assess
    expect(res.status).toBe(200);
    expect((await on.sink.stats(productId)).delivered).toBe(3);
  });
});

describe('token verification is on unless configured off', () => {
  test('by default (production sets nothing) and on the local stack', () => {
    expect(parseConfig({}).verifyOidc).toBe(true);
    expect(parseConfig(stack().description.env).verifyOidc).toBe(true);
  });
});

/** Records the Authorization header of whatever the Cloud Tasks emulator dispatches to it. */
async function startCapture(): Promise<{ url: string; tokens: Map<string, string>; close(): Promise<void> }> {
  const tokens = new Map<string, string>();
  const server = http.createServer((req, res) => {
    tokens.set(req.url ?? '/', req.headers.authorization ?? '');
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokens, close: () => new Promise((r) => server.close(() => r())) };
}

describe('on the local stack, deliverRestockBatch judges tokens by the Cloud Tasks emulator’s JWKS', () => {
  let capture: Awaited<ReturnType<typeof startCapture>>;
  let queue: string;

  beforeAll(async () => {
    capture = await startCapture();
    const on = stack();
    const parent = on.description.queue.replace(/\/queues\/.*$/, '');
    queue = `${parent}/queues/hostile-${Date.now().toString(36)}`;
    await on.tasks!.createQueue({ parent, queue: { name: queue } });
  });

  afterAll(async () => {
    await stack().tasks?.deleteQueue({ name: queue }).catch(() => {});
    await capture?.close();
  });

  /** A token the emulator signs for `serviceAccountEmail` and `audience`, captured from a dispatched task. */
  async function emulatorToken(path: string, serviceAccountEmail: string, audience: string): Promise<string> {
    await stack().tasks!.createTask({ parent: queue, task: { httpRequest: { url: `${capture.url}${path}`, httpMethod: 'POST', oidcToken: { serviceAccountEmail, audience } } } });
    return waitFor(() => capture.tokens.get(path), { timeoutMs: 15_000, what: `a dispatch to ${path}` });
  }

  test('an emulator-signed token for another audience is 401, for another service account 403, and the right one is delivered', async () => {
    // Prepare
    const on = stack();
    const deliveryUrl = on.description.functions.deliverRestockBatch;
    const productId = uniqueProductId('hostile-emu');
    const subs = await seedSubscribers(productId, 2, { on });
    const body = taskBody(productId, subs.map((s) => s.userId));
    const wrongAudience = await emulatorToken('/aud', SERVICE_ACCOUNT, 'https://elsewhere.example/');
    const wrongCaller = await emulatorToken('/sa', 'intruder@restock-local.iam.gserviceaccount.com', deliveryUrl);
    const right = await emulatorToken('/ok', SERVICE_ACCOUNT, deliveryUrl);

    // Act
    const refusedAudience = await deliver(deliveryUrl, body, wrongAudience);
    const refusedCaller = await deliver(deliveryUrl, body, wrongCaller);
    const beforeRight = await traces(on, productId);
    const accepted = await deliver(deliveryUrl, body, right);

    // Assess
    expect([refusedAudience.status, refusedCaller.status]).toEqual([401, 403]);
    expect(beforeRight).toEqual({ sent: 0, ledger: 0 });
    expect(accepted.status).toBe(200);
    expect((await on.sink.stats(productId)).delivered).toBe(2);
  });
});
