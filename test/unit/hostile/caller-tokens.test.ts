/**
 * Who may call fan-out and delivery, decided from the OIDC token: tokens are
 * minted here with a key whose JWKS a loopback server publishes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { ForbiddenCallerError, verifyFanoutCaller, verifyTaskToken } from '../../../lib/auth/index.ts';
import { parseConfig, type Config } from '../../../lib/config.ts';

const PUSH = 'restock-push@shop-prod-1.iam.gserviceaccount.com';
const TASKS = 'restock-tasks@shop-prod-1.iam.gserviceaccount.com';
const FANOUT_URL = 'https://us-central1-shop-prod-1.cloudfunctions.net/fanOutRestock';
const DELIVERY_URL = 'https://us-central1-shop-prod-1.cloudfunctions.net/deliverRestockBatch';

let server: http.Server;
let key: CryptoKey;
let issuer: string;
let config: Config;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  key = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  config = parseConfig({
    RESTOCK_FANOUT_URL: FANOUT_URL,
    RESTOCK_DELIVERY_URL: DELIVERY_URL,
    RESTOCK_OIDC_ISSUERS: issuer,
    RESTOCK_OIDC_JWKS_URL: `${issuer}/certs`,
    RESTOCK_TASKS_SERVICE_ACCOUNT: TASKS,
    RESTOCK_PUSH_SERVICE_ACCOUNT: PUSH,
  });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function bearer(email: string, audience: string, claims: Record<string, unknown> = { email_verified: true }): Promise<string> {
  const jwt = await new SignJWT({ email, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setAudience(audience).setIssuedAt().setExpirationTime('1h').sign(key);
  return `Bearer ${jwt}`;
}

describe('fan-out callers', () => {
  test('an event from the push subscription is accepted', async () => {
    await expect(verifyFanoutCaller('event', await bearer(PUSH, FANOUT_URL), config)).resolves.toEqual({ email: PUSH });
  });

  test('an event from the tasks service account is refused: only the push subscription publishes events', async () => {
    await expect(verifyFanoutCaller('event', await bearer(TASKS, FANOUT_URL), config)).rejects.toBeInstanceOf(ForbiddenCallerError);
  });

  test('a continuation from the tasks service account is accepted', async () => {
    await expect(verifyFanoutCaller('continuation', await bearer(TASKS, FANOUT_URL), config)).resolves.toEqual({ email: TASKS });
  });

  test('a continuation from the push service account is refused', async () => {
    await expect(verifyFanoutCaller('continuation', await bearer(PUSH, FANOUT_URL), config)).rejects.toBeInstanceOf(ForbiddenCallerError);
  });

  test("a push token minted for delivery's audience is refused", async () => {
    await expect(verifyFanoutCaller('event', await bearer(PUSH, DELIVERY_URL), config)).rejects.toThrow(/claim aud/);
  });
});

describe('delivery callers', () => {
  test('a token without email_verified is refused', async () => {
    await expect(verifyTaskToken(await bearer(TASKS, DELIVERY_URL, {}), config)).rejects.toBeInstanceOf(ForbiddenCallerError);
  });

  test('an allow list of blanks and commas falls back to the tasks service account instead of accepting anyone', async () => {
    const blank = { ...config, oidcAllowedEmails: ' , ' };
    await expect(verifyTaskToken(await bearer('intruder@evil.iam.gserviceaccount.com', DELIVERY_URL), blank)).rejects.toBeInstanceOf(ForbiddenCallerError);
    await expect(verifyTaskToken(await bearer(TASKS, DELIVERY_URL), blank)).resolves.toEqual({ email: TASKS });
  });
});
