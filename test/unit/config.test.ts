import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig, SETTINGS } from '../../lib/config.ts';

const base = { RESTOCK_NOTIFIER_URL: 'http://127.0.0.1:9000' };

describe('configuration', () => {
  test('every setting has a default or is optional, so an empty environment parses with the http notifier URL given', () => {
    const config = parseConfig(base);
    expect(config.chunkSize).toBe(100);
    expect(config.restockThreshold).toBe(0);
    expect(config.verifyOidc).toBe(true);
    expect(config.notifier).toBe('http');
  });

  test('numbers and booleans are coerced from their environment spelling', () => {
    const config = parseConfig({ ...base, RESTOCK_CHUNK_SIZE: '250', RESTOCK_VERIFY_OIDC: 'false' });
    expect(config.chunkSize).toBe(250);
    expect(config.verifyOidc).toBe(false);
  });

  test.each([
    ['RESTOCK_CHUNK_SIZE', '0'],
    ['RESTOCK_CHUNK_SIZE', 'ten'],
    ['RESTOCK_PAGE_SIZE', '-5'],
    ['RESTOCK_NOTIFIER', 'smoke-signals'],
    ['RESTOCK_DELIVERY_URL', 'ftp://x'],
    ['RESTOCK_VERIFY_OIDC', 'maybe'],
    ['CLOUD_TASKS_EMULATOR_HOST', 'localhost'],
    ['RESTOCK_TASKS_SERVICE_ACCOUNT', 'not-an-email'],
  ])('a bad %s (%s) is refused with an error naming the variable', (variable, value) => {
    const attempt = () => parseConfig({ ...base, [variable]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(new RegExp(`^${variable}:`));
  });

  test('the http notifier without a URL is refused, naming RESTOCK_NOTIFIER_URL', () => {
    expect(() => parseConfig({})).toThrow(/^RESTOCK_NOTIFIER_URL: is required when RESTOCK_NOTIFIER=http/);
  });

  test('an empty variable counts as unset and takes the default', () => {
    expect(parseConfig({ ...base, RESTOCK_CHUNK_SIZE: '' }).chunkSize).toBe(100);
  });

  test('every setting is described', () => {
    for (const s of Object.values(SETTINGS)) expect(s.description.length).toBeGreaterThan(10);
  });
});
