/**
 * `GET /v1/openapi.json`: the document of `openapi.ts`, cacheable. It holds no
 * personal data, so unlike every other answer it may sit in a shared cache;
 * the ETag lets a client revalidate for free.
 */
import { emptyReply, jsonReply, type HttpReply, type HttpRequestLike } from '../http/index.ts';
import { OPENAPI_MAX_AGE_SECONDS, openApiDocument } from './openapi.ts';
import { onlyKnownParams, type QueryParams } from './validation.ts';

function matchesEtag(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  const value = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  if (value === undefined) return false;
  // Weak comparison (RFC 9110 §13.1.2): a proxy may have weakened the tag.
  return value.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === etag);
}

/** Answers the document, or 304 when `If-None-Match` names its ETag. Throws `InvalidRequestError` on query parameters. */
export async function openApiHandler({ req, query }: { req: HttpRequestLike; query: QueryParams }): Promise<HttpReply> {
  onlyKnownParams(query, []);
  const { json, etag } = openApiDocument();
  const headers = { 'cache-control': `public, max-age=${OPENAPI_MAX_AGE_SECONDS}`, etag };
  if (matchesEtag(req.headers['if-none-match'], etag)) return emptyReply(304, headers);
  const reply = jsonReply(200, null, headers);
  return { ...reply, body: json };
}
