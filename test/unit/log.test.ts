import { describe, expect, test } from 'vitest';
import { Logger, recipientRef } from '../../lib/log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = new Logger({ service: 't' }, 'DEBUG', (line) => lines.push(JSON.parse(line)));
  return { logger, lines };
}

describe('logging', () => {
  test('a line is one JSON object in Cloud Logging shape with the bound fields', () => {
    const { logger, lines } = capture();
    logger.child({ eventKey: 'e1', productId: 'p1' }).info('fan-out started', { pages: 1 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ severity: 'INFO', message: 'fan-out started', eventKey: 'e1', productId: 'p1', pages: 1 });
  });

  test('email addresses and token fields never appear in clear', () => {
    const { logger, lines } = capture();
    logger.warn('send failed for jane.doe+x@example.com', { pushToken: 'fcm-abc', nested: { address: 'a@b.co', note: 'to bob@example.org' } });
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/jane\.doe|fcm-abc|a@b\.co|bob@example\.org/);
  });

  test('errors are logged with their cause chain', () => {
    const { logger, lines } = capture();
    logger.error('boom', { err: new Error('outer', { cause: new Error('inner') }) });
    expect(lines[0]).toMatchObject({ err: { message: 'outer', cause: { message: 'inner' } } });
    expect(lines[0]).toHaveProperty('stack_trace');
  });

  test('lines below the minimum severity are dropped', () => {
    const lines: string[] = [];
    new Logger({}, 'WARNING', (l) => lines.push(l)).info('quiet');
    expect(lines).toEqual([]);
  });

  test('a recipient reference is stable and does not contain the id', () => {
    expect(recipientRef('user-1')).toBe(recipientRef('user-1'));
    expect(recipientRef('user-1')).not.toContain('user-1');
  });
});
