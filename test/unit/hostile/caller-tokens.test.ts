/**
 * Who may call fan-out and delivery, decided from the OIDC token: tokens are
 * minted here with a key whose JWKS a loopback server publishes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callerAuthorization, ForbiddenCallerError, InvalidTokenError, SIGNATURE_REMOVED, verifyFanoutCaller, verifyTaskToken } from '../../../lib/auth/index.ts';
import { parseConfig, type Config } from '../../../lib/config.ts';
import { startTestIssuer, type TestIssuer } from '../../helpers/test-issuer.ts';

const PUSH = 'restock-push@shop-prod-1.iam.gserviceaccount.com';
const TASKS = 'restock-tasks@shop-prod-1.iam.gserviceaccount.com';
const FANOUT_URL = 'https://fanoutrestock-123456.us-central1.run.app';
const DELIVERY_URL = 'https://deliverrestockbatch-123456.us-central1.run.app';

let issuer: TestIssuer;
let config: Config;

beforeAll(async () => {
  issuer = await startTestIssuer();
  config = parseConfig({
    RESTOCK_FANOUT_URL: FANOUT_URL,
    RESTOCK_DELIVERY_URL: DELIVERY_URL,
    RESTOCK_OIDC_ISSUERS: issuer.issuer,
    RESTOCK_OIDC_JWKS_URL: issuer.jwksUrl,
    RESTOCK_TASKS_SERVICE_ACCOUNT: TASKS,
    RESTOCK_PUSH_SERVICE_ACCOUNT: PUSH,
  });
});

afterAll(() => issuer.close());

const bearer = (email: string, audience: string, claims?: Record<string, unknown>) => issuer.bearer(email, audience, claims);

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

/** A token as Cloud Run hands it to the container after its IAM check: the signature replaced. */
const stripped = (authorization: string): string => `${authorization.split('.').slice(0, 2).join('.')}.${SIGNATURE_REMOVED}`;

describe('behind Cloud Run IAM (RESTOCK_BEHIND_CLOUD_RUN_IAM)', () => {
  // On Cloud Run, K_SERVICE names the service that received the request: delivery here (fan-out in `behindFanout`).
  const behind = (): Config => ({ ...config, behindCloudRunIam: true, cloudRunService: 'deliverrestockbatch' });
  const behindFanout = (): Config => ({ ...config, behindCloudRunIam: true, cloudRunService: 'fanoutrestock' });

  test('a task token Cloud Run verified and stripped of its signature is accepted on its claims', async () => {
    await expect(verifyTaskToken(stripped(await bearer(TASKS, DELIVERY_URL)), behind())).resolves.toEqual({ email: TASKS });
    await expect(verifyFanoutCaller('event', stripped(await bearer(PUSH, FANOUT_URL)), behindFanout())).resolves.toEqual({ email: PUSH });
  });

  test('a stripped token is refused when the function is not behind Cloud Run IAM: nobody verified it', async () => {
    await expect(verifyTaskToken(stripped(await bearer(TASKS, DELIVERY_URL)), config)).rejects.toBeInstanceOf(InvalidTokenError);
  });

  test("a stripped token's claims are still checked: caller, audience, issuer, expiry", async () => {
    await expect(verifyTaskToken(stripped(await bearer(PUSH, DELIVERY_URL)), behind())).rejects.toBeInstanceOf(ForbiddenCallerError);
    await expect(verifyTaskToken(stripped(await bearer(TASKS, DELIVERY_URL, {})), behind())).rejects.toBeInstanceOf(ForbiddenCallerError);
    await expect(verifyFanoutCaller('event', stripped(await bearer(PUSH, DELIVERY_URL)), behindFanout())).rejects.toThrow(/claim aud/);
    await expect(verifyTaskToken(stripped(await bearer(TASKS, DELIVERY_URL)), { ...behind(), oidcIssuers: 'https://accounts.google.com' })).rejects.toThrow(/claim iss/);
    // Cloud Run passes on what it verified, so an expired stripped token only comes from a forger or a replay: refused all the same.
    const [header, body] = (await bearer(TASKS, DELIVERY_URL)).slice('Bearer '.length).split('.');
    const expiredClaims = { ...JSON.parse(Buffer.from(body!, 'base64url').toString()), exp: Math.floor(Date.now() / 1000) - 120 };
    const expired = `Bearer ${header}.${Buffer.from(JSON.stringify(expiredClaims)).toString('base64url')}.${SIGNATURE_REMOVED}`;
    await expect(verifyTaskToken(expired, behind())).rejects.toThrow(/expired/);
  });

  test('a token with its signature is verified in full even behind Cloud Run: a forged signature is refused', async () => {
    const real = await bearer(TASKS, DELIVERY_URL);
    const forged = `${real.slice(0, real.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
    await expect(verifyTaskToken(forged, behind())).rejects.toThrow(/signature does not verify/);
  });

  test('the token Cloud Run checked is X-Serverless-Authorization when sent: an Authorization beside it is ignored', () => {
    const headers = { 'x-serverless-authorization': 'Bearer checked', authorization: 'Bearer unchecked' };
    expect(callerAuthorization({ headers })).toBe('Bearer checked');
    expect(callerAuthorization({ headers: { authorization: 'Bearer only' } })).toBe('Bearer only');
  });
});
