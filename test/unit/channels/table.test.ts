/**
 * The channel table (lib/channels.ts) and what derives from it: every
 * channel has a direct sender with a stand-in on the local stack, its sender
 * setting, its place in the API's body and OpenAPI document, in the sink's
 * contract and in the log scrubber; and the largest chunk's claim on every
 * channel fits one Firestore commit.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CHANNEL_SPECS, CHANNELS, channelsTable, DEAD_ADDRESS_CHANNELS, MAX_CHUNK_SIZE, MAX_TASK_RECIPIENTS, MAX_WRITES_PER_COMMIT, maxChunkSize, senderEnv, type Channel } from '../../../lib/channels.ts';
import { ConfigError, parseConfig, SETTINGS } from '../../../lib/config.ts';
import { planChunkClaim, planFirstAttempt, type LedgerEntry } from '../../../lib/delivery/rules.ts';
import { scrub } from '../../../lib/log.ts';
import { dedupKey, DELIVERY_STATES, type SubscriptionDoc } from '../../../lib/model.ts';
import { openApiDocument } from '../../../lib/subscriptions/openapi.ts';
import { parseSubscriptionRequest } from '../../../lib/subscriptions/validation.ts';
import type { DeliveryTask } from '../../../lib/tasks/index.ts';
import { notificationSchema } from '../../../emulators/sink/contract.ts';
import { channelSpecs, directChannelEnv } from '../../../emulators/stack/channels.ts';

/** A browser's PushSubscription, as `toJSON()` gives it. */
const WEB_PUSH_SUBSCRIPTION = {
  endpoint: 'https://fcm.googleapis.com/fcm/send/dXzq1example:APA91bExampleOpaqueToken',
  expirationTime: null,
  keys: { p256dh: `B${'A'.repeat(86)}`, auth: 'AAAAAAAAAAAAAAAAAAAAAA' },
};

/** One valid address per channel, as a storefront sends it. */
const INPUT: Record<Channel, unknown> = { email: 'shopper@example.com', push: 'fcm-token-0123456789', webpush: WEB_PUSH_SUBSCRIPTION };

/** The same addresses as stored (a web push subscription as its canonical JSON). */
const ADDRESS: Record<Channel, string> = {
  email: 'shopper@example.com',
  push: 'fcm-token-0123456789',
  webpush: JSON.stringify({ endpoint: WEB_PUSH_SUBSCRIPTION.endpoint, keys: WEB_PUSH_SUBSCRIPTION.keys }),
};

