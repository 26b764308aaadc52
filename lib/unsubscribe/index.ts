/**
 * One-click unsubscribe: sealed tokens naming a subscription and its
 * generation (`token.ts`) and the public route that honours them (`api.ts`)
 * by publishing an unsubscribe request (lib/shopper-actions). The smtp sender
 * seals; the `restockUnsubscribe` function opens.
 */
export { createUnsubscribeApi, UNSUBSCRIBE_MAX_BODY_BYTES, type UnsubscribeApi, type UnsubscribeApiDeps } from './api.ts';
export {
  clickUrl,
  confirmUrl,
  ExpiredClickTokenError,
  InvalidClickTokenError,
  openClickToken,
  sealClickToken,
  ExpiredUnsubscribeTokenError,
  InvalidUnsubscribeTokenError,
  openUnsubscribeToken,
  sealUnsubscribeToken,
  unsubscribeUrl,
  type UnsubscribeClaims,
  type UnsubscribeTarget,
} from './token.ts';
