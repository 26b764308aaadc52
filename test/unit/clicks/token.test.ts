import { describe, expect, test } from 'vitest';
import type { ClickClaims } from '../../../lib/clicks/index.ts';
import { sealLinkFields, sealLinkToken } from '../../../lib/unsubscribe/token.ts';
import { clickUrl, ExpiredClickTokenError, InvalidClickTokenError, openClickToken, sealClickToken } from '../../../lib/unsubscribe/index.ts';

const KEY = 'k'.repeat(40);
const AT = { nowMs: 1_800_000_000_000, maxAgeMs: 90 * 86_400_000 };
const CLAIMS: ClickClaims = { eventKey: 'ev-1', productId: 'lamp', userId: 'ann@example.com', channel: 'email', wave: 2, url: 'https://shop.example/p/lamp?c=1', issuedAtMs: AT.nowMs - 1000 };

describe('click tokens', () => {
  test('a sealed token opens to the notification and URL it names, and reveals neither', () => {
    const token = sealClickToken(CLAIMS, [KEY]);
    expect(token).toMatch(/^k1\.[\w-]+$/);
    expect(token).not.toContain('lamp');
    expect(Buffer.from(token.slice(3), 'base64url').toString('latin1')).not.toContain('example');
    expect(openClickToken(token, [KEY], AT)).toEqual(CLAIMS);
    const { wave: _wave, ...noWave } = CLAIMS;
    expect(openClickToken(sealClickToken(noWave, [KEY]), [KEY], AT)).toEqual(noWave);
  });

  test('changing any one character makes it invalid', () => {
    const token = sealClickToken(CLAIMS, [KEY]);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 3; i < token.length - 1; i++) {
      const other = alphabet[(alphabet.indexOf(token[i]!) + 1) % alphabet.length]!;
      expect(() => openClickToken(token.slice(0, i) + other + token.slice(i + 1), [KEY], AT), `position ${i}`).toThrow(InvalidClickTokenError);
    }
  });

  test('an unsubscribe or confirmation token is not a click token, nor the reverse', () => {
    const unsubscribe = sealLinkToken('unsubscribe', { productId: 'lamp', userId: 'ann', generation: 1, issuedAtMs: AT.nowMs }, [KEY]);
    const confirm = sealLinkToken('confirm', { productId: 'lamp', userId: 'ann', generation: 1, issuedAtMs: AT.nowMs }, [KEY]);
    expect(() => openClickToken(unsubscribe, [KEY], AT)).toThrow(InvalidClickTokenError);
    expect(() => openClickToken(confirm, [KEY], AT)).toThrow(InvalidClickTokenError);
    // The same bytes under the click prefix: another key (HKDF per purpose), so they do not open.
    expect(() => openClickToken(`k1.${unsubscribe.slice(3)}`, [KEY], AT)).toThrow(InvalidClickTokenError);
  });

  test('another key, an expired token and one from the future are refused', () => {
    expect(() => openClickToken(sealClickToken(CLAIMS, ['o'.repeat(40)]), [KEY], AT)).toThrow(InvalidClickTokenError);
    expect(() => openClickToken(sealClickToken({ ...CLAIMS, issuedAtMs: AT.nowMs - AT.maxAgeMs - 1 }, [KEY]), [KEY], AT)).toThrow(ExpiredClickTokenError);
    expect(() => openClickToken(sealClickToken({ ...CLAIMS, issuedAtMs: AT.nowMs + 3_600_000 }, [KEY]), [KEY], AT)).toThrow(/issued in the future/);
  });

  test('a genuine token naming a non-https URL or an unknown channel is refused: the route never redirects there', () => {
    const fields = (url: string, channel: string) => sealLinkFields('click', ['ev-1', 'lamp', 'ann', channel, null, url, AT.nowMs], [KEY]);
    expect(() => openClickToken(fields('http://evil.example/', 'email'), [KEY], AT)).toThrow(InvalidClickTokenError);
    expect(() => openClickToken(fields('javascript:alert(1)', 'email'), [KEY], AT)).toThrow(InvalidClickTokenError);
    expect(() => openClickToken(fields('https://shop.example/', 'pigeon'), [KEY], AT)).toThrow(InvalidClickTokenError);
  });

  test('the tracked URL is the base plus /v1/c/ and the token', () => {
    expect(clickUrl('https://links.example/', CLAIMS, [KEY])).toMatch(/^https:\/\/links\.example\/v1\/c\/k1\.[\w-]+$/);
  });
});