describe('every channel of the table', () => {
  test.each(CHANNELS)('%s has a direct sender first, and a stand-in process on the local stack', (channel) => {
    const [direct] = CHANNEL_SPECS[channel].senders;
    expect(['http', 'log']).not.toContain(direct);
    const ports = { host: '127.0.0.1', smtp: 1, smtpView: 2, fcm: 3, webpush: 4 };
    expect(Object.keys(channelSpecs(ports, {}, [], 1000))).toContain(CHANNEL_SPECS[channel].standIn);
    expect(directChannelEnv([channel])).toEqual({ [senderEnv(channel)]: direct });
  });

  test.each(CHANNELS)('%s has its sender setting, taking exactly the senders the table allows', (channel) => {
    const setting = Object.values(SETTINGS).find((s) => s.env === senderEnv(channel));
    expect(setting).toBeDefined();
    for (const sender of CHANNEL_SPECS[channel].senders) expect(parseConfig({ [senderEnv(channel)]: sender })[`${channel}Sender`]).toBe(sender);
    expect(() => parseConfig({ [senderEnv(channel)]: 'carrier-pigeon' })).toThrow(ConfigError);
  });

  test.each(CHANNELS)('%s is accepted alone by the subscription API, and its bad address is refused naming the field', (channel) => {
    expect(parseSubscriptionRequest({ channels: { [channel]: INPUT[channel] } })).toEqual({ channels: { [channel]: ADDRESS[channel] } });
    try {
      parseSubscriptionRequest({ channels: { [channel]: ' ' } });
      expect.unreachable();
    } catch (err) {
      expect(JSON.stringify(err)).toContain(`#/channels/${channel}`);
    }
  });

  test("an empty channels object is refused naming every channel of the table", () => {
    try {
      parseSubscriptionRequest({ channels: {} });
      expect.unreachable();
    } catch (err) {
      for (const channel of CHANNELS) expect(JSON.stringify(err)).toContain(channel);
    }
  });

  test("the OpenAPI document's channel enum is the table's channels, in its order", () => {
    const doc = openApiDocument().document as unknown as { components: { schemas: Record<string, { properties: Record<string, { items?: { enum?: string[] }; properties?: Record<string, unknown> }> }> } };
    expect(doc.components.schemas.Subscription!.properties.channels!.items!.enum).toEqual([...CHANNELS]);
    expect(Object.keys(doc.components.schemas.SubscriptionRequest!.properties.channels!.properties!)).toEqual([...CHANNELS]);
  });

  test.each(CHANNELS)("%s is in the sink's contract", (channel) => {
    const item = { idempotencyKey: 'a'.repeat(64), channel, to: ADDRESS[channel], template: 'restock', data: { eventKey: 'e', productId: 'p', available: 1 } };
    expect(notificationSchema.safeParse(item).success).toBe(true);
  });

  test('docs/channels.md shows the table as the code has it', () => {
    expect(readFileSync(new URL('../../../docs/channels.md', import.meta.url), 'utf8')).toContain(channelsTable());
  });

  test("docs/notification-service.md names the channels whose dead addresses are removed everywhere", () => {
    const row = readFileSync(new URL('../../../docs/notification-service.md', import.meta.url), 'utf8')
      .split('\n')
      .find((l) => l.includes('"deadAddress": true'))!;
    expect(row).toContain(`looked up: ${DEAD_ADDRESS_CHANNELS.map((c) => `\`${c}\``).join(', ')})`);
  });

  test.each(CHANNELS)("%s's address under its channel's name never reaches a log line", (channel) => {
    expect(JSON.stringify(scrub({ channels: { [channel]: ADDRESS[channel] } }))).not.toContain(ADDRESS[channel]);
  });
});

const NOW = 1_700_000_000_000;
const ctx = { nowMs: NOW, leaseMs: 120_000 };

function task(n: number): DeliveryTask {
  return { version: 1, eventKey: 'evt', productId: 'sku', generation: 0, product: { available: 3 }, userIds: Array.from({ length: n }, (_, i) => `u${i}`) };
}

/** Every recipient subscribed on every channel of the table. */
function everyChannel(t: DeliveryTask): SubscriptionDoc[] {
  return t.userIds.map((userId) => ({ userId, productId: 'sku', channels: ADDRESS, createdAtMs: 0, updatedAtMs: 0 }));
}

/** What one commit of the claim writes: ledger documents (one write each), subscription deletes and renewals, and the receipt. */
function commitWrites(plan: { writes: { key: string }[]; served: string[]; renewed: string[] }): number {
  return new Set(plan.writes.map((w) => w.key)).size + new Set(plan.served).size + new Set(plan.renewed).size + 1;
}

describe('the commit budget', () => {
  test('the largest chunk follows from the channel count and the 500-write commit: three channels of 200 recipients would be 601 writes', () => {
    expect(MAX_CHUNK_SIZE).toBe(maxChunkSize(CHANNELS.length));
    expect(maxChunkSize(2)).toBe(200);
    expect(maxChunkSize(3)).toBe(166);
    expect(200 * 3 + 1).toBeGreaterThan(MAX_WRITES_PER_COMMIT);
    for (let c = 1; c <= 8; c++) expect(maxChunkSize(c) * c + 1).toBeLessThanOrEqual(MAX_WRITES_PER_COMMIT);
    expect(MAX_CHUNK_SIZE).toBeLessThanOrEqual(MAX_TASK_RECIPIENTS);
  });

  test('RESTOCK_CHUNK_SIZE refuses a chunk past the budget, naming the variable', () => {
    expect(parseConfig({ RESTOCK_CHUNK_SIZE: String(MAX_CHUNK_SIZE) }).chunkSize).toBe(MAX_CHUNK_SIZE);
    expect(() => parseConfig({ RESTOCK_CHUNK_SIZE: String(MAX_CHUNK_SIZE + 1) })).toThrow(/^RESTOCK_CHUNK_SIZE: /);
  });

  test('the first attempt of the largest chunk, every recipient on every channel, is one commit within the limit', () => {
    const t = task(MAX_CHUNK_SIZE);
    const plan = planFirstAttempt(t, everyChannel(t), ctx)!;
    expect(plan.claimed).toHaveLength(MAX_CHUNK_SIZE * CHANNELS.length);
    expect(commitWrites(plan)).toBeLessThanOrEqual(MAX_WRITES_PER_COMMIT);
  });

  test('the largest chunk of a restock that stopped keeps every place in one commit within the limit', () => {
    const t = task(MAX_CHUNK_SIZE);
    const plan = planFirstAttempt(t, everyChannel(t), { ...ctx, stopped: 'sold-out' })!;
    expect(plan.soldOutBeforeSend).toBe(MAX_CHUNK_SIZE * CHANNELS.length);
    expect(commitWrites(plan)).toBeLessThanOrEqual(MAX_WRITES_PER_COMMIT);
  });

  test("the transactional claim of the largest chunk stays within the limit whatever each recipient's channels and ledger", () => {
    const t = task(MAX_CHUNK_SIZE);
    const channelSet = fc.subarray([...CHANNELS], { minLength: 0 });
    const entry = (userId: string, channel: Channel) =>
      fc.option(
        fc.record({ state: fc.constantFrom(...DELIVERY_STATES), lease: fc.integer({ min: -300_000, max: 300_000 }), updated: fc.integer({ min: -1, max: 1 }) }).map(
          ({ state, lease, updated }): LedgerEntry => ({
            dedupKey: dedupKey({ productId: 'sku', userId, createdAtMs: 0 }, channel),
            eventKey: 'evt0',
            productId: 'sku',
            userId,
            channel,
            state,
            attempts: 1,
            leaseExpiresAtMs: state === 'sending' ? NOW + lease : null,
            lastError: null,
            sentAtMs: null,
            createdAtMs: NOW - 1000,
            updatedAtMs: updated,
          }),
        ),
        { nil: undefined },
      );
    const recipient = (userId: string) =>
      fc.record({
        channels: channelSet,
        ledger: fc.record(Object.fromEntries(CHANNELS.map((c) => [c, entry(userId, c)])) as Record<Channel, fc.Arbitrary<LedgerEntry | undefined>>),
      });
    fc.assert(
      fc.property(fc.tuple(...t.userIds.map(recipient)), (recipients) => {
        const subs = recipients.map((r, i) =>
          r.channels.length === 0 ? undefined : { userId: t.userIds[i]!, productId: 'sku', channels: Object.fromEntries(r.channels.map((c) => [c, ADDRESS[c]])), createdAtMs: 0, updatedAtMs: 0 },
        );
        const ledgers = recipients.map((r) => Object.fromEntries(Object.entries(r.ledger).filter(([, e]) => e !== undefined)));
        const gone = recipients.map((r, i) => (subs[i] ? [] : Object.values(r.ledger).filter((e) => e !== undefined)));
        const plan = planChunkClaim(t, subs, ledgers.map((l, i) => (subs[i] ? l : gone[i]!)) as never, ctx);
        expect(commitWrites(plan)).toBeLessThanOrEqual(MAX_WRITES_PER_COMMIT);
      }),
      { numRuns: 50 },
    );
  }, 60_000);
});
