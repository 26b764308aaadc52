/**
 * The subscription API: how shoppers get onto a product's waiting list.
 * `createSubscriptionApi` turns a request into an answer; the store is
 * Firestore in production (`FirestoreSubscriptionStore`).
 */
export { createSubscriptionApi, type SubscriptionApi, type SubscriptionApiDeps, type SubscriptionApiSettings } from './router.ts';
export { FirestoreSubscriptionStore } from './firestore-store.ts';
export type { StoredSubscription, SubscriptionStore, SubscriptionVersion } from './store.ts';
export { isInStock, planPut, putSubscription, PUT_ROUNDS, type PutOutcome, type PutPlan } from './service.ts';
export { ConcurrentChangeError, ProductInStockError, StoreUnavailableError, SubscriptionLimitError, SubscriptionNotFoundError } from './errors.ts';
export { MAX_ID_BYTES, idProblem, parseSubscriptionRequest, type ConsentClaim, type SubscriptionRequest } from './validation.ts';
export { toPendingView, toView, type PendingView, type SubscriptionView } from './view.ts';
export { channelsToConfirm, consentRecordOf } from './consent.ts';
export { FirestorePendingStore, confirmDecision, pendingRef, type ConfirmOutcome, type PendingStore, type StoredPending } from './pending-store.ts';
export {
  ConfirmationRateLimitedError,
  ConfirmationRejectedError,
  ConfirmationUnavailableError,
  putPending,
  type ConfirmationMessage,
  type ConfirmationOutcome,
  type ConfirmationSender,
} from './pending.ts';
export { SUBSCRIPTION_PROBLEMS } from './problems.ts';
export { identifyCaller, CallerNotAllowedError, CallerNotIdentifiedError, requireScope, type Caller, type CallerPolicy } from './caller.ts';
export { OPENAPI_PATH, openApiDocument, type OpenApiDocument } from './openapi.ts';
