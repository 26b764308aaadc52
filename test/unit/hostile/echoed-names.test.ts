/**
 * A caller's unknown field name is echoed back clipped, and logged clipped:
 * a 60 KB key must not come back as a 120 KB answer nor fill a log line.
 */
import { describe, expect, test } from 'vitest';
import type { HttpRequestLike } from '../../../lib/http/index.ts';
import { Logger } from '../../../lib/log.ts';
import { createSubscriptionApi } from '../../../lib/subscriptions/index.ts';
import { MAX_ECHOED_NAME_CHARS } from '../../../lib/validation.ts';
import { MemorySubscriptionStore } from '../subscriptions/memory-store.ts';

describe('unknown field names in subscription bodies', () => {
  test('a 60 KB unknown key is named clipped in the problem answer and in the log', async () => {
    // Prepare
    const lines: string[] = [];
    const api = createSubscriptionApi({
      store: new MemorySubscriptionStore(),
      settings: { restockThreshold: 0, maxSubscriptionsPerUser: 3, maxBodyBytes: 128 * 1024 },
      nowMs: () => 1_000,
      logger: new Logger({}, 'DEBUG', (line) => lines.push(line)),
    });
    const key = 'k'.repeat(60 * 1024);
    const body = JSON.stringify({ channels: { email: 'ann@example.com' }, [key]: 1 });

    // Act
    const reply = await api({
      method: 'PUT',
      url: '/v1/products/sku-1/subscriptions/u1',
      headers: { 'content-type': 'application/json' },
      rawBody: Buffer.from(body),
    } satisfies HttpRequestLike);

    // Assess
    expect(reply.status).toBe(400);
    expect(reply.body!.length).toBeLessThan(2_000);
    expect(reply.body).toContain('k'.repeat(MAX_ECHOED_NAME_CHARS));
    expect(reply.body).not.toContain('k'.repeat(MAX_ECHOED_NAME_CHARS + 1));
    expect(lines.join('\n').length).toBeLessThan(20_000);
  });
});
