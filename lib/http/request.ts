/**
 * The request as an entry point sees it, framework-free, and the checks every
 * JSON route makes on it: media type, size, JSON syntax.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { BodyTooLargeError, MalformedJsonError, UnreadableBodyError, UnsupportedEncodingError, UnsupportedMediaTypeError } from './errors.ts';

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

type Decoder = (wire: Buffer, options: { maxOutputLength: number }) => Buffer;
const DECODERS: Record<string, Decoder | null> = {
  identity: null,
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateSync,
  br: brotliDecompressSync,
};

/**
 * Whether a request's body is bounded by what it declares: an identity body
 * with a `Content-Length` (a parser reads exactly that many bytes). A chunked
 * or compressed body is not, and must be read through {@link readBoundedBody}.
 */
export function isDeclaredIdentityBody(req: Pick<HttpRequestLike, 'headers'>): boolean {
  const encoding = (headerValue(req, 'content-encoding') ?? 'identity').trim().toLowerCase();
  return encoding === 'identity' && /^\d+$/.test(headerValue(req, 'content-length') ?? '');
}

/**
 * Reads a body of any transfer or content encoding, never holding more than
 * `maxBytes` of it: the bytes on the wire are counted as they arrive and the
 * reading stops past the limit; a compressed body is then inflated with its
 * output capped at the limit, so a few kilobytes of gzip cannot become
 * gigabytes in memory. Resolves to the decoded bytes.
 * @throws BodyTooLargeError past the limit (on the wire or inflated),
 *   UnsupportedEncodingError for an encoding other than gzip, deflate, br or identity (or a list of them),
 *   UnreadableBodyError for a corrupt compressed body or a failed upload.
 */
export async function readBoundedBody(
  body: AsyncIterable<Uint8Array>,
  headers: HttpRequestLike['headers'],
  maxBytes: number,
): Promise<Buffer> {
  const encoding = (headerValue({ headers }, 'content-encoding') ?? 'identity').trim().toLowerCase() || 'identity';
  const decoder = DECODERS[encoding];
  if (decoder === undefined) {
    throw new UnsupportedEncodingError('content-encoding', `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported; send gzip, deflate, br or none`);
  }
  const chunks: Uint8Array[] = [];
  let wireBytes = 0;
  try {
    for await (const chunk of body) {
      wireBytes += chunk.byteLength;
      if (wireBytes > maxBytes) throw new BodyTooLargeError(undefined, maxBytes);
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof BodyTooLargeError) throw err;
    throw new UnreadableBodyError('The request was aborted before its body was complete', { cause: err });
  }
  const wire = Buffer.concat(chunks, wireBytes);
  if (decoder === null) return wire;
  let decoded: Buffer;
  try {
    decoded = decoder(wire, { maxOutputLength: maxBytes + 1 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLargeError(undefined, maxBytes, { cause: err });
    throw new UnreadableBodyError(`The body is not valid ${encoding} (check Content-Encoding)`, { cause: err });
  }
  if (decoded.byteLength > maxBytes) throw new BodyTooLargeError(undefined, maxBytes);
  return decoded;
}
