/**
 * What is kept of poison input: the reason and the raw input, but no email
 * address in clear, and not forever (a TTL on `expireAt`).
 */
import { describe, expect, test } from 'vitest';
import type { Timestamp } from '@google-cloud/firestore';
import { COLLECTIONS, type RejectedEventDoc } from '../../../lib/model.ts';
import { pushDirect, stack } from '../../helpers/index.ts';

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
