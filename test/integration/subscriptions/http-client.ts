/**
 * Requests against the function under test, read whole, for the
 * subscription API's integration tests (which run on the shared stack of
 * `test/helpers/`). Every answer is checked against the OpenAPI document
 * (`lib/subscriptions/openapi.ts`): status, content type and body. This is
 * the contract test: a test whose answer the document does not describe fails.
 */
import { assertKeepsContract } from '../../helpers/openapi-contract.ts';

/** An answer read whole: status, headers, text and (when JSON) the parsed body. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** Sends one request; `json` is serialised with `content-type: application/json`. */
export async function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { json?: unknown; body?: string | Uint8Array<ArrayBuffer>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array<ArrayBuffer> | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const answer = { status: res.status, headers: res.headers, text, body: /json/.test(type) && text ? JSON.parse(text) : undefined };
  assertKeepsContract(method, path, answer);
  return answer;
}
