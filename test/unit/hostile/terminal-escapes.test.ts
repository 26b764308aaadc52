/**
 * Stored data reaches the operator's terminal only as printable text: escape
 * sequences (retitle, clear screen, hide text) and bidi overrides in a reason,
 * an error or an id are shown escaped, while the CLI's own colours stay.
 */
import { describe, expect, test } from 'vitest';
import { printable } from '../../../cli/printable.ts';
import { run, statusReport } from '../cli/fakes.ts';

const HOSTILE = 'bad\u001b]0;pwned\u0007 \u001b[2J\u001b[8mhidden \u202egnp.exe\r';

describe('the CLI human output', () => {
  test('a fan-out reason carrying escape sequences is printed escaped', async () => {
    // Prepare
    const report = statusReport();
    report.fanout = { ...report.fanout!, state: 'ignored', reason: HOSTILE };

    // Act
    const r = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('bad\\x1b]0;pwned\\x07 \\x1b[2J\\x1b[8mhidden \\u202egnp.exe\\x0d');
    expect(r.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  });

  test('with colour on, the CLI keeps its own colour sequences and escapes everything else', () => {
    expect(printable('\u001b[31mred\u001b[39m \u001b]0;t\u0007 \u009b2J', true)).toBe('\u001b[31mred\u001b[39m \\x1b]0;t\\x07 \\x9b2J');
  });

  test('tabs and newlines, the CLI layout, are kept', () => {
    expect(printable('a\tb\nc')).toBe('a\tb\nc');
  });
});
