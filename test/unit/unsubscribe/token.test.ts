import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InvalidUnsubscribeTokenError, openUnsubscribeToken, sealUnsubscribeToken } from '../../../lib/unsubscribe/index.ts';

const KEY = 'k'.repeat(40);
const OLD = 'o'.repeat(40);
const AT = { nowMs: 1_800_000_000_000, maxAgeMs: 86_400_000 };
const docId = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('/') && s !== '.' && s !== '..' && !/^__.*__$/.test(s));
const claims = (productId: string, userId: string) => ({ productId, userId, generation: 1_700_000_000_000, issuedAtMs: AT.nowMs });

describe('unsubscribe tokens', () => {
  test('a sealed token opens to the subscription it names, for any ids', () => {
    fc.assert(
      fc.property(docId, docId, (productId, userId) => {
        const token = sealUnsubscribeToken(claims(productId, userId), [KEY]);
        expect(token).toMatch(/^u2\.[\w-]+$/);
        expect(openUnsubscribeToken(token, [KEY], AT)).toEqual(claims(productId, userId));
      }),
    );
  });

  test('changing any one character of a token makes it invalid', () => {
    const token = sealUnsubscribeToken(claims('lamp', 'ann'), [KEY]);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last character's spare bits may not change the bytes; every other position must.
    for (let i = 3; i < token.length - 1; i++) {
      const other = alphabet[(alphabet.indexOf(token[i]!) + 1) % alphabet.length]!;
      const tampered = token.slice(0, i) + other + token.slice(i + 1);
      expect(() => openUnsubscribeToken(tampered, [KEY], AT), `position ${i}`).toThrow(InvalidUnsubscribeTokenError);
    }
  });

  test('a token sealed with another key is refused; during a rotation the old key still opens it, and the first key seals', () => {
    const old = sealUnsubscribeToken(claims('lamp', 'ann'), [OLD]);
    expect(() => openUnsubscribeToken(old, [KEY], AT)).toThrow(InvalidUnsubscribeTokenError);
    expect(openUnsubscribeToken(old, [KEY, OLD], AT)).toEqual(claims('lamp', 'ann'));
    expect(openUnsubscribeToken(sealUnsubscribeToken(claims('lamp', 'ann'), [KEY, OLD]), [KEY], AT)).toEqual(claims('lamp', 'ann'));
  });

  test.each(['', 'u2', 'u2.', 'u1.abc.' + 'a'.repeat(43), 'u2.a b', 'u2.' + 'a'.repeat(60), 'x'.repeat(5000)])('malformed %j is refused', (token) => {
    expect(() => openUnsubscribeToken(token, [KEY], AT)).toThrow(InvalidUnsubscribeTokenError);
  });
});
