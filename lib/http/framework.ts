/**
 * Errors raised by a framework before the handler runs, turned into this
 * module's typed request errors so they are answered as problems too.
 *
 * functions-framework parses every body with body-parser before calling the
 * function, and body-parser reports failures (malformed JSON, bad charset,
 * corrupt gzip, aborted upload) to express's final handler, which answers
 * HTML with a stack trace outside production. The framework offers no hook
 * for this yet (functions-framework-nodejs issue #686), so `functions/`
 * routes those errors here. Duck-typed on body-parser's documented error
 * fields (`type`, `status`), so this module stays framework-free.
 */
import {
  BodyTooLargeError,
  InvalidRequestError,
  MalformedJsonError,
  UnreadableBodyError,
  UnsupportedEncodingError,
} from './errors.ts';
import { parseJsonObject } from './request.ts';

interface BodyParserErrorShape {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
  limit?: unknown;
  length?: unknown;
  charset?: unknown;
  encoding?: unknown;
}

/**
 * The typed error a framework error stands for (a path that does not
 * percent-decode is refused by express's router, also before the function). `rawBody` (saved by the
 * framework before parsing) lets malformed JSON be described exactly as the
 * handler would describe it. Client errors that are not recognised become an
 * {@link UnreadableBodyError}; server-side ones are returned unchanged, to be
 * answered as an internal error.
 */
export function fromFrameworkError(err: unknown, rawBody?: Uint8Array): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as BodyParserErrorShape;
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  switch (e.type) {
    case 'entity.parse.failed':
      try {
        parseJsonObject(rawBody);
        // body-parser's strict mode refuses primitives our parser would have refused too;
        // reaching here means the body parsed, so say what body-parser objected to.
        return new MalformedJsonError('The request body must be a JSON object or array', { cause: err });
      } catch (ours) {
        return ours instanceof MalformedJsonError ? ours : new MalformedJsonError('The request body is not valid JSON', { cause: err });
      }
    case 'entity.too.large':
      return new BodyTooLargeError(
        typeof e.length === 'number' ? e.length : undefined,
        typeof e.limit === 'number' ? e.limit : 0,
        { cause: err },
      );
    case 'charset.unsupported':
      return new UnsupportedEncodingError(
        'content-type',
        `Charset ${JSON.stringify(String(e.charset ?? ''))} is not supported; send UTF-8`,
        { cause: err },
      );
    case 'encoding.unsupported':
      return new UnsupportedEncodingError(
        'content-encoding',
        `Content-Encoding ${JSON.stringify(String(e.encoding ?? ''))} is not supported; send gzip, deflate, br or none`,
        { cause: err },
      );
    case 'request.aborted':
      return new UnreadableBodyError('The request was aborted before its body was complete', { cause: err });
    case 'request.size.invalid':
      return new UnreadableBodyError('The body length does not match Content-Length', { cause: err });
    default:
      if (err instanceof URIError && status === 400) {
        // The router decodes the path before any handler runs; the route (and so the
        // parameter's name) is not known yet.
        return new InvalidRequestError([{ parameter: 'path', detail: 'must be valid percent-encoded UTF-8' }], { cause: err });
      }
      if (status >= 400 && status < 500) {
        return new UnreadableBodyError('The request body could not be read (check Content-Encoding and Content-Length)', {
          cause: err,
        });
      }
      return err instanceof Error ? err : new Error(String(err));
  }
}
