import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { InvalidUnsubscribeTokenError, signUnsubscribeToken, unsubscribeKeys, verifyUnsubscribeToken } from '../../../lib/unsubscribe/index.ts';

const KEY = 'k'.repeat(40);
const OLD = 'o'.repeat(40);
const docId = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('/') && s !== '.' && s !== '..' && !/^__.*__$/.test(s));

describe('unsubscribe tokens', () => {
  test('a signed token verifies to the subscription it names, for any ids', () => {
    fc.assert(
      fc.property(docId, docId, (productId, userId) => {
        const token = signUnsubscribeToken({ productId, userId }, [KEY]);
        expect(token).toMatch(/^u1\.[\w-]+\.[\w-]{43}$/);
        expect(verifyUnsubscribeToken(token, [KEY])).toEqual({ productId, userId });
      }),
    );
  });

  test('changing any one character of a token makes it invalid', () => {
    const token = signUnsubscribeToken({ productId: 'lamp', userId: 'ann' }, [KEY]);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const other = alphabet[(alphabet.indexOf(token[i]!) + 1) % alphabet.length]!;
      const tampered = token.slice(0, i) + other + token.slice(i + 1);
      expect(() => verifyUnsubscribeToken(tampered, [KEY]), `position ${i}`).toThrow(InvalidUnsubscribeTokenError);
    }
  });

  test('another subscription\'s payload with this signature is refused', () => {
    const [v, , sig] = signUnsubscribeToken({ productId: 'lamp', userId: 'ann' }, [KEY]).split('.');
    const [, payload] = signUnsubscribeToken({ productId: 'lamp', userId: 'bob' }, [KEY]).split('.');
    expect(() => verifyUnsubscribeToken(`${v}.${payload}.${sig}`, [KEY])).toThrow(/invalid signature/);
  });

  test('a token signed with another key is refused; during a rotation the old key still verifies', () => {
    const old = signUnsubscribeToken({ productId: 'lamp', userId: 'ann' }, [OLD]);
    expect(() => verifyUnsubscribeToken(old, [KEY])).toThrow(InvalidUnsubscribeTokenError);
    expect(verifyUnsubscribeToken(old, unsubscribeKeys(`${KEY}, ${OLD}`))).toEqual({ productId: 'lamp', userId: 'ann' });
    expect(signUnsubscribeToken({ productId: 'lamp', userId: 'ann' }, unsubscribeKeys(`${KEY},${OLD}`))).toBe(signUnsubscribeToken({ productId: 'lamp', userId: 'ann' }, [KEY]));
  });

  test.each(['', 'u1', 'u1..', 'u2.abc.' + 'a'.repeat(43), 'u1.abc.def', 'u1.a b.' + 'a'.repeat(43), 'x'.repeat(5000)])('malformed %j is refused', (token) => {
    expect(() => verifyUnsubscribeToken(token, [KEY])).toThrow(InvalidUnsubscribeTokenError);
  });
});
