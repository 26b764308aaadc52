/**
 * Trace context as plain data: reading it from the W3C `traceparent` header
 * and Google's `X-Cloud-Trace-Context`, writing it back as `traceparent`, and
 * starting one. Pure: a malformed header is ignored (undefined), never thrown
 * on, since it comes from whoever called us.
 */
import { randomBytes } from 'node:crypto';

/** The trace a request belongs to, and the span its log lines hang under. */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero: the caller's span, or our own when we started the trace. */
  spanId: string;
  /** The caller asked for this trace to be recorded (W3C flag 01, `o=1`). */
  sampled: boolean;
}

/** Longer header values are not read at all: no valid one comes close. */
const MAX_HEADER_CHARS = 512;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const HEX2 = /^[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
const MAX_U64 = (1n << 64n) - 1n;

/**
 * A W3C `traceparent` (`00-<trace-id>-<parent-id>-<flags>`), or undefined when
 * it is not one: wrong shape, upper case, an all-zero id, version `ff`, or a
 * version-00 value with extra parts. Later versions may append parts (the
 * spec's forward compatibility); their first four are read.
 */
export function parseTraceparent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > MAX_HEADER_CHARS) return undefined;
  const parts = value.trim().split('-');
  if (parts.length < 4) return undefined;
  const [version, traceId, spanId, flags] = parts as [string, string, string, string];
  if (!HEX2.test(version) || version === 'ff' || (version === '00' && parts.length !== 4)) return undefined;
  if (!TRACE_ID.test(traceId) || traceId === ZERO_TRACE || !SPAN_ID.test(spanId) || spanId === ZERO_SPAN || !HEX2.test(flags)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/**
 * Google's `X-Cloud-Trace-Context` (`<trace-id>/<decimal span id>;o=<0|1>`),
 * or undefined when it is not one. The span id is decimal there and hex in
 * `traceparent`; a missing or zero span id gets a fresh one, since the trace
 * id is what groups the lines.
 */
export function parseCloudTraceContext(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string' || value.length > MAX_HEADER_CHARS) return undefined;
  const match = /^([0-9a-fA-F]{32})(?:\/(\d{1,20}))?(?:;o=([0-9]+))?$/.exec(value.trim());
  if (!match) return undefined;
  const traceId = match[1]!.toLowerCase();
  if (traceId === ZERO_TRACE) return undefined;
  const span = match[2] === undefined ? 0n : BigInt(match[2]);
  if (span > MAX_U64) return undefined;
  return {
    traceId,
    spanId: span === 0n ? newSpanId() : span.toString(16).padStart(16, '0'),
    sampled: match[3] !== undefined && (Number(match[3]) & 1) === 1,
  };
}

/** A new trace: random 16-byte trace id and 8-byte span id, not sampled (logs group by trace id all the same). */
export function startTrace(): TraceContext {
  let traceId = randomBytes(16).toString('hex');
  while (traceId === ZERO_TRACE) traceId = randomBytes(16).toString('hex');
  return { traceId, spanId: newSpanId(), sampled: false };
}

function newSpanId(): string {
  let spanId = randomBytes(8).toString('hex');
  while (spanId === ZERO_SPAN) spanId = randomBytes(8).toString('hex');
  return spanId;
}

/** The `traceparent` to send onward: same trace, this request's span as the parent. */
export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}

type HeaderBag = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The Pub/Sub message attributes that carry a producer's trace: ours
 * (`traceparent`, set by the outbox relay) and the one the Pub/Sub client
 * library writes when its OpenTelemetry tracing is on.
 */
export const TRACE_ATTRIBUTES = ['traceparent', 'googclient_traceparent'] as const;

/** The trace context carried by Pub/Sub message attributes, if any is valid. */
export function traceFromAttributes(attributes: unknown): TraceContext | undefined {
  if (attributes === null || typeof attributes !== 'object') return undefined;
  for (const name of TRACE_ATTRIBUTES) {
    const found = parseTraceparent((attributes as Record<string, unknown>)[name]);
    if (found) return found;
  }
  return undefined;
}

/**
 * The trace an incoming request belongs to. A Pub/Sub push (its body's
 * `message.attributes`) wins over the HTTP headers: in production the front
 * end in front of a function gives every push request a trace of its own, and
 * the producer's is the one that groups a restock. Then `traceparent`, then
 * `X-Cloud-Trace-Context`; undefined when none is valid (the caller starts one).
 * `headers` are node's (lower-case names).
 */
export function traceFromRequest(headers: HeaderBag, body?: unknown): TraceContext | undefined {
  const message = body !== null && typeof body === 'object' ? (body as { message?: unknown }).message : undefined;
  const fromMessage = message !== null && typeof message === 'object' ? traceFromAttributes((message as { attributes?: unknown }).attributes) : undefined;
  return fromMessage ?? parseTraceparent(header(headers, 'traceparent')) ?? parseCloudTraceContext(header(headers, 'x-cloud-trace-context'));
}
