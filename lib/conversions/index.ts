/**
 * Purchases attributed to restock notifications: the storefront reports
 * each order (`POST /v1/conversions`); `rules.ts` credits it to the latest
 * notification of its product to its shopper within
 * RESTOCK_ATTRIBUTION_WINDOW_DAYS (direct if clicked, else assisted, else
 * unattributed); `store.ts` records it once per order id. The funnel that
 * counts them per restock is a CLI query (cli/queries/funnel.ts).
 */
export { attribute, type AttributionResult, type RecordedClick, type SentNotification } from './rules.ts';
export { ConversionConflictError, FirestoreConversionStore, orderKey, type ConversionRequest, type ConversionStoreOptions, type RecordedConversion } from './store.ts';
