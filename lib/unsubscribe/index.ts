/**
 * One-click unsubscribe: signed tokens naming a subscription (`token.ts`) and
 * the public route that honours them (`api.ts`). The smtp sender signs; the
 * `restockUnsubscribe` function verifies.
 */
export { createUnsubscribeApi, type UnsubscribeApi, type UnsubscribeApiDeps } from './api.ts';
export {
  InvalidUnsubscribeTokenError,
  signUnsubscribeToken,
  unsubscribeKeys,
  unsubscribeUrl,
  verifyUnsubscribeToken,
  type UnsubscribeTarget,
} from './token.ts';
