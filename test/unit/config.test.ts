import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig, SETTINGS } from '../../lib/config.ts';
import { Logger } from '../../lib/log.ts';
import { createNotifier } from '../../lib/notify/index.ts';

const base = { RESTOCK_NOTIFIER_URL: 'http://127.0.0.1:9000' };

describe('configuration', () => {
  test('every setting has a default or is optional, so an empty environment parses', () => {
    const config = parseConfig(base);
    expect(config.chunkSize).toBe(100);
    expect(config.restockThreshold).toBe(0);
    expect(config.verifyOidc).toBe(true);
    expect(config.notifier).toBe('http');
  });

  test('numbers and booleans are coerced from their environment spelling', () => {
    const config = parseConfig({ ...base, RESTOCK_CHUNK_SIZE: '150', RESTOCK_VERIFY_OIDC: 'false' });
    expect(config.chunkSize).toBe(150);
    expect(config.verifyOidc).toBe(false);
  });

  test.each([
    ['RESTOCK_CHUNK_SIZE', '0'],
    ['RESTOCK_CHUNK_SIZE', 'ten'],
    ['RESTOCK_CHUNK_SIZE', '201'],
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

  test('the http notifier without a URL is refused when the notifier is built, naming RESTOCK_NOTIFIER_URL', () => {
    const config = parseConfig({});
    expect(() => createNotifier(config, new Logger({}, 'ERROR', () => {}))).toThrow(/^RESTOCK_NOTIFIER_URL: is required when RESTOCK_NOTIFIER=http/);
  });

  test('an empty variable counts as unset and takes the default', () => {
    expect(parseConfig({ ...base, RESTOCK_CHUNK_SIZE: '' }).chunkSize).toBe(100);
  });

  test('every setting is described', () => {
    for (const s of Object.values(SETTINGS)) expect(s.description.length).toBeGreaterThan(10);
  });
});

describe('docs/configuration.md', () => {
  test('carries the settings table exactly as lib/config.ts generates it (npm run config:table)', async () => {
    const { readFileSync } = await import('node:fs');
    const { settingsTable } = await import('../../lib/config.ts');
    const readme = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    const fenced = /<!-- settings-table[^>]*-->\n([\s\S]*?)\n<!-- \/settings-table -->/.exec(readme);
    expect(fenced, 'docs/configuration.md has the fenced settings table').not.toBeNull();
    expect(fenced![1]).toBe(settingsTable());
  });
});

describe("docs/configuration.md's example refusal", () => {
  // The largest chunk follows from the channel count (lib/channels.ts), so the example moves with the table.
  test('is the line a too-large RESTOCK_CHUNK_SIZE really stops a process with', async () => {
    const { readFileSync } = await import('node:fs');
    const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    let message = '';
    try {
      parseConfig({ RESTOCK_CHUNK_SIZE: '500' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^RESTOCK_CHUNK_SIZE: /);
    expect(page).toContain(`\`${message}\``);
  });
});
