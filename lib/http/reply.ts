/**
 * What an entry point answers, as data: the router decides a {@link HttpReply},
 * the function writes it with {@link writeReply}. Keeping the answer a value
 * makes routers testable without a server.
 */

/** Status, headers and an already serialised body. */
export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  /** Serialised body; absent for 204. */
  body?: string;
}

/** The part of Node's `ServerResponse` (and so of express's `Response`) that {@link writeReply} uses. */
export interface ResponseLike {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string): unknown;
}

/**
 * Personal data (addresses, tokens, who waits for what) must never sit in a
 * shared cache, so every answer says `no-store`.
 */
const COMMON_HEADERS: Readonly<Record<string, string>> = { 'cache-control': 'no-store' };

/**
 * Headers every answer of every function carries (issue 31, item 12): no
 * content sniffing, and a policy that lets nothing run or load, so an answer
 * that echoes a request path can never become a page. An answer that is a
 * page (the unsubscribe confirmation) sets its own, narrower-than-none policy
 * over this one.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

/** A JSON answer (`application/json; charset=utf-8`). */
export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): HttpReply {
  return {
    status,
    headers: { ...COMMON_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(value),
  };
}

/** An answer without a body (204 and the like). */
export function emptyReply(status: number, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { ...COMMON_HEADERS, ...headers } };
}

/** Writes `reply` on `res` and ends it, with {@link SECURITY_HEADERS} under the reply's own headers. */
export function writeReply(res: ResponseLike, reply: HttpReply): void {
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries({ ...SECURITY_HEADERS, ...reply.headers })) res.setHeader(name, value);
  if (reply.body === undefined) {
    res.end();
    return;
  }
  res.setHeader('content-length', Buffer.byteLength(reply.body, 'utf8'));
  res.end(reply.body);
}
