/**
 * Reading a request's trace from `traceparent`, `X-Cloud-Trace-Context` and
 * Pub/Sub attributes: valid values are read exactly, malformed ones are
 * ignored (undefined), never thrown on, and the ambient trace reaches log
 * lines and the task headers built inside it.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { Logger } from '../../../lib/log.ts';
import {
  currentTrace,
  formatTraceparent,
  outgoingTraceparent,
  parseCloudTraceContext,
  parseTraceparent,
  runWithTrace,
  startTrace,
  traceFromRequest,
} from '../../../lib/trace/index.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceparent', () => {
  test('a valid header gives its trace id, parent span and sampled flag', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: false });
  });

  test('a later version may append parts; its first four are read', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-whatever`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true });
  });

  const malformed: [string, unknown][] = [
    ['empty', ''],
    ['not a string', 42],
    ['too few parts', `00-${TRACE}-${SPAN}`],
    ['version 00 with extra parts', `00-${TRACE}-${SPAN}-01-extra`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['upper-case trace id', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-zz`],
    ['a huge value', `00-${TRACE}-${SPAN}-01`.padEnd(100_000, 'x')],
  ];
  for (const [name, value] of malformed) {
    test(`is ignored when ${name}`, () => {
      expect(parseTraceparent(value)).toBeUndefined();
    });
  }

  test('no string makes it throw, and whatever it accepts writes back the same trace', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)), (value) => {
        const parsed = parseTraceparent(value);
        if (parsed) expect(parseTraceparent(formatTraceparent(parsed))).toEqual(parsed);
      }),
    );
  });
});

describe('X-Cloud-Trace-Context', () => {
  test('a valid header gives its trace id, the span id in hex, and o=1 as sampled', () => {
    expect(parseCloudTraceContext(`${TRACE}/1;o=1`)).toEqual({ traceId: TRACE, spanId: '0000000000000001', sampled: true });
    expect(parseCloudTraceContext(`${TRACE}/18446744073709551615;o=0`)).toEqual({ traceId: TRACE, spanId: 'ffffffffffffffff', sampled: false });
  });

  test('a header with the trace id alone keeps the trace and gets a span of its own', () => {
    const parsed = parseCloudTraceContext(TRACE.toUpperCase());
    expect(parsed?.traceId).toBe(TRACE);
    expect(parsed?.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(parsed?.spanId).not.toBe('0'.repeat(16));
  });

  const malformed: [string, unknown][] = [
    ['empty', ''],
    ['an array', [`${TRACE}/1;o=1`]],
    ['a short trace id', `${TRACE.slice(2)}/1;o=1`],
    ['an all-zero trace id', `${'0'.repeat(32)}/1;o=1`],
    ['a span id past 64 bits', `${TRACE}/18446744073709551616;o=1`],
    ['a non-numeric span id', `${TRACE}/abc;o=1`],
    ['trailing garbage', `${TRACE}/1;o=1;x=2`],
  ];
  for (const [name, value] of malformed) {
    test(`is ignored when ${name}`, () => {
      expect(parseCloudTraceContext(value)).toBeUndefined();
    });
  }

  test('no string makes it throw', () => {
    fc.assert(fc.property(fc.string(), (value) => void parseCloudTraceContext(value)));
  });
});

describe('the trace of a request', () => {
  test('the Pub/Sub message attribute wins over the headers the front end adds', () => {
    const other = 'a'.repeat(32);
    const body = { message: { attributes: { eventId: 'e1', traceparent: `00-${TRACE}-${SPAN}-00` } } };
    expect(traceFromRequest({ traceparent: `00-${other}-${SPAN}-01`, 'x-cloud-trace-context': `${other}/1;o=1` }, body)?.traceId).toBe(TRACE);
  });

  test('the Pub/Sub client library attribute is read when ours is absent', () => {
    const body = { message: { attributes: { googclient_traceparent: `00-${TRACE}-${SPAN}-01` } } };
    expect(traceFromRequest({}, body)?.traceId).toBe(TRACE);
  });

  test('traceparent wins over X-Cloud-Trace-Context; a malformed one falls through to it', () => {
    const other = 'b'.repeat(32);
    expect(traceFromRequest({ traceparent: `00-${TRACE}-${SPAN}-01`, 'x-cloud-trace-context': `${other}/1` })?.traceId).toBe(TRACE);
    expect(traceFromRequest({ traceparent: 'garbage', 'x-cloud-trace-context': `${other}/1` })?.traceId).toBe(other);
  });

  test('malformed headers and bodies give no trace, and never throw', () => {
    expect(traceFromRequest({ traceparent: ['nope'], 'x-cloud-trace-context': 'nope' }, { message: { attributes: 'nope' } })).toBeUndefined();
    expect(traceFromRequest({}, null)).toBeUndefined();
    expect(traceFromRequest({}, { message: null })).toBeUndefined();
  });

  test('a started trace has random non-zero ids and is written as a valid traceparent', () => {
    const a = startTrace();
    const b = startTrace();
    expect(a.traceId).not.toBe(b.traceId);
    expect(parseTraceparent(formatTraceparent(a))).toEqual(a);
  });
});

describe('the ambient trace', () => {
  test('every log line written inside it carries the trace, span and project in Cloud Logging fields', async () => {
    // Prepare
    const lines: Record<string, unknown>[] = [];
    const logger = new Logger({ service: 't' }, 'DEBUG', (line) => lines.push(JSON.parse(line))).child({ eventKey: 'e1', productId: 'p1' });
    const context = { traceId: TRACE, spanId: SPAN, sampled: true };

    // Act
    await runWithTrace(context, async () => {
      logger.info('before a wait');
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.warn('after a wait');
    });
    logger.info('outside');

    // Assess
    const trace = `projects/${process.env.GOOGLE_CLOUD_PROJECT ?? 'restock-local'}/traces/${TRACE}`;
    expect(lines.slice(0, 2)).toEqual([
      expect.objectContaining({ message: 'before a wait', eventKey: 'e1', productId: 'p1', 'logging.googleapis.com/trace': trace, 'logging.googleapis.com/spanId': SPAN, 'logging.googleapis.com/trace_sampled': true }),
      expect.objectContaining({ message: 'after a wait', 'logging.googleapis.com/trace': trace }),
    ]);
    expect(lines[2]).not.toHaveProperty('logging.googleapis.com/trace');
  });

  test('the next hop is sent the same trace with this request span as its parent', () => {
    const context = { traceId: TRACE, spanId: SPAN, sampled: false };
    expect(runWithTrace(context, () => outgoingTraceparent())).toBe(`00-${TRACE}-${SPAN}-00`);
    expect(runWithTrace(context, () => currentTrace())).toBe(context);
    expect(outgoingTraceparent()).toBeUndefined();
  });
});
