/**
 * Nothing stays `running` behind a dead letter (docs/design.md fan-out states,
 * promise 4): an event whose fan-out keeps failing transiently is redelivered
 * by Pub/Sub up to the subscription's max delivery attempts, then moved to the
 * dead-letter topic. On that last delivery the fan-out ends `failed` with its
 * error (visible, alerted, replayable), as a continuation's last attempt does.
 *
 * Pub/Sub sends the count as `deliveryAttempt` in the push body when the
 * subscription has a dead-letter policy. The Pub/Sub emulator dead-letters
 * (test/system/stack/launcher.test.ts) but leaves the count out of its
 * push bodies (checked against gcloud's emulator 0.8.20), so the pushes here
 * are the body production Pub/Sub sends, posted to fanOutRestock served by
 * functions-framework, with a Cloud Tasks endpoint that is down (UNAVAILABLE:
 * transient, so only the last attempt gives up).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../../emulators/stack/ports.ts';
import { inventoryEvent, seedSubscribers, stack } from '../../helpers/index.ts';
import { startFunction, type FunctionProcess } from '../../helpers/function-process.ts';
import { fanoutDoc } from './assertions.ts';

const MAX_DELIVERY_ATTEMPTS = 5;

describe('an event that keeps failing until Pub/Sub dead-letters it', () => {
  const on = stack();
  let fanout: FunctionProcess;

  beforeAll(async () => {
    // Nothing listens on the queue's port: every createTask fails UNAVAILABLE.
    const downQueue = `127.0.0.1:${await freePort()}`;
    fanout = await startFunction('fanOutRestock', { CLOUD_TASKS_EMULATOR_HOST: downQueue, RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS: String(MAX_DELIVERY_ATTEMPTS) });
  });
  afterAll(() => fanout?.stop());

  /** The push body Pub/Sub sends to a subscription with a dead-letter policy. */
  function push(event: Record<string, unknown>, eventId: string, deliveryAttempt: number | undefined): Promise<Response> {
    const body = {
      message: { data: Buffer.from(JSON.stringify(event)).toString('base64'), attributes: { eventId }, messageId: `m-${eventId}`, publishTime: new Date().toISOString() },
      subscription: `projects/${on.description.projectId}/subscriptions/${on.description.subscription}`,
      ...(deliveryAttempt !== undefined ? { deliveryAttempt } : {}),
    };
    return fetch(fanout.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  test("ends its fan-out failed with the error on the subscription's last delivery, and leaves it running for the earlier ones", async () => {
    // Prepare
    const event = inventoryEvent();
    await seedSubscribers(event.productId, 5, { on });
    const eventKey = randomUUID();

    // Act + Assess: deliveries before the last are retried (500 problem) and leave the fan-out running, lease released...
    for (const attempt of [1, MAX_DELIVERY_ATTEMPTS - 1]) {
      const early = await push({ ...event }, eventKey, attempt);
      expect(early.status, await early.clone().text()).toBe(500);
      expect(early.headers.get('content-type')).toBe('application/problem+json');
      expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'running', leaseOwner: null });
      expect((await fanoutDoc(eventKey, on))?.error).toBeUndefined();
    }

    // ...the last one is acknowledged as failed, with the queue's error recorded.
    const last = await push({ ...event }, eventKey, MAX_DELIVERY_ATTEMPTS);
    expect(last.status).toBe(200);
    expect(await last.json()).toMatchObject({ outcome: 'failed', eventKey, productId: event.productId, error: expect.stringContaining('UNAVAILABLE') });
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'failed', leaseOwner: null, error: expect.stringContaining('UNAVAILABLE') });

    // A best-effort extra delivery finds it settled and acknowledges it.
    const extra = await push({ ...event }, eventKey, MAX_DELIVERY_ATTEMPTS + 1);
    expect(extra.status).toBe(200);
    expect(await extra.json()).toMatchObject({ outcome: 'duplicate', state: 'failed' });
  });

  test('a push without deliveryAttempt (no dead-letter policy, Eventarc) is never taken as the last: the fan-out stays running for the retry', async () => {
    // Prepare
    const event = inventoryEvent();
    await seedSubscribers(event.productId, 3, { on });
    const eventKey = randomUUID();

    // Act
    const res = await push({ ...event }, eventKey, undefined);

    // Assess
    expect(res.status).toBe(500);
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'running', leaseOwner: null });
  });
});
