/**
 * `restock dead-letters list|replay` against the real Pub/Sub emulator: messages
 * that died (published by the test straight to a dead-letter topic, carrying the
 * attributes Pub/Sub adds when it dead-letters) are explained from what the
 * pipeline recorded, left in place by `list` and `--dry-run`, and republished to
 * the main topic with their data and eventId, acknowledged only once republished.
 *
 * Each run uses its own topics (RESTOCK_TOPIC / RESTOCK_DEAD_LETTER_SUBSCRIPTION),
 * so it never touches what other tests dead-letter on the shared stack.
 */
import { randomUUID } from 'node:crypto';
import { v1 } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { stack, uniqueProductId } from '../../helpers/index.ts';
import { restock, restockJson } from '../../helpers/cli.ts';

interface ListedMessage {
  messageId: string;
  eventId: string | null;
  eventKey: string | null;
  eventKeySource: string;
  deliveryAttempts: number | null;
  sourceSubscription: string | null;
  why: string;
  data: string;
}

describe('restock dead-letters', () => {
  const s = stack();
  const id = randomUUID().slice(0, 8);
  const names = { topic: `cli-main-${id}`, deadLetterTopic: `cli-dead-${id}`, deadLetterSubscription: `cli-dead-${id}`, probe: `cli-probe-${id}` };
  const env = { RESTOCK_TOPIC: names.topic, RESTOCK_DEAD_LETTER_SUBSCRIPTION: names.deadLetterSubscription };
  const productId = uniqueProductId('cli-dlq');
  const stuck = randomUUID(); // fan-out kept failing until Pub/Sub gave up
  const rejected = randomUUID(); // recorded as invalid (a message Pub/Sub dead-lettered anyway)
  const recoveredKey = String(Date.now()); // the original messageId, known only from its fan-out
  const dead = (extra: Record<string, string>) => ({
    ...extra,
    CloudPubSubDeadLetterSourceDeliveryCount: '5',
    CloudPubSubDeadLetterSourceSubscription: 'fan-out-restock',
    CloudPubSubDeadLetterSourceSubscriptionProject: s.description.projectId,
    CloudPubSubDeadLetterSourceTopicPublishTime: new Date(Date.now() - 60_000).toISOString(),
  });
  const stuckData = { type: 'inventory.updated', version: 1, productId, available: 9, previousAvailable: 0, sequence: 11, occurredAt: new Date().toISOString() };
  const orphanData = { ...stuckData, sequence: 12 };
  let subscriber: v1.SubscriberClient;

  async function probe(): Promise<{ data: string; attributes: Record<string, string> }[]> {
    const subscription = subscriber.subscriptionPath(s.description.projectId, names.probe);
    const out: { data: string; attributes: Record<string, string> }[] = [];
    for (let empty = 0; empty < 3; ) {
      const [res] = await subscriber.pull({ subscription, maxMessages: 50, returnImmediately: true });
      const got = res.receivedMessages ?? [];
      if (got.length === 0) {
        empty++;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const m of got) out.push({ data: Buffer.from(m.message!.data as Uint8Array).toString(), attributes: { ...(m.message!.attributes ?? {}) } as Record<string, string> });
      await subscriber.acknowledge({ subscription, ackIds: got.map((m) => m.ackId!) });
    }
    return out;
  }

  beforeAll(async () => {
    const [main] = await s.pubsub.createTopic(names.topic);
    await main.createSubscription(names.probe);
    const [deadTopic] = await s.pubsub.createTopic(names.deadLetterTopic);
    await deadTopic.createSubscription(names.deadLetterSubscription);
    const { port, ...config } = await s.pubsub.getClientConfig();
    subscriber = new v1.SubscriberClient({ ...config, ...(port !== undefined ? { port: Number(port) } : {}) });

    const db = s.firestore;
    const nowMs = Date.now();
    const fanout = (eventKey: string, data: typeof stuckData, error?: string) => ({
      eventKey, productId, state: 'running', event: data, product: { available: data.available }, leaseOwner: null, leaseExpiresAtMs: 0,
      cursor: null, generation: 0, attempts: 5, pages: 0, chunks: 0, recipients: 0, startedAtMs: nowMs, updatedAtMs: nowMs, ...(error ? { error } : {}),
    });
    await db.collection(COLLECTIONS.fanouts).doc(stuck).set(fanout(stuck, stuckData, 'DEADLINE_EXCEEDED creating delivery tasks'));
    await db.collection(COLLECTIONS.fanouts).doc(recoveredKey).set(fanout(recoveredKey, orphanData, 'UNAVAILABLE reading subscribers'));
    await db.collection(COLLECTIONS.rejectedEvents).doc(rejected).set({ eventKey: rejected, reason: 'available: must not be negative', field: 'available', raw: '{}', receivedAtMs: nowMs });

    await deadTopic.publishMessage({ data: Buffer.from(JSON.stringify(stuckData)), attributes: dead({ eventId: stuck }) });
    await deadTopic.publishMessage({ data: Buffer.from('{"available":-1}'), attributes: dead({ eventId: rejected }) });
    await deadTopic.publishMessage({ data: Buffer.from(JSON.stringify(orphanData)), attributes: dead({}) });
  });

  afterAll(async () => {
    await subscriber?.close();
    await Promise.allSettled([s.pubsub.topic(names.topic).delete(), s.pubsub.topic(names.deadLetterTopic).delete(), s.pubsub.subscription(names.probe).delete(), s.pubsub.subscription(names.deadLetterSubscription).delete()]);
  });

  test('list explains why each message died, and leaves every message in place', async () => {
    const first = await restockJson<{ count: number; messages: ListedMessage[] }>(['dead-letters', 'list'], { stack: s.description, env });
    const again = await restockJson<{ count: number }>(['dead-letters', 'list'], { stack: s.description, env });

    expect(first.count).toBe(3);
    expect(again.count).toBe(3);
    const byKey = new Map(first.messages.map((m) => [m.eventKey, m]));
    expect(byKey.get(stuck)).toMatchObject({ eventId: stuck, eventKeySource: 'eventId', deliveryAttempts: 5, sourceSubscription: 'fan-out-restock', why: 'fan-out running: DEADLINE_EXCEEDED creating delivery tasks' });
    expect(byKey.get(rejected)).toMatchObject({ why: 'rejected: available: must not be negative (field available)', data: '{"available":-1}' });
    expect(byKey.get(recoveredKey)).toMatchObject({ eventId: null, eventKeySource: 'fanout-match', why: 'fan-out running: UNAVAILABLE reading subscribers' });
  });

  test('replay --dry-run republishes nothing and acknowledges nothing', async () => {
    const r = await restockJson<{ dryRun: boolean; outcomes: { action: string }[] }>(['dead-letters', 'replay', '--dry-run'], { stack: s.description, env });

    expect(r.dryRun).toBe(true);
    expect(r.outcomes.map((o) => o.action)).toEqual(['would-republish', 'would-republish', 'would-republish']);
    expect(await probe()).toEqual([]);
    expect((await restockJson<{ count: number }>(['dead-letters', 'list'], { stack: s.description, env })).count).toBe(3);
  });

  test('replay without --yes and without a terminal refuses (exit 2) and changes nothing', async () => {
    const r = await restock(['dead-letters', 'replay'], { stack: s.description, env });

    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/will republish 3 of 3 dead letter\(s\)/);
    expect(r.stderr).toMatch(/pass --yes/);
    expect(await probe()).toEqual([]);
  });

  test('replay --message republishes the chosen one with its data and eventId, and acknowledges only it', async () => {
    const r = await restockJson<{ outcomes: { eventKey: string; action: string; newMessageId?: string }[] }>(['dead-letters', 'replay', '--message', stuck, '--yes'], { stack: s.description, env });

    expect(r.outcomes.filter((o) => o.action === 'republished').map((o) => o.eventKey)).toEqual([stuck]);
    const republished = await probe();
    expect(republished).toEqual([{ data: JSON.stringify(stuckData), attributes: { eventId: stuck } }]);
    const left = await restockJson<{ messages: ListedMessage[] }>(['dead-letters', 'list'], { stack: s.description, env });
    expect(left.messages.map((m) => m.eventKey).sort()).toEqual([recoveredKey, rejected].sort());
  });

  test('a message without eventId is republished under the event key recovered from its fan-out, so the pipeline dedups it', async () => {
    await restockJson(['dead-letters', 'replay', '--message', recoveredKey, '--yes'], { stack: s.description, env });

    const republished = await probe();
    expect(republished).toEqual([{ data: JSON.stringify(orphanData), attributes: { eventId: recoveredKey } }]);
  });
});
