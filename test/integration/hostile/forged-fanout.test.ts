/**
 * Forged calls to `fanOutRestock` are refused before they touch anything: a
 * push without the push subscription's token, or with another service
 * account's, and a continuation without the tasks service account's, leave
 * the product's stock state, the fan-out record and the rejected events as
 * they were, and notify nobody. A genuine push still fans out, and a sequence
 * that leaps past RESTOCK_MAX_SEQUENCE_JUMP is ignored instead of freezing the
 * product.
 *
 * fanOutRestock runs in its own process (functions-framework over HTTP) on the
 * shared emulators, trusting a key set this test publishes, with push
 * verification on as in production (the shared stack turns it off: the
 * Pub/Sub emulator signs no push tokens).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { CONTINUATION_CLOUDEVENT_TYPE } from '../../../lib/tasks/index.ts';
import { PROBLEM_TYPE_PREFIX } from '../../../lib/http/index.ts';
import { seedSubscribers, signedTaskHeaders, stack, uniqueProductId } from '../../helpers/index.ts';
import { startTestIssuer, type TestIssuer } from '../../helpers/test-issuer.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';

const PUSH_ACCOUNT = 'restock-pubsub-push@restock-local.iam.gserviceaccount.com';
const AUDIENCE = 'https://fanout.hostile.example/';
const MAX_SEQUENCE_JUMP = 1_000;

let issuer: TestIssuer;
let fanout: FunctionProcess;
const tasksAccount = () => stack().description.env.RESTOCK_TASKS_SERVICE_ACCOUNT!;

beforeAll(async () => {
  issuer = await startTestIssuer('forged-test');
  fanout = await startFunction('fanOutRestock', {
    RESTOCK_VERIFY_PUSH_OIDC: 'true',
    RESTOCK_PUSH_SERVICE_ACCOUNT: PUSH_ACCOUNT,
    RESTOCK_OIDC_ISSUERS: issuer.issuer,
    RESTOCK_OIDC_JWKS_URL: issuer.jwksUrl,
    RESTOCK_FANOUT_URL: AUDIENCE,
    RESTOCK_MAX_SEQUENCE_JUMP: String(MAX_SEQUENCE_JUMP),
  });
}, 120_000);

afterAll(async () => {
  fanout?.stop();
  await issuer?.close();
});

/** A continuation body signed as fan-out signs its own (issue 31, item 1), for the fan-out's audience. */
const signed = (body: string) => signedTaskHeaders(stack().description, AUDIENCE, body);

function bearer(email: string): Promise<string> {
  return issuer.bearer(email, AUDIENCE);
}

/** A push of a restock of `productId` (0 → 5 at `sequence`), as a push subscription sends it. */
async function push(productId: string, sequence: number, authorization?: string, eventId = `forged-${productId}-${sequence}`) {
  const event = { type: 'inventory.updated', version: 1, productId, available: 5, previousAvailable: 0, sequence, product: { name: 'Forged', url: 'https://shop.example/p' } };
  const body = { message: { messageId: eventId, attributes: { eventId }, data: Buffer.from(JSON.stringify(event)).toString('base64') }, subscription: 'projects/restock-local/subscriptions/x' };
  const res = await fetch(fanout.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, any>, eventKey: eventId };
}

/** What a request left behind for `productId` and `eventKey`. */
async function traces(productId: string, eventKey: string) {
  const db = stack().firestore;
  const [product, fan, rejected] = await Promise.all([
    db.collection(COLLECTIONS.products).doc(productId).get(),
    db.collection(COLLECTIONS.fanouts).doc(eventKey).get(),
    db.collection(COLLECTIONS.rejectedEvents).doc(eventKey).get(),
  ]);
  return { product: product.data()?.sequence as number | undefined, fanout: fan.exists, rejected: rejected.exists };
}

