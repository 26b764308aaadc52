/**
 * The lines pino writes with Google's configuration keep the shape Cloud
 * Logging reads, one JSON object a line, and the guarantees of the logger it
 * replaced: a bound field given again is written once (the call's value), and
 * bound fields are scrubbed like the others.
 */
import { describe, expect, test } from 'vitest';
import { Logger } from '../../lib/log.ts';

function capture() {
  const raw: string[] = [];
  const logger = new Logger({ service: 'shape' }, 'DEBUG', (line) => raw.push(line));
  return { logger, raw };
}

describe('log lines in Cloud Logging shape', () => {
  test('a line is one JSON object with severity, message, timestamp, insertId and the service for Error Reporting', () => {
    // Act
    const { logger, raw } = capture();
    logger.warn('slow chunk', { chunk: 3 });

    // Assess
    expect(raw).toHaveLength(1);
    expect(raw[0]).not.toContain('\n');
    expect(JSON.parse(raw[0]!)).toMatchObject({
      severity: 'WARNING',
      message: 'slow chunk',
      chunk: 3,
      timestamp: { seconds: expect.any(Number), nanos: expect.any(Number) },
      'logging.googleapis.com/insertId': expect.any(String),
      serviceContext: { service: 'shape' },
    });
  });

  test('a field bound by a child and given again at the call is written once, with the call value', () => {
    // Act
    const { logger, raw } = capture();
    logger.child({ eventKey: 'e1', retryCount: 0 }).info('chunk delivered', { retryCount: 2 });

    // Assess
    expect(raw[0]!.match(/"retryCount"/g)).toHaveLength(1);
    expect(JSON.parse(raw[0]!)).toMatchObject({ eventKey: 'e1', retryCount: 2 });
  });

  test('fields bound by a child are scrubbed too', () => {
    // Act
    const { logger, raw } = capture();
    logger.child({ note: 'for ann@example.com', pushToken: 'fcm-secret' }).info('bound');

    // Assess
    expect(raw[0]).not.toMatch(/ann@example\.com|fcm-secret/);
  });

  test('the children of a logger write at its minimum severity', () => {
    // Act
    const raw: string[] = [];
    const child = new Logger({}, 'WARNING', (line) => raw.push(line)).child({ eventKey: 'e1' });
    child.info('quiet');
    child.error('loud');

    // Assess
    expect(raw.map((l) => JSON.parse(l).message)).toEqual(['loud']);
  });
});
