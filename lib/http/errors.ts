/**
 * Request problems every HTTP entry point can meet before its own domain is
 * involved: wrong content type, oversized or unreadable body, malformed JSON,
 * invalid fields or parameters, unknown route, wrong method.
 *
 * One class per condition with a stable `name`; the status code and problem
 * type of each live in one table ({@link HTTP_PROBLEMS} in `problem.ts`), so
 * callers branch on the class and never on message text. Messages are shown
 * to the client as the problem's `detail`: they say what to fix and never
 * repeat personal data from the request.
 */

/** Where a problem sits in the request (RFC 9457 §3 "errors" extension shape). */
export interface FieldProblem {
  /** What is wrong, in words a client developer can act on. */
  detail: string;
  /** JSON Pointer into the body, as a URI fragment: `#/channels/email`. */
  pointer?: string;
  /** Name of a path or query parameter: `userId`, `pageSize`. */
  parameter?: string;
  /** Name of a request header, lower case: `content-type`. */
  header?: string;
}

/** Name of the offending field of a {@link FieldProblem}, whichever kind it is. */
export function fieldOf(problem: FieldProblem): string | undefined {
  return problem.pointer ?? problem.parameter ?? problem.header;
}

/** The request's media type is not one the route accepts (415). */
export class UnsupportedMediaTypeError extends Error {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly field = 'content-type';
  constructor(
    readonly received: string | undefined,
    readonly expected: string,
    options?: { cause?: unknown },
  ) {
    super(
      received
        ? `Content-Type ${JSON.stringify(received)} is not accepted; send ${expected}`
        : `Content-Type is missing; send ${expected}`,
      options,
    );
  }
}

/** The body's content encoding (gzip, br...) or charset cannot be decoded (415). */
export class UnsupportedEncodingError extends Error {
  override readonly name = 'UnsupportedEncodingError';
  constructor(
    readonly field: 'content-encoding' | 'content-type',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The body is larger than the entry point accepts (413). */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly field = 'body';
  constructor(
    /** Size seen or declared, when known. */
    readonly sizeBytes: number | undefined,
    readonly maxBytes: number,
    options?: { cause?: unknown },
  ) {
    super(
      sizeBytes === undefined
        ? `The request body is larger than the ${maxBytes} bytes accepted`
        : `The request body is ${sizeBytes} bytes; at most ${maxBytes} bytes are accepted`,
      options,
    );
  }
}

/** The body could not be read at all: aborted upload, length mismatch, corrupt compression (400). */
export class UnreadableBodyError extends Error {
  override readonly name = 'UnreadableBodyError';
  readonly field = 'body';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The body is not JSON, or not the JSON value the route expects at the top (400). */
export class MalformedJsonError extends Error {
  override readonly name = 'MalformedJsonError';
  readonly field = 'body';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Fields of the body, path or query parameters fail validation (400). `problems` lists each. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  /** The first offending field, for logs; `problems` has all of them. */
  readonly field: string | undefined;
  constructor(
    readonly problems: readonly FieldProblem[],
    options?: { cause?: unknown },
  ) {
    const first = problems[0];
    const where = first ? fieldOf(first) : undefined;
    super(
      problems.length === 1 && first
        ? `${where ? `${where}: ` : ''}${first.detail}`
        : `The request has ${problems.length} invalid fields; see errors`,
      options,
    );
    this.field = where;
  }
}

/** No route matches the path (404). */
export class RouteNotFoundError extends Error {
  override readonly name = 'RouteNotFoundError';
  readonly field = 'path';
  constructor(readonly path: string) {
    super(`No resource at ${JSON.stringify(path)}; see the API routes under /v1`);
  }
}

/** The route exists but not for this method (405). `allowed` goes into the `Allow` header. */
export class MethodNotAllowedError extends Error {
  override readonly name = 'MethodNotAllowedError';
  readonly field = 'method';
  constructor(
    readonly method: string,
    readonly allowed: readonly string[],
  ) {
    super(`${method} is not allowed here; allowed: ${allowed.join(', ')}`);
  }
}