describe('forged pushes', () => {
  const forgeries: [string, number, () => Promise<string | undefined>][] = [
    ['no token', 401, async () => undefined],
    ['a token of another service account', 403, () => bearer('intruder@evil-project.iam.gserviceaccount.com')],
    ['a token of the tasks service account (it may continue fan-outs, not publish events)', 403, () => bearer(tasksAccount())],
  ];
  for (const [name, status, authorization] of forgeries) {
    test(`${name}: ${status}, the stock state, fan-out and rejected events untouched`, async () => {
      // Prepare
      const productId = uniqueProductId('forged');
      await seedSubscribers(productId, 2, { product: { available: 0, sequence: 1 } });

      // Act
      const res = await push(productId, 2 ** 53 - 1, await authorization());

      // Assess
      expect(res.status).toBe(status);
      expect(res.json.type).toBe(`${PROBLEM_TYPE_PREFIX}${status === 401 ? 'missing-token' : 'forbidden-caller'}`);
      expect(await traces(productId, res.eventKey)).toEqual({ product: 1, fanout: false, rejected: false });
    });
  }

  test('an oversized body without a token is a 413 problem and leaves no rejected-event record', async () => {
    // Act
    const res = await fetch(fanout.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"p":"${'x'.repeat(70_000)}"}` });
    const body = (await res.json()) as Record<string, unknown>;

    // Assess
    expect(res.status).toBe(413);
    expect(body.type).toBe(`${PROBLEM_TYPE_PREFIX}body-too-large`);
  });
});

describe('forged continuations', () => {
  for (const [name, status, authorization] of [
    ['no token', 401, async () => undefined],
    ["the push subscription's token", 403, () => bearer(PUSH_ACCOUNT)],
  ] as const) {
    test(`${name}: ${status}`, async () => {
      // Act
      const auth = await authorization();
      const res = await fetch(fanout.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'ce-type': CONTINUATION_CLOUDEVENT_TYPE, 'ce-id': 'c1', 'ce-source': 'x', 'ce-specversion': '1.0', ...(auth ? { authorization: auth } : {}) },
        body: JSON.stringify({ eventKey: 'no-such-fanout' }),
      });

      // Assess
      expect(res.status).toBe(status);
    });
  }
});

describe("the tasks service account's continuations", () => {
  test('a malformed continuation with a valid token is acknowledged and recorded as rejected (Cloud Tasks would retry it forever)', async () => {
    // Act
    const res = await fetch(fanout.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ce-type': CONTINUATION_CLOUDEVENT_TYPE, 'ce-id': 'c2', 'ce-source': 'x', 'ce-specversion': '1.0', authorization: await bearer(tasksAccount()), ...signed(JSON.stringify({ eventKey: '../escape' })) },
      body: JSON.stringify({ eventKey: '../escape' }),
    });
    const body = (await res.json()) as Record<string, unknown>;

    // Assess
    expect([res.status, body.outcome, body.field]).toEqual([200, 'rejected', 'eventKey']);
  });

  test('a continuation for a fan-out that does not exist is acknowledged, not retried', async () => {
    // Act
    const body = JSON.stringify({ eventKey: `no-such-fanout-${Date.now()}` });
    const res = await fetch(fanout.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'ce-type': CONTINUATION_CLOUDEVENT_TYPE, 'ce-id': 'c3', 'ce-source': 'x', 'ce-specversion': '1.0', authorization: await bearer(tasksAccount()), ...signed(body) },
      body,
    });

    // Assess
    expect(res.status).toBe(200);
  });
});

describe("the push subscription's own calls", () => {
  test('a genuine push fans out; a later sequence leaping past the bound is ignored and the product keeps its state', async () => {
    // Prepare
    const productId = uniqueProductId('genuine');
    await seedSubscribers(productId, 2, { product: { available: 0, sequence: 1 } });
    const token = await bearer(PUSH_ACCOUNT);

    // Act
    const genuine = await push(productId, 2, token);
    const leap = await push(productId, 2 + MAX_SEQUENCE_JUMP + 1, token);

    // Assess
    expect([genuine.status, genuine.json.outcome]).toEqual([200, 'completed']);
    expect([leap.status, leap.json.outcome]).toEqual([200, 'ignored']);
    expect(leap.json.reason).toMatch(/sequence jump/);
    expect(await traces(productId, leap.eventKey)).toMatchObject({ product: 2, fanout: true });
  });
});
