/**
 * RFC 9457 problem details (`application/problem+json`): the one shape of
 * every error answer. Errors are mapped to problems by a table of classes
 * ({@link ProblemTable}); anything not in the table is a 500 whose detail says
 * nothing about the cause, so no stack trace or internal message reaches a client.
 */
import {
  BodyTooLargeError,
  InvalidRequestError,
  MalformedJsonError,
  MethodNotAllowedError,
  RouteNotFoundError,
  UnreadableBodyError,
  UnsupportedEncodingError,
  UnsupportedMediaTypeError,
  type FieldProblem,
} from './errors.ts';
import type { HttpReply } from './reply.ts';

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Problem type URIs are tag URIs (RFC 4151): stable identifiers that are not
 * meant to be dereferenced. docs/api.md lists every one.
 */
export const PROBLEM_TYPE_PREFIX = 'tag:restock-fanout,2026:problem:';

/** The body of a problem answer. `errors` names each offending field. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

/** How one error class is answered. */
export interface ProblemSpec<E extends Error = Error> {
  status: number;
  /** Last part of the type URI, e.g. `body-too-large`. */
  type: string;
  /** Same for every occurrence of the type (RFC 9457 §3.1.3). */
  title: string;
  /** Field problems to list; by default one naming the error's `field`, if it has one. */
  errors?: (err: E) => FieldProblem[] | undefined;
  headers?: (err: E) => Record<string, string>;
  /** Extension members (RFC 9457 §3.2). */
  extensions?: (err: E) => Record<string, unknown>;
}

/** One row of a problem table: an error class and how it is answered. */
export type ProblemRow = readonly [new (...args: never[]) => Error, ProblemSpec<never>];
/** A function's one table from error class to answer; the first matching row wins. */
export type ProblemTable = readonly ProblemRow[];

/** Typed row constructor, so each spec sees its own error class. */
export function problemRow<E extends Error>(cls: new (...args: never[]) => E, spec: ProblemSpec<E>): ProblemRow {
  return [cls, spec as ProblemSpec<never>];
}

/** Where an error's `field` sits; undefined for the path and method, which the title already names. */
function locate(field: string, detail: string): FieldProblem | undefined {
  if (field === 'path' || field === 'method') return undefined;
  if (field === 'body') return { pointer: '#', detail };
  if (field.startsWith('#')) return { pointer: field, detail };
  if (/^content-|^accept/.test(field)) return { header: field, detail };
  return { parameter: field, detail };
}

/** The problems of the generic request errors in `errors.ts`. */
export const HTTP_PROBLEMS: ProblemTable = [
  problemRow(UnsupportedMediaTypeError, {
    status: 415,
    type: 'unsupported-media-type',
    title: 'Unsupported media type',
  }),
  problemRow(UnsupportedEncodingError, {
    status: 415,
    type: 'unsupported-encoding',
    title: 'Unsupported content encoding or charset',
  }),
  problemRow(BodyTooLargeError, {
    status: 413,
    type: 'body-too-large',
    title: 'Request body too large',
    extensions: (e) => ({ maxBytes: e.maxBytes }),
  }),
  problemRow(UnreadableBodyError, { status: 400, type: 'unreadable-body', title: 'Request body could not be read' }),
  problemRow(MalformedJsonError, { status: 400, type: 'malformed-json', title: 'Request body is not valid JSON' }),
  problemRow(InvalidRequestError, {
    status: 400,
    type: 'invalid-request',
    title: 'Request has invalid fields',
    errors: (e) => [...e.problems],
  }),
  problemRow(RouteNotFoundError, { status: 404, type: 'not-found', title: 'No such resource' }),
  problemRow(MethodNotAllowedError, {
    status: 405,
    type: 'method-not-allowed',
    title: 'Method not allowed',
    headers: (e) => ({ allow: e.allowed.join(', ') }),
  }),
];

/** The answer to an error no table knows: nothing about the cause leaks. */
export const INTERNAL_PROBLEM: ProblemSpec = {
  status: 500,
  type: 'internal',
  title: 'Internal error',
};

/** A problem answer with the right media type. */
export function problemReply(problem: ProblemDetails, headers: Record<string, string> = {}): HttpReply {
  return {
    status: problem.status,
    headers: { 'cache-control': 'no-store', 'content-type': PROBLEM_CONTENT_TYPE, ...headers },
    body: JSON.stringify(problem),
  };
}

/** The table row for `err`, or undefined when no class matches (an unexpected error). */
export function findProblemSpec(err: unknown, table: ProblemTable): ProblemSpec<Error> | undefined {
  if (!(err instanceof Error)) return undefined;
  for (const [cls, spec] of table) if (err instanceof cls) return spec as ProblemSpec<Error>;
  return undefined;
}

/**
 * Answers `err` as a problem using `table` (first matching class wins). An
 * error no row matches becomes a 500 with a fixed detail: its message may
 * hold internals and is for the logs only.
 */
export function errorToProblemReply(err: unknown, table: ProblemTable = HTTP_PROBLEMS): HttpReply {
  const spec = findProblemSpec(err, table);
  if (!spec || !(err instanceof Error)) {
    return problemReply({
      type: PROBLEM_TYPE_PREFIX + INTERNAL_PROBLEM.type,
      title: INTERNAL_PROBLEM.title,
      status: INTERNAL_PROBLEM.status,
      detail: 'The request could not be completed; it is safe to retry.',
    });
  }
  const field = (err as { field?: unknown }).field;
  const located = typeof field === 'string' ? locate(field, err.message) : undefined;
  const errors = spec.errors ? spec.errors(err) : located ? [located] : undefined;
  const problem: ProblemDetails = {
    type: PROBLEM_TYPE_PREFIX + spec.type,
    title: spec.title,
    status: spec.status,
    detail: err.message,
    ...(errors && errors.length > 0 ? { errors } : {}),
    ...spec.extensions?.(err),
  };
  return problemReply(problem, spec.headers?.(err));
}
