/**
 * Who may call fan-out and delivery, decided from the OIDC token: tokens are
 * minted here with a key whose JWKS a loopback server publishes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ForbiddenCallerError, verifyFanoutCaller, verifyTaskToken } from '../../../lib/auth/index.ts';
import { parseConfig, type Config } from '../../../lib/config.ts';
import { startTestIssuer, type TestIssuer } from '../../helpers/test-issuer.ts';

const PUSH = 'restock-push@shop-prod-1.iam.gserviceaccount.com';
const TASKS = 'restock-tasks@shop-prod-1.iam.gserviceaccount.com';
const FANOUT_URL = 'https://us-central1-shop-prod-1.cloudfunctions.net/fanOutRestock';
const DELIVERY_URL = 'https://us-central1-shop-prod-1.cloudfunctions.net/deliverRestockBatch';

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
