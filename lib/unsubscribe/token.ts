/**
 * Unsubscribe tokens: what the one-click link of an email carries instead of
 * credentials. A token names one subscription (product, shopper and the
 * subscription's generation, its `createdAtMs`) and when it was issued, and
 * is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from a secret
 * only the functions hold:
 *
 * - opaque: a user id may be an email address, and links are forwarded,
 *   kept in mailboxes and logged by proxies, so nothing in a token is
 *   readable without the key;
 * - unforgeable: GCM authenticates it, so a changed byte or another key fails;
 * - tied to one subscription: `applyShopperActions` removes the subscription
 *   only if it is still the generation the token was issued for, so the link
 *   of an old email never removes a subscription the shopper made later;
 * - it expires: {@link openUnsubscribeToken} refuses a token older than the
 *   maximum age (RESTOCK_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS).
 *
 * Shape: `u2.<base64url(nonce(12) | ciphertext | tag(16))>`, the plaintext
 * `[productId, userId, generation, issuedAtMs]` as JSON. Tokens of the earlier
 * readable `u1.` format are refused (links in emails sent before the upgrade
 * stop working, docs/channels.md).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { isValidDocumentId } from '../model.ts';
import { CHANNELS, type Channel } from '../channels.ts';
import type { ClickClaims } from '../clicks/index.ts';

/**
 * What a sealed link is for. Each purpose has its own prefix and its own key
 * (HKDF's info names the purpose), so a token of one purpose never opens as
 * another: a confirmation link cannot unsubscribe, nor the reverse.
 */
export type LinkPurpose = 'unsubscribe' | 'confirm' | 'click';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** A token issued further in the future than this (clock skew) is refused. */
const MAX_FUTURE_SKEW_MS = 5 * 60_000;

/** The subscription a token names: its product, its shopper and its generation (`createdAtMs`). */
export interface UnsubscribeTarget {
  productId: string;
  userId: string;
  /** The subscription's `createdAtMs` when the token was issued: a later subscription has another. */
  generation: number;
}

/** What a token carries: its subscription and when it was issued. */
export interface UnsubscribeClaims extends UnsubscribeTarget {
  issuedAtMs: number;
}

/** A token that is malformed, or that no configured key opens: 400. */
export class InvalidUnsubscribeTokenError extends Error {
  override readonly name: string = 'InvalidUnsubscribeTokenError';
  readonly field = 'token';
  constructor(problem: string) {
    super(`unsubscribe token ${problem}`);
  }
}

/** A genuine token older than the maximum age: 400, with its own problem type so the page can say so. */
export class ExpiredUnsubscribeTokenError extends InvalidUnsubscribeTokenError {
  override readonly name = 'ExpiredUnsubscribeTokenError';
  constructor(readonly maxAgeDays: number) {
    super(`has expired (links work for ${maxAgeDays} days)`);
  }
}

/** A confirmation link (double opt-in) that is malformed or that no key opens: 400, its own problem type. */
export class InvalidConfirmTokenError extends Error {
  override readonly name: string = 'InvalidConfirmTokenError';
  readonly field = 'token';
  constructor(problem: string) {
    super(`confirmation token ${problem}`);
  }
}

/** A genuine confirmation link past RESTOCK_CONFIRMATION_TTL_HOURS: 400; the pending subscription it named has expired too. */
export class ExpiredConfirmTokenError extends InvalidConfirmTokenError {
  override readonly name = 'ExpiredConfirmTokenError';
  constructor(period: string) {
    super(`has expired (links work for ${period}); subscribe again to get a new one`);
  }
}

/** A tracked product link (`/v1/c/{token}`) that is malformed or that no key opens: 400, a page, never a redirect. */
export class InvalidClickTokenError extends Error {
  override readonly name: string = 'InvalidClickTokenError';
  readonly field = 'token';
  constructor(problem: string) {
    super(`product link ${problem}`);
  }
}

/** A genuine tracked link past RESTOCK_CLICK_TOKEN_MAX_AGE_DAYS: 400, a page that says so. */
export class ExpiredClickTokenError extends InvalidClickTokenError {
  override readonly name = 'ExpiredClickTokenError';
  constructor(period: string) {
    super(`has expired (links work for ${period})`);
  }
}

/** How long a link lives, as its expiry message says it: days, or hours under two days. */
function lifetime(maxAgeMs: number): string {
  return maxAgeMs >= 2 * 86_400_000 ? `${Math.round(maxAgeMs / 86_400_000)} days` : `${Math.max(1, Math.round(maxAgeMs / 3_600_000))} hours`;
}

/** Each purpose's prefix, key, and the errors its links fail with (each its own problem type). */
const PURPOSES: Readonly<
  Record<LinkPurpose, { version: string; keyInfo: string; noun: string; invalid: (problem: string) => Error; expired: (maxAgeMs: number) => Error }>
