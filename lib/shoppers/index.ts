/**
 * A shopper's data on request: export (everything held about them) and
 * erasure (everything removed except what dedup needs), for the subscription
 * API's `/v1/shoppers/{userId}` and `restock shopper export|erase`.
 */
export { ERASED_USER_PREFIX, FirestoreShopperData, type ErasureReceipt, type ShopperData, type ShopperExport } from './data.ts';
