/**
 * Cursor of the per-user listing. The listing is ordered by document path,
 * which for one user means by product id, so the cursor is the last product
 * id returned. The token also names the user it was issued for, so a token
 * cannot be replayed against another user's listing.
 */
import { InvalidRequestError } from '../http/index.ts';
import { idProblem } from './validation.ts';

interface TokenBody {
  /** userId the token was issued for. */
  u: string;
  /** Last productId of the previous page. */
  a: string;
}

/** The opaque `nextPageToken` after `afterProductId` in `userId`'s listing. */
export function encodePageToken(userId: string, afterProductId: string): string {
  const body: TokenBody = { u: userId, a: afterProductId };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/**
 * The product id to continue after. Throws {@link InvalidRequestError} naming
 * `pageToken` when the token is not one this API issued for `userId`.
 */
export function decodePageToken(token: string, userId: string): string {
  const invalid = (detail: string) => new InvalidRequestError([{ parameter: 'pageToken', detail }]);
  let body: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a token this API issued; pass nextPageToken from the previous page unchanged');
  }
  const { u, a } = (body ?? {}) as Partial<TokenBody>;
  if (typeof u !== 'string' || typeof a !== 'string' || idProblem(a) !== undefined) {
    throw invalid('is not a token this API issued; pass nextPageToken from the previous page unchanged');
  }
  if (u !== userId) throw invalid('was issued for another user');
  return a;
}
