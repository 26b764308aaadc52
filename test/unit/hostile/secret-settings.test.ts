/**
 * Issue 31, items 5 and 6: key settings are judged key by key (at least 32
 * bytes each, no empty key), and a secret setting that is refused says only
 * its length, never its value (the error reaches Cloud Logging).
 */
import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig, SETTINGS } from '../../../lib/config.ts';

const GOOD = 'k'.repeat(32);

function refusal(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('parseConfig accepted it');
}

describe('RESTOCK_UNSUBSCRIBE_SECRET holds keys of at least 32 bytes each', () => {
  test.each([
    ['a short second key', `${GOOD},x`, 'key 2'],
    ['an empty key between two good ones', `${GOOD},,${GOOD}`, 'key 2'],
    ['a trailing comma', `${GOOD},`, 'key 2'],
    ['a short first key behind a long second', `short,${GOOD}`, 'key 1'],
  ])('%s is refused, naming the key by its position', (_name, value, which) => {
    // Act
    const err = refusal({ RESTOCK_UNSUBSCRIBE_SECRET: value });

    // Assess
    expect(err.variable).toBe('RESTOCK_UNSUBSCRIBE_SECRET');
    expect(err.message).toContain(which);
  });

  test('two good keys are accepted: the first signs, both verify', () => {
    const config = parseConfig({ RESTOCK_UNSUBSCRIBE_SECRET: ` ${GOOD} , ${'o'.repeat(40)} ` });
    expect(config.unsubscribeSecret).toEqual([GOOD, 'o'.repeat(40)]);
  });

  test('bytes, not characters, are counted', () => {
    // 16 two-byte characters: 32 bytes.
    expect(parseConfig({ RESTOCK_UNSUBSCRIBE_SECRET: 'é'.repeat(16) }).unsubscribeSecret).toEqual(['é'.repeat(16)]);
    expect(() => parseConfig({ RESTOCK_UNSUBSCRIBE_SECRET: 'é'.repeat(15) })).toThrow(ConfigError);
  });
});

describe('a refused secret setting says only its length', () => {
  const secrets = Object.values(SETTINGS).filter((s) => (s as { secret?: boolean }).secret === true);

  test('every setting that holds a secret is marked secret in the settings table', () => {
    expect(secrets.map((s) => s.env).sort()).toEqual(
      expect.arrayContaining(['RESTOCK_DKIM_PRIVATE_KEY', 'RESTOCK_NOTIFIER_TOKEN', 'RESTOCK_SMTP_PASSWORD', 'RESTOCK_UNSUBSCRIBE_SECRET']),
    );
  });

  test('a too-short unsubscribe secret is not echoed, in the message or its cause', () => {
    // Prepare
    const value = 'hunter2-secret-value';

    // Act
    const err = refusal({ RESTOCK_UNSUBSCRIBE_SECRET: value });

    // Assess
    expect(err.message).not.toContain(value);
    expect(err.message).toContain(`${value.length} characters`);
    expect(JSON.stringify(err.cause ?? null)).not.toContain(value);
  });

  test('the other refusals still show what was given (not secrets)', () => {
    expect(refusal({ RESTOCK_PAGE_SIZE: 'many' }).message).toContain('"many"');
  });
});