> = {
  unsubscribe: {
    version: 'u2',
    keyInfo: 'restock-fanout:unsubscribe-token:v2',
    noun: 'unsubscribe token',
    invalid: (problem) => new InvalidUnsubscribeTokenError(problem),
    expired: (maxAgeMs) => new ExpiredUnsubscribeTokenError(Math.round(maxAgeMs / 86_400_000)),
  },
  // Double opt-in (lib/consent): names a pending subscription, its generation the pending request's `createdAtMs`.
  confirm: {
    version: 'c2',
    keyInfo: 'restock-fanout:confirm-token:v2',
    noun: 'confirmation token',
    invalid: (problem) => new InvalidConfirmTokenError(problem),
    expired: (maxAgeMs) => new ExpiredConfirmTokenError(lifetime(maxAgeMs)),
  },
  // Tracked product links (lib/clicks): the claims are a click's, not a subscription's ({@link sealLinkFields}).
  click: {
    version: 'k1',
    keyInfo: 'restock-fanout:click-token:v1',
    noun: 'product link',
    invalid: (problem) => new InvalidClickTokenError(problem),
    expired: (maxAgeMs) => new ExpiredClickTokenError(lifetime(maxAgeMs)),
  },
};

const derived = new Map<string, Buffer>();

/** The AES-256 key of a secret for a purpose (cached: HKDF per request would be wasted work). */
function keyOf(secret: string, purpose: LinkPurpose): Buffer {
  const id = `${purpose}\u0000${secret}`;
  let key = derived.get(id);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), PURPOSES[purpose].keyInfo, 32));
    derived.set(id, key);
  }
  return key;
}

/**
 * Seals `claims` under the first key (RESTOCK_UNSUBSCRIBE_SECRET's first).
 * @throws RangeError without a key.
 */
export function sealUnsubscribeToken(claims: UnsubscribeClaims, keys: readonly string[]): string {
  return sealLinkToken('unsubscribe', claims, keys);
}

/**
 * Seals `claims` for `purpose` under the first key: the same scheme for
 * every link a message carries, one key per purpose.
 * @throws RangeError without a key.
 */
export function sealLinkToken(purpose: LinkPurpose, claims: UnsubscribeClaims, keys: readonly string[]): string {
  return sealLinkFields(purpose, [claims.productId, claims.userId, claims.generation, claims.issuedAtMs], keys);
}

/**
 * Seals any JSON array for `purpose` under the first key: the one scheme
 * (AES-256-GCM, a key per purpose, the version as associated data) behind
 * every link; {@link openLinkFields} is its inverse. Links whose claims are
 * not a subscription's (a tracked product link) seal their own fields.
 * @throws RangeError without a key.
 */
export function sealLinkFields(purpose: LinkPurpose, fields: readonly unknown[], keys: readonly string[]): string {
  const secret = keys[0];
  if (!secret) throw new RangeError(`no key to seal a ${PURPOSES[purpose].noun} with`);
  const { version } = PURPOSES[purpose];
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret, purpose), nonce);
  cipher.setAAD(Buffer.from(version, 'ascii'));
  const plain = Buffer.from(JSON.stringify(fields), 'utf8');
  const sealed = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `${version}.${sealed.toString('base64url')}`;
}

function open(sealed: Buffer, secret: string, purpose: LinkPurpose): Buffer | undefined {
  const { version } = PURPOSES[purpose];
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyOf(secret, purpose), sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(version, 'ascii'));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * What a token says, if a key opens it and it is not too old.
 * @throws InvalidUnsubscribeTokenError when it is malformed, no key opens it or it was issued in the future; ExpiredUnsubscribeTokenError when older than `maxAgeMs`.
 */
export function openUnsubscribeToken(token: string, keys: readonly string[], at: { nowMs: number; maxAgeMs: number }): UnsubscribeClaims {
  return openLinkToken('unsubscribe', token, keys, at);
}

/**
 * {@link openUnsubscribeToken} for any purpose: what a token of `purpose`
 * says, if a key opens it under that purpose and it is not too old.
 * @throws the purpose's invalid-token error (InvalidUnsubscribeTokenError, InvalidConfirmTokenError) or expired-token error (ExpiredUnsubscribeTokenError, ExpiredConfirmTokenError).
 */
export function openLinkToken(purpose: LinkPurpose, token: string, keys: readonly string[], at: { nowMs: number; maxAgeMs: number }): UnsubscribeClaims {
  const { invalid } = PURPOSES[purpose];
  const fields = openLinkFields(purpose, token, keys);
  // Sealed by us, so this only fails for a token of a buggy version: still refuse it cleanly.
  if (fields.length !== 4) throw invalid('names no subscription');
  const [productId, userId, generation, issuedAtMs] = fields;
  if (typeof productId !== 'string' || typeof userId !== 'string' || !isValidDocumentId(productId) || !isValidDocumentId(userId) || !isTime(generation) || !isTime(issuedAtMs)) {
    throw invalid('names no subscription');
  }
  checkLinkAge(purpose, issuedAtMs, at);
  return { productId, userId, generation, issuedAtMs };
}

