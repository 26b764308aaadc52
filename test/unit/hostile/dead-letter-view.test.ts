/** `restock dead-letters list` shows why a message died, never the personal data it carries. */
import { describe, expect, test } from 'vitest';
import { deadLetterView, type DeadLetter } from '../../../cli/commands/deadLetters.ts';

describe('a dead letter as the CLI shows it', () => {
  test('addresses and push tokens in the data and the attributes are masked', () => {
    // Prepare
    const m: DeadLetter = {
      ackId: 'ack',
      messageId: 'dl-1',
      publishTimeMs: 0,
      attributes: { eventId: 'e1', email: 'jane@example.com', note: 'ask bob%40example.org' },
      data: Buffer.from(JSON.stringify({ productId: 'p', available: 'x', recipient: String.raw`ann\u0040example.com`, push: `APA91b${'Q'.repeat(150)}` })),
      eventId: 'e1',
      eventKey: 'e1',
      eventKeySource: 'eventId',
      deliveryAttempts: 5,
      sourceSubscription: 's',
      originalPublishTimeMs: 0,
      cause: { rejected: null, fanout: null },
    };

    // Act
    const view = JSON.stringify(deadLetterView(m));

    // Assess
    expect(view).not.toMatch(/jane|bob|ann\\\\u0040|ann@|APA91b/);
    expect(view).toContain('"eventId":"e1"');
    expect(deadLetterView(m).data).toContain('"available":"x"');
  });
});
