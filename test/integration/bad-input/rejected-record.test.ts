/**
 * What is kept of poison input: the reason and the raw input, but no email
 * address in clear, and not forever (a TTL on `expireAt`).
 */
import { describe, expect, test } from 'vitest';
import type { Timestamp } from '@google-cloud/firestore';
import { COLLECTIONS, type RejectedEventDoc } from '../../../lib/model.ts';
import { pushDirect, stack, type PushMessage, type PushMode } from '../../helpers/index.ts';

describe('a rejected event record', () => {
  test('masks email addresses in the raw input and expires', async () => {
    // Prepare: an attributes-only message with a bad quantity and an address where it should not be.
    const messageId = `poison-${Date.now()}`;
    const attributes = { productId: 'sku-1', available: 'many', sequence: '1', note: 'contact jane.doe@example.com' };

    // Act
    const res = await pushDirect(stack().description.functions.fanOutRestock, { attributes, messageId });

    // Assess
    expect(res.status).toBe(200);
    const record = (await stack().firestore.collection(COLLECTIONS.rejectedEvents).doc(messageId).get()).data() as RejectedEventDoc;
    expect(record.field).toBe('message.attributes.available');
    expect(record.raw).toContain('[email]');
    expect(record.raw).not.toContain('jane.doe@example.com');
    const expiresInDays = ((record.expireAt as unknown as Timestamp).toMillis() - Date.now()) / 86_400_000;
    expect(expiresInDays).toBeGreaterThan(29);
    expect(expiresInDays).toBeLessThan(31);
  });
});

describe('a rejected event record holds no personal data, whatever the envelope', () => {
  const TOKEN = `fcm:APA91b${'T'.repeat(150)}`;
  const poison = { productId: 'sku-1', available: 'many', sequence: 1, contact: 'jane.doe@example.com', note: String.raw`bob\u0040example.org`, push: TOKEN };
  const PERSONAL = /jane|bob\\u0040|bob@|APA91b/;
  const cases: [string, PushMode, PushMessage][] = [
    ['raw push, base64 data', 'push', { data: poison }],
    ['Eventarc binary, base64 data', 'cloudevent-binary', { data: poison }],
    ['Eventarc structured, base64 data', 'cloudevent-structured', { data: poison }],
    ['attributes only', 'push', { attributes: { productId: 'sku-1', available: 'many', sequence: '1', contact: 'jane%40example.com', push: TOKEN } }],
  ];
  for (const [name, mode, message] of cases) {
    test(`${name}: the record keeps field, reason, a scrubbed decoded excerpt and a hash`, async () => {
      // Prepare
      const messageId = `poison-${mode}-${Math.random().toString(36).slice(2)}`;

      // Act
      const res = await pushDirect(stack().description.functions.fanOutRestock, { ...message, messageId }, { mode });

      // Assess
      expect(res.status).toBe(200);
      const record = (await stack().firestore.collection(COLLECTIONS.rejectedEvents).doc(messageId).get()).data() as RejectedEventDoc;
      expect(record.field).toMatch(/available$/);
      expect(JSON.stringify(record)).not.toMatch(PERSONAL);
      expect(record.raw).toContain('many');
      expect(record.rawSha256).toMatch(/^[0-9a-f]{64}$/);
    });
  }
});
