/**
 * Issue 31, item 1, end to end: a forged token alone delivers nothing.
 *
 * `deliverRestockBatch` and `fanOutRestock` run as production serves them:
 * RESTOCK_BEHIND_CLOUD_RUN_IAM on (a token whose signature Cloud Run removed
 * is taken on its claims), K_SERVICE naming the service, the audience its
 * run.app URL. Anyone who reaches such a function past Cloud Run's IAM check
 * (an `allUsers` invoker added by hand, a public copy of the service) can
 * forge such a token: `header.claims.SIGNATURE_REMOVED_BY_GOOGLE` naming the
 * tasks account. What stops them is the task body's HMAC signature
 * (RESTOCK_TASK_SIGNING_KEYS, X-Restock-Signature), which only the pipeline's
 * own fan-out can make. Counted at the sink: nothing reaches a shopper.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { CONTINUATION_CLOUDEVENT_TYPE } from '../../../lib/tasks/index.ts';
import { seedSubscribers, stack, uniqueProductId } from '../../helpers/index.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';

const DELIVERY_AUDIENCE = 'https://deliverrestockbatch-123456.us-central1.run.app';
const FANOUT_AUDIENCE = 'https://fanoutrestock-123456.us-central1.run.app';
const GOOGLE = 'https://accounts.google.com';
const ATTACKER_KEY = 'an-attacker-guess-at-the-signing-key-0123456789';

let delivery: FunctionProcess;
let fanout: FunctionProcess;
const tasksAccount = () => stack().description.env.RESTOCK_TASKS_SERVICE_ACCOUNT!;
const stackKey = () => stack().description.env.RESTOCK_TASK_SIGNING_KEYS!;

/** As Terraform serves them, on the shared emulators. */
const asInProduction = (service: string, audience: string) => ({
  RESTOCK_BEHIND_CLOUD_RUN_IAM: 'true',
  K_SERVICE: service,
  RESTOCK_OIDC_ISSUERS: GOOGLE,
  RESTOCK_OIDC_JWKS_URL: 'https://www.googleapis.com/oauth2/v3/certs',
  RESTOCK_OIDC_ALLOWED_EMAILS: tasksAccount(),
  ...(service === 'deliverrestockbatch' ? { RESTOCK_OIDC_AUDIENCE: audience } : { RESTOCK_FANOUT_URL: audience }),
});

beforeAll(async () => {
  [delivery, fanout] = await Promise.all([
    startFunction('deliverRestockBatch', asInProduction('deliverrestockbatch', DELIVERY_AUDIENCE)),
    startFunction('fanOutRestock', asInProduction('fanoutrestock', FANOUT_AUDIENCE)),
  ]);
}, 120_000);

afterAll(() => {
  delivery?.stop();
  fanout?.stop();
});

/** What Cloud Run would hand the container, forged: the claims of the tasks account, no signature. */
function forgedStrippedToken(audience: string): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const claims = { iss: GOOGLE, aud: audience, email: tasksAccount(), email_verified: true, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 };
  return `Bearer ${part({ alg: 'RS256', kid: 'x', typ: 'JWT' })}.${part(claims)}.SIGNATURE_REMOVED_BY_GOOGLE`;
}

/** The signature header as the pipeline makes it (lib/tasks): HMAC-SHA256 over the audience and the body. */
function signature(key: string, audience: string, body: string): string {
  return `v1=${createHmac('sha256', key).update(`restock-fanout:task:v1\n${audience}\n`).update(body).digest('base64url')}`;
}

function taskBody(productId: string, userIds: string[]): string {
  return JSON.stringify({ version: 1, eventKey: `signed-${productId}`, productId, generation: 0, product: { name: 'Forged', url: 'https://attacker.example/phish', available: 3 }, userIds });
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  await res.arrayBuffer();
  return res.status;
}

describe('a forged stripped token on delivery', () => {
  const forgeries: [string, (body: string) => Record<string, string>][] = [
    ['and no signature', () => ({})],
    ['and a signature under a key of its own', (body) => ({ 'x-restock-signature': signature(ATTACKER_KEY, DELIVERY_AUDIENCE, body) })],
    ['and the signature of another task body', () => ({ 'x-restock-signature': signature(stackKey(), DELIVERY_AUDIENCE, '{"version":1}') })],
    ['and a signature made for the fan-out', (body) => ({ 'x-restock-signature': signature(stackKey(), FANOUT_AUDIENCE, body) })],
  ];
  for (const [name, headers] of forgeries) {
    test(`${name}: 401, nothing delivered, nothing claimed`, async () => {
      // Prepare
      const productId = uniqueProductId('forged-task');
      const shoppers = await seedSubscribers(productId, 3);
      const body = taskBody(productId, shoppers.map((s) => s.userId));

      // Act
      const status = await post(delivery.url, body, { authorization: forgedStrippedToken(DELIVERY_AUDIENCE), ...headers(body) });

      // Assess
      expect(status).toBe(401);
      expect((await stack().sink.stats(productId)).items).toBe(0);
      const ledger = await stack().firestore.collection(COLLECTIONS.deliveries).where('productId', '==', productId).count().get();
      expect(ledger.data().count).toBe(0);
    });
  }

  test('control: the same claims with the pipeline\'s signature deliver (the signature is what the forger lacks)', async () => {
    const productId = uniqueProductId('signed-task');
    const shoppers = await seedSubscribers(productId, 2);
    const body = taskBody(productId, shoppers.map((s) => s.userId)).replace('https://attacker.example/phish', 'https://shop.example/p');
    const status = await post(delivery.url, body, { authorization: forgedStrippedToken(DELIVERY_AUDIENCE), 'x-restock-signature': signature(stackKey(), DELIVERY_AUDIENCE, body) });
    expect(status).toBe(200);
    expect((await stack().sink.stats(productId)).items).toBe(2);
  });
});

describe('a forged stripped token on a fan-out continuation', () => {
  test('without a signature: 401, the fan-out record untouched', async () => {
    // Prepare
    const eventKey = `forged-continuation-${uniqueProductId('c')}`;
    const body = JSON.stringify({ eventKey });

    // Act
    const status = await post(fanout.url, body, {
      authorization: forgedStrippedToken(FANOUT_AUDIENCE),
      'ce-specversion': '1.0',
      'ce-type': CONTINUATION_CLOUDEVENT_TYPE,
      'ce-source': '//restock/fanout',
      'ce-id': eventKey,
    });

    // Assess
    expect(status).toBe(401);
    expect((await stack().firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get()).exists).toBe(false);
    expect((await stack().firestore.collection(COLLECTIONS.rejectedEvents).doc(eventKey).get()).exists).toBe(false);
  });
});
