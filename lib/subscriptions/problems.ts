/**
 * The one table from error class to answer for the subscription API: the
 * domain's conditions first, then the generic request problems of `lib/http`.
 */
import { TokenKeysUnavailableError } from '../auth/index.ts';
import { HTTP_PROBLEMS, problemRow, type ProblemTable } from '../http/index.ts';
import { CallerNotAllowedError, CallerNotIdentifiedError } from './caller.ts';
import { ProductInStockError, StoreUnavailableError, SubscriptionLimitError, SubscriptionNotFoundError } from './errors.ts';
import { ConfirmationRateLimitedError, ConfirmationRejectedError, ConfirmationUnavailableError } from './pending.ts';
import { ConversionConflictError } from '../conversions/index.ts';

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 1;

export const SUBSCRIPTION_PROBLEMS: ProblemTable = [
  problemRow(ConversionConflictError, {
    status: 409,
    type: 'conversion-conflict',
    title: 'Order reported before with other facts',
    errors: (e) => [{ pointer: `#/${e.field === 'purchasedAtMs' ? 'purchasedAt' : e.field}`, detail: e.message }],
  }),
  problemRow(ProductInStockError, {
    status: 409,
    type: 'product-in-stock',
    title: 'Product is in stock',
    extensions: (e) => ({ productId: e.productId }),
  }),
  problemRow(SubscriptionLimitError, {
    status: 409,
    type: 'subscription-limit-reached',
    title: 'Too many active subscriptions',
    extensions: (e) => ({ limit: e.limit }),
  }),
  problemRow(SubscriptionNotFoundError, {
    status: 404,
    type: 'subscription-not-found',
    title: 'No such subscription',
    errors: () => undefined,
  }),
  problemRow(ConfirmationRateLimitedError, {
    status: 429,
    type: 'confirmation-rate-limited',
    title: 'Too many confirmation messages to this address',
    errors: (e) => [{ pointer: `#/channels/${e.channel}`, detail: e.message }],
    headers: (e) => ({ 'retry-after': String(Math.max(1, Math.ceil(e.retryAfterMs / 1000))) }),
  }),
  problemRow(ConfirmationRejectedError, {
    status: 400,
    type: 'confirmation-address-refused',
    title: 'The confirmation message was refused',
    errors: (e) => [{ pointer: `#/channels/${e.channel}`, detail: e.message }],
  }),
  problemRow(ConfirmationUnavailableError, {
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    headers: () => ({ 'retry-after': String(RETRY_AFTER_SECONDS) }),
  }),
  problemRow(CallerNotIdentifiedError, {
    status: 401,
    type: 'caller-not-identified',
    title: 'Caller not identified',
    errors: (e) => [{ header: 'authorization', detail: e.message }],
    headers: () => ({ 'www-authenticate': 'Bearer' }),
  }),
  problemRow(CallerNotAllowedError, {
    status: 403,
    type: 'caller-not-allowed',
    title: 'Caller may not act for this shopper',
    errors: (e) => [e.field === 'userId' ? { parameter: 'userId', detail: e.message } : { header: 'authorization', detail: e.message }],
  }),
  problemRow(StoreUnavailableError, {
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    headers: () => ({ 'retry-after': String(RETRY_AFTER_SECONDS) }),
  }),
  problemRow(TokenKeysUnavailableError, {
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    headers: () => ({ 'retry-after': String(RETRY_AFTER_SECONDS) }),
  }),
  ...HTTP_PROBLEMS,
];
