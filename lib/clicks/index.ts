/**
 * Tracked product links: whose click a followed link is, where it lands
 * (the URL it was issued for, plus UTM parameters), prefetches told apart
 * from clicks (`rules.ts`), and recording a click once per (event, shopper,
 * channel) in `clicks/{clickKey}` (`store.ts`). The link's token is sealed by
 * lib/unsubscribe with the other public links; the public function serves
 * `/v1/c/{token}` and publishes a `click` shopper action that
 * `applyShopperActions` records here.
 */
export { clickKey, followKind, landingUrl, type ClickClaims, type Follow, type FollowKind, type UtmSettings } from './rules.ts';
export { FirestoreClickStore, type ClickRecordOutcome, type ClickToRecord } from './store.ts';
