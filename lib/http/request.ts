/**
 * The request as an entry point sees it, framework-free, and the checks every
 * JSON route makes on it: media type, size, JSON syntax.
 */
import { BodyTooLargeError, MalformedJsonError, UnsupportedMediaTypeError } from './errors.ts';

/** The part of an HTTP request the domain needs. functions/ adapts its framework's request to it. */
export interface HttpRequestLike {
  method: string;
  /** Path and query as received (still percent-encoded), e.g. `/v1/users/u%201/subscriptions?pageSize=5`. */
  url: string;
  /** Header names in lower case, as Node gives them. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body bytes, when the request had a body. */
  rawBody?: Uint8Array | undefined;
}

/** A header's single value (the first, if repeated), or undefined. */
export function headerValue(req: Pick<HttpRequestLike, 'headers'>, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Requires `Content-Type: application/json`, with no charset or `utf-8`
 * (RFC 8259 §8.1: JSON exchanged between systems is UTF-8).
 * Throws {@link UnsupportedMediaTypeError}.
 */
export function requireJsonContentType(req: Pick<HttpRequestLike, 'headers'>): void {
  const contentType = headerValue(req, 'content-type');
  const expected = 'application/json';
  if (!contentType) throw new UnsupportedMediaTypeError(undefined, expected);
  const [mediaType = '', ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/^"|"$/g, '');
  if (mediaType !== expected || (charset !== undefined && charset !== 'utf-8')) {
    throw new UnsupportedMediaTypeError(contentType, `${expected} (UTF-8)`);
  }
}

/**
 * Refuses a body over `maxBytes`, by its declared `Content-Length` or its
 * actual size. Throws {@link BodyTooLargeError}.
 */
export function requireBodyWithin(req: Pick<HttpRequestLike, 'headers' | 'rawBody'>, maxBytes: number): void {
  const declared = Number(headerValue(req, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new BodyTooLargeError(declared, maxBytes);
  const actual = req.rawBody?.byteLength ?? 0;
  if (actual > maxBytes) throw new BodyTooLargeError(actual, maxBytes);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Parses a UTF-8 JSON body whose top level must be an object. Throws
 * {@link MalformedJsonError} for an empty body, invalid UTF-8, a syntax error
 * (with its position, never an excerpt, since the body may hold personal data)
 * or another top-level value.
 */
export function parseJsonObject(raw: Uint8Array | undefined): Record<string, unknown> {
  if (!raw || raw.byteLength === 0) throw new MalformedJsonError('The request body is empty; send a JSON object');
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch (cause) {
    throw new MalformedJsonError('The request body is not valid UTF-8', { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const position = /position (\d+)/.exec(String((cause as Error).message))?.[1];
    throw new MalformedJsonError(
      position === undefined
        ? 'The request body is not valid JSON'
        : `The request body is not valid JSON (syntax error at character ${position})`,
      { cause },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new MalformedJsonError(`The request body must be a JSON object, not ${kind}`);
  }
  return value as Record<string, unknown>;
}
