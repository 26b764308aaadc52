/** What is kept of a rejected input: decoded, scrubbed, then cut; never an address or token. */
import { describe, expect, test } from 'vitest';
import { rejectedExcerpt } from '../../../lib/fanout/rejected.ts';
import { RAW_INPUT_LIMIT } from '../../../lib/model.ts';

const TOKEN = `fcm:APA91b${'T'.repeat(150)}`;
const PERSONAL = /jane|bob|иван|APA91b/;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
const poison = { productId: 'sku-1', available: 'many', contact: 'jane.doe@example.com', note: String.raw`bob\u0040example.org`, push: TOKEN, owner: 'иван@пример.рф' };

describe('the excerpt of a rejected input', () => {
  const shapes: Record<string, unknown> = {
    'raw push, base64 data': { message: { messageId: 'm', data: b64(poison) }, subscription: 's' },
    'Eventarc structured': { specversion: '1.0', type: 'google.cloud.pubsub.topic.v1.messagePublished', data: { message: { messageId: 'm', data: b64(poison) } } },
    'attributes only': { message: { messageId: 'm', attributes: { ...poison, available: 'many' } } },
    'data that is base64 text, not JSON': { message: { messageId: 'm', data: b64('write to jane%40example.com') } },
  };
  for (const [shape, body] of Object.entries(shapes)) {
    test(`${shape}: no address or push token in any spelling`, () => {
      // Act
      const excerpt = rejectedExcerpt(JSON.stringify(body));

      // Assess
      expect(excerpt).not.toMatch(PERSONAL);
      expect(excerpt).toMatch(/\[email\]|\[redacted\]/);
    });
  }

  test('the decoded data is shown, so an operator sees the fields', () => {
    expect(rejectedExcerpt(JSON.stringify(shapes['raw push, base64 data']))).toContain('"available":"many"');
  });

  test('an address at the cut is masked, not half kept', () => {
    // Prepare: the address straddles the limit.
    const raw = `${'x '.repeat((RAW_INPUT_LIMIT - 6) / 2)}jane.doe@example.com and more`;

    // Act
    const excerpt = rejectedExcerpt(raw);

    // Assess
    expect(excerpt).not.toMatch(/jane|doe@|example\.com/);
    expect(excerpt).toMatch(/more characters\]$/);
  });

  test('input that is not JSON is scrubbed as text', () => {
    expect(rejectedExcerpt(`not json, from jane\\u0040example.com ${TOKEN}`)).toBe('not json, from [email] [push-token]');
  });
});

describe('the excerpt of pathological input', () => {
  test('10,000 levels of nesting are cut at a fixed depth, not a stack overflow', () => {
    // Act
    const excerpt = rejectedExcerpt('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));

    // Assess
    expect(excerpt).toContain('[deep]');
  });
});
