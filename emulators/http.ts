/**
 * Request plumbing the HTTP stand-ins share (emulators/fcm, emulators/webpush):
 * a JSON answer and a request body read whole, optionally bounded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers `value` as JSON with `status` (and any extra headers, such as Retry-After). */
export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** The request's body, or undefined once it passes `maxBytes` (the stand-in answers 413). */
export async function readBody(req: IncomingMessage, maxBytes = Number.POSITIVE_INFINITY): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