/**
 * The fields a token of `purpose` seals, if a key opens it under that
 * purpose: a token of another purpose, a changed byte or an unknown key
 * never opens. The caller checks the fields' shape and {@link checkLinkAge}.
 * @throws the purpose's invalid-token error.
 */
export function openLinkFields(purpose: LinkPurpose, token: string, keys: readonly string[]): unknown[] {
  const { version, invalid } = PURPOSES[purpose];
  const match = /^([a-z]\d)\.([\w-]{40,2800})$/.exec(token);
  if (!match || match[1] !== version) throw invalid('is malformed');
  const sealed = Buffer.from(match[2]!, 'base64url');
  if (sealed.length <= NONCE_BYTES + TAG_BYTES) throw invalid('is malformed');
  let plain: Buffer | undefined;
  for (const key of keys) {
    plain = open(sealed, key, purpose);
    if (plain) break;
  }
  if (!plain) throw invalid('does not open under any key');
  let fields: unknown;
  try {
    fields = JSON.parse(plain.toString('utf8'));
  } catch {
    throw invalid('is malformed');
  }
  if (!Array.isArray(fields)) throw invalid('is malformed');
  return fields;
}

/**
 * Refuses a link issued in the future (beyond clock skew) or older than `maxAgeMs`.
 * @throws the purpose's invalid-token or expired-token error.
 */
export function checkLinkAge(purpose: LinkPurpose, issuedAtMs: number, at: { nowMs: number; maxAgeMs: number }): void {
  const { invalid, expired } = PURPOSES[purpose];
  if (issuedAtMs > at.nowMs + MAX_FUTURE_SKEW_MS) throw invalid('was issued in the future');
  if (at.nowMs - issuedAtMs > at.maxAgeMs) throw expired(at.maxAgeMs);
}

/**
 * Seals a tracked product link's claims (`k1.`): opaque like every link,
 * since it names the shopper and the URL.
 * @throws RangeError without a key.
 */
export function sealClickToken(claims: ClickClaims, keys: readonly string[]): string {
  return sealLinkFields('click', [claims.eventKey, claims.productId, claims.userId, claims.channel, claims.wave ?? null, claims.url, claims.issuedAtMs], keys);
}

const isHttpsUrl = (v: unknown): v is string => {
  if (typeof v !== 'string') return false;
  try {
    return new URL(v).protocol === 'https:';
  } catch {
    return false;
  }
};

/**
 * What a tracked link says, if a key opens it as a click token and it is not too old.
 * @throws InvalidClickTokenError when it is malformed, of another purpose, altered, or names no https: URL; ExpiredClickTokenError when older than `maxAgeMs`.
 */
export function openClickToken(token: string, keys: readonly string[], at: { nowMs: number; maxAgeMs: number }): ClickClaims {
  const fields = openLinkFields('click', token, keys);
  const [eventKey, productId, userId, channel, wave, url, issuedAtMs] = fields;
  if (
    fields.length !== 7 ||
    typeof eventKey !== 'string' ||
    eventKey.length === 0 ||
    typeof productId !== 'string' ||
    typeof userId !== 'string' ||
    !isValidDocumentId(productId) ||
    !isValidDocumentId(userId) ||
    !(CHANNELS as readonly unknown[]).includes(channel) ||
    !(wave === null || (typeof wave === 'number' && Number.isSafeInteger(wave) && wave > 0)) ||
    !isHttpsUrl(url) ||
    !isTime(issuedAtMs)
  ) {
    throw new InvalidClickTokenError('names no notification');
  }
  checkLinkAge('click', issuedAtMs, at);
  return { eventKey, productId, userId, channel: channel as Channel, ...(wave !== null ? { wave } : {}), url, issuedAtMs };
}

/** The tracked URL of a product link: `<base>/v1/c/<token>`, served by the public `restockUnsubscribe` function. */
export function clickUrl(baseUrl: string, claims: ClickClaims, keys: readonly string[]): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/c/${sealClickToken(claims, keys)}`;
}

/** The confirmation URL of a pending subscription: `<base>/v1/confirm/<token>` (double opt-in, lib/consent). */
export function confirmUrl(baseUrl: string, claims: UnsubscribeClaims, keys: readonly string[]): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/confirm/${sealLinkToken('confirm', claims, keys)}`;
}

/** The one-click URL of a subscription: `<base>/v1/unsubscribe/<token>`. */
export function unsubscribeUrl(baseUrl: string, claims: UnsubscribeClaims, keys: readonly string[]): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe/${sealUnsubscribeToken(claims, keys)}`;
}
