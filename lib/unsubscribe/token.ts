/**
 * Unsubscribe tokens: what the one-click link of an email carries instead of
 * credentials. A token names one subscription (product and shopper) and is
 * signed with HMAC-SHA-256 under a secret only the functions hold, so it is
 * verifiable without storing anything and cannot be guessed or altered: a
 * changed byte, another subscription's ids or another key fails verification.
 *
 * Shape: `u1.<base64url(JSON [productId, userId])>.<base64url(HMAC)>`. The ids
 * are readable by whoever holds the link (the shopper's own mailbox); they are
 * opaque ids, not personal data, and the link authorises one thing only:
 * removing that subscription.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isValidDocumentId } from '../model.ts';

const VERSION = 'u1';
/** Domain separation: the same key signing something else can never yield a valid token. */
const CONTEXT = 'restock-fanout:unsubscribe:';

/** The subscription a token names. */
export interface UnsubscribeTarget {
  productId: string;
  userId: string;
}

/** A token that is malformed, or whose signature does not verify under any configured key. */
export class InvalidUnsubscribeTokenError extends Error {
  override readonly name = 'InvalidUnsubscribeTokenError';
  readonly field = 'token';
  constructor(problem: string) {
    super(`unsubscribe token ${problem}`);
  }
}

function mac(key: string, payload: string): Buffer {
  return createHmac('sha256', key).update(CONTEXT + VERSION + '.' + payload).digest();
}

/**
 * Splits a comma-separated key setting (RESTOCK_UNSUBSCRIBE_SECRET): the first
 * key signs, every key verifies, so a key can be rotated without breaking the
 * links of emails already sent.
 */
export function unsubscribeKeys(setting: string): string[] {
  return setting
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
}

/** The token for a subscription, signed with the first key. */
export function signUnsubscribeToken(target: UnsubscribeTarget, keys: readonly string[]): string {
  const key = keys[0];
  if (!key) throw new RangeError('no unsubscribe key to sign with');
  const payload = Buffer.from(JSON.stringify([target.productId, target.userId]), 'utf8').toString('base64url');
  return `${VERSION}.${payload}.${mac(key, payload).toString('base64url')}`;
}

/**
 * The subscription a token names.
 * @throws InvalidUnsubscribeTokenError when it is malformed or no key verifies it.
 */
export function verifyUnsubscribeToken(token: string, keys: readonly string[]): UnsubscribeTarget {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) throw new InvalidUnsubscribeTokenError('is malformed');
  const [, payload = '', signature = ''] = parts;
  if (!/^[\w-]+$/.test(payload) || !/^[\w-]{43}$/.test(signature)) throw new InvalidUnsubscribeTokenError('is malformed');
  // Compared as text: base64url's last character carries two spare bits, and decoding would accept four spellings of one MAC.
  const given = Buffer.from(signature, 'ascii');
  if (!keys.some((key) => timingSafeEqual(Buffer.from(mac(key, payload).toString('base64url'), 'ascii'), given))) {
    throw new InvalidUnsubscribeTokenError('has an invalid signature');
  }
  let ids: unknown;
  try {
    ids = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidUnsubscribeTokenError('is malformed');
  }
  // Signed by us, so this only fails for a token signed by a buggy version: still refuse it cleanly.
  if (!Array.isArray(ids) || ids.length !== 2 || !ids.every((id) => typeof id === 'string' && isValidDocumentId(id))) {
    throw new InvalidUnsubscribeTokenError('names no subscription');
  }
  return { productId: ids[0] as string, userId: ids[1] as string };
}

/** The one-click URL of a subscription: `<base>/v1/unsubscribe/<token>`. */
export function unsubscribeUrl(baseUrl: string, target: UnsubscribeTarget, keys: readonly string[]): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe/${signUnsubscribeToken(target, keys)}`;
}
