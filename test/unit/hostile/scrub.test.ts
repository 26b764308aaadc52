/**
 * The scrubber that keeps personal data out of logs and stored diagnostics:
 * every spelling of an address and push tokens are masked, and its work is
 * linear in its input whatever the input (a quadratic scrubber let one request
 * with a 60 KB key burn seconds of CPU).
 */
import { describe, expect, test } from 'vitest';
import { clip, Logger, MAX_LOGGED_STRING_CHARS, scrub, scrubText } from '../../../lib/log.ts';

const FCM_TOKEN = `dGVzdC1kZXZpY2U6APA91b${'H'.repeat(140)}_x-y`;

describe('scrubText masks every spelling of an address', () => {
  const cases: [string, string][] = [
    ['plain', 'write to jane.doe+x@example.com today'],
    ['JSON-escaped @', String.raw`{"to":"jane\u0040example.com"}`],
    ['percent-encoded @', 'https://shop.example/unsubscribe?e=jane%40example.com&x=1'],
    ['HTML entity', 'jane&#64;example.com'],
    ['non-ASCII local part and domain', 'jürgen.müller@bücher.de'],
    ['Cyrillic address', 'иван@пример.рф'],
    ['full-width at sign', 'jane＠example.com'],
  ];
  for (const [name, input] of cases) {
    test(`${name}`, () => {
      // Act
      const out = scrubText(input);

      // Assess
      expect(out).toContain('[email]');
      expect(out).not.toMatch(/jane|jürgen|иван/);
    });
  }

  test('a push token is masked, a 64-digit hash (our own dedup keys) is kept', () => {
    // Prepare
    const dedupKey = 'a'.repeat(64);

    // Act
    const out = scrubText(`token ${FCM_TOKEN} key ${dedupKey}`);

    // Assess
    expect(out).toBe(`token [push-token] key ${dedupKey}`);
  });

  test('text that only looks like an address is left alone', () => {
    expect(scrubText('user@localhost, @handle, a@b, 3 @ 4.5')).toBe('user@localhost, @handle, a@b, 3 @ 4.5');
  });

  test('an address at the end of a sentence keeps the full stop', () => {
    expect(scrubText('Sent to bob@example.org.')).toBe('Sent to [email].');
  });
});

describe('scrubbing is linear in its input', () => {
  /** Adversarial inputs: long runs the old regular expression backtracked over from every position. */
  const adversarial: Record<string, (n: number) => string> = {
    'word characters, no @': (n) => 'a'.repeat(n),
    'word characters then a lone @': (n) => `${'a'.repeat(n)}@`,
    'many @ between word runs': (n) => 'ab@'.repeat(Math.floor(n / 3)),
    'a domain without a dot': (n) => `x@${'b'.repeat(n)}`,
    'escaped at signs between runs': (n) => 'abc%40'.repeat(Math.floor(n / 6)),
  };
  for (const [name, make] of Object.entries(adversarial)) {
    test(`${name}: doubling the input at most doubles the work`, () => {
      // Act
      const small = { steps: 0 };
      const large = { steps: 0 };
      scrubText(make(64 * 1024), small);
      scrubText(make(128 * 1024), large);

      // Assess
      expect(large.steps).toBeLessThanOrEqual(2 * small.steps + 16);
      expect(large.steps).toBeLessThanOrEqual(2 * 128 * 1024);
    });
  }

  test('a 1 MB adversarial string is scrubbed (the quadratic scrubber needed hours)', { timeout: 30_000 }, () => {
    // Act
    const out = scrubText(`${'a'.repeat(1024 * 1024)}@`);

    // Assess
    expect(out.length).toBeLessThan(100);
  });
});

describe('log lines are capped', () => {
  test('a long string is clipped after scrubbing, saying how much was dropped', () => {
    // Prepare
    const lines: string[] = [];
    const logger = new Logger({}, 'DEBUG', (l) => lines.push(l));

    // Act
    logger.info('unknown key', { key: `${'k '.repeat(30_000)}jane@example.com` });

    // Assess
    const line = JSON.parse(lines[0]!) as { key: string };
    expect(line.key.length).toBeLessThan(MAX_LOGGED_STRING_CHARS + 50);
    expect(line.key).toMatch(/…\[\d+ more characters\]$/);
    expect(lines[0]).not.toContain('jane');
  });

  test('clip leaves a short string unchanged', () => {
    expect(clip('short', 10)).toBe('short');
  });

  test('a push token under a `push` key is redacted', () => {
    expect(scrub({ channels: { push: 'short-token', email: 'x@y.zz' } })).toEqual({ channels: { push: '[redacted]', email: '[redacted]' } });
  });
});
