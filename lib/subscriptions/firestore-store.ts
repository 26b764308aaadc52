/**
 * {@link SubscriptionStore} on Firestore, with the data model of `lib/model.ts`:
 * `products/{productId}/restockSubscriptions/{userId}`.
 *
 * The per-user listing and the per-user count are collection-group queries on
 * `restockSubscriptions` filtered by `userId ==`; they need a single-field
 * index on `userId` with collection-group scope (Firestore creates only
 * collection-scope ones automatically). Both are ordered by document path, so
 * no composite index is needed.
 */
import { FieldPath, FieldValue, Timestamp, type DocumentSnapshot, type Firestore } from '@google-cloud/firestore';
import { CHANNELS, COLLECTIONS, productRef, subscriptionsRef, type ProductDoc, type SubscriptionDoc } from '../model.ts';
import { StoreUnavailableError } from './errors.ts';
import type { StoredSubscription, SubscriptionStore, SubscriptionVersion } from './store.ts';
import { isTransientGrpcError } from '../grpc.ts';
import { preconditionFailed, timeOf, versionOf } from './versions.ts';

/** Transient failures (the one classifier, lib/grpc.ts) answer 503, not 500. */
const transient = isTransientGrpcError;

async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (transient(err)) throw new StoreUnavailableError({ cause: err });
    throw err;
  }
}

function toSubscription(snap: DocumentSnapshot): SubscriptionDoc | undefined {
  const data = snap.data();
  if (!data) return undefined;
  const channels = (data.channels ?? {}) as SubscriptionDoc['channels'];
  return {
    userId: String(data.userId),
    productId: String(data.productId),
    channels: Object.fromEntries(CHANNELS.flatMap((c) => (typeof channels[c] === 'string' ? [[c, channels[c]]] : []))),
    ...(typeof data.locale === 'string' ? { locale: data.locale } : {}),
    ...(typeof data.timeZone === 'string' ? { timeZone: data.timeZone } : {}),
    createdAtMs: Number(data.createdAtMs),
    updatedAtMs: Number(data.updatedAtMs),
    ...(data.consent && typeof data.consent === 'object' ? { consent: data.consent as SubscriptionDoc['consent'] } : {}),
  };
}

/**
 * `shoppers/{userId}`: `{ productIds, updatedAtMs, expireAt }`, the products
 * this API subscribed the shopper to. Written in the same commit as each
 * create and delete here, one document per shopper (never a hot one);
 * deliveries remove subscriptions without touching it, so it may list more
 * than the shopper holds, which only ever sends a create to the exact
 * recount.
 *
 * It is personal data (the user id and what they wait for), so it does not
 * outlive its use: the API deletes it when it removes the last product it
 * lists, and otherwise Firestore's TTL deletes it {@link SHOPPER_RECORD_TTL_DAYS}
 * days after the shopper's last sign-up or change through the API (a shopper
 * whose subscriptions all went by delivery). Deliveries do not keep it
 * exact because that would add a write per notification to the hot path.
 * Expired while subscriptions wait, it only lets an idle shopper sign up
 * for up to the cap again before the record reaches the cap and the exact
 * recount refuses: the cap guards against floods, which keep the record fresh.
 */
const SHOPPERS = COLLECTIONS.shoppers;

/** How long a shopper's record outlives their last sign-up or change through the API (docs/privacy.md). */
export const SHOPPER_RECORD_TTL_DAYS = 90;

/** The fields every write of a shopper's record sets besides `productIds`. @internal */
export function shopperRecordTimes(nowMs: number): { updatedAtMs: number; expireAt: Timestamp } {
  return { updatedAtMs: nowMs, expireAt: Timestamp.fromMillis(nowMs + SHOPPER_RECORD_TTL_DAYS * 86_400_000) };
}

/** How many products a shopper's record lists (0 without a record). */
function listedIn(record: DocumentSnapshot): number {
  const listed: unknown = record.get('productIds');
  return Array.isArray(listed) ? listed.length : 0;
}

/** Firestore-backed store. Transient Firestore failures surface as {@link StoreUnavailableError}. */
export class FirestoreSubscriptionStore implements SubscriptionStore {
  constructor(private readonly db: Firestore) {}

  /** @internal */
  productRef(productId: string) {
    return productRef(this.db, productId);
  }

  /** @internal */
  subscriptionRef(productId: string, userId: string) {
    return subscriptionsRef(this.db, productId).doc(userId);
  }

  /** @internal */
  subscriptionsOfUser(userId: string) {
    return this.db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', userId);
  }

  /** @internal `shoppers/{userId}`: the products this API subscribed the shopper to (see {@link SubscriptionStore.readAfterCreate}). */
  shopperRef(userId: string) {
    return this.db.collection(SHOPPERS).doc(userId);
  }

  readForPut(productId: string, userId: string): Promise<{ subscription?: StoredSubscription; product?: ProductDoc }> {
    return guarded(async () => {
      const [subSnap, productSnap] = await this.db.getAll(this.subscriptionRef(productId, userId), this.productRef(productId));
      const doc = toSubscription(subSnap!);
      return {
        ...(doc && subSnap!.updateTime ? { subscription: { doc, version: versionOf(subSnap!.updateTime) } } : {}),
        ...(productSnap!.exists ? { product: productSnap!.data() as ProductDoc } : {}),
      };
    });
  }

  readAfterCreate(productId: string, userId: string): Promise<{ product?: ProductDoc; held: number }> {
    return guarded(async () => {
      const [productSnap, shopperSnap] = await this.db.getAll(this.productRef(productId), this.shopperRef(userId));
      return {
        held: listedIn(shopperSnap!),
        ...(productSnap!.exists ? { product: productSnap!.data() as ProductDoc } : {}),
      };
    });
  }

  listedFor(userId: string): Promise<number> {
    return guarded(async () => listedIn(await this.shopperRef(userId).get()));
  }

  recountSubscriptionsOfUser(userId: string, upTo: number): Promise<number> {
    return guarded(async () => {
      const snap = await this.subscriptionsOfUser(userId).select().limit(upTo).get();
      const productIds = snap.docs.map((d) => d.ref.parent.parent!.id);
      if (productIds.length === 0) await this.shopperRef(userId).delete();
      else await this.shopperRef(userId).set({ productIds, ...shopperRecordTimes(Date.now()) });
      return productIds.length;
    });
  }

  createSubscription(doc: SubscriptionDoc): Promise<SubscriptionVersion | undefined> {
    return guarded(async () => {
      try {
        const [created] = await this.db
          .batch()
          .create(this.subscriptionRef(doc.productId, doc.userId), doc)
          .set(this.shopperRef(doc.userId), { productIds: FieldValue.arrayUnion(doc.productId), ...shopperRecordTimes(doc.updatedAtMs) }, { merge: true })
          .commit();
        return versionOf(created!.writeTime);
      } catch (err) {
        if (preconditionFailed(err)) return undefined;
        throw err;
      }
    });
  }

  replaceSubscription(doc: SubscriptionDoc, version: SubscriptionVersion): Promise<boolean> {
    return guarded(async () => {
      // update() replaces each named top-level field whole (channels included), so
      // naming every field of the model replaces the document; locale may go away.
      const fields = {
        userId: doc.userId,
        productId: doc.productId,
        channels: doc.channels,
        locale: doc.locale ?? FieldValue.delete(),
        timeZone: doc.timeZone ?? FieldValue.delete(),
        createdAtMs: doc.createdAtMs,
        updatedAtMs: doc.updatedAtMs,
        consent: doc.consent ?? FieldValue.delete(),
      };
      try {
        await this.subscriptionRef(doc.productId, doc.userId).update(fields, { lastUpdateTime: timeOf(version) });
        return true;
      } catch (err) {
        if (preconditionFailed(err)) return false;
        throw err;
      }
    });
  }

  getSubscription(productId: string, userId: string): Promise<SubscriptionDoc | undefined> {
    return guarded(async () => toSubscription(await this.subscriptionRef(productId, userId).get()));
  }

  deleteSubscription(productId: string, userId: string, version?: SubscriptionVersion): Promise<boolean> {
    return guarded(async () => {
      try {
        await this.db
          .batch()
          .delete(this.subscriptionRef(productId, userId), version ? { lastUpdateTime: timeOf(version) } : {})
          .set(this.shopperRef(userId), { productIds: FieldValue.arrayRemove(productId), ...shopperRecordTimes(Date.now()) }, { merge: true })
          .commit();
        await this.dropRecordIfEmpty(userId);
        return true;
      } catch (err) {
        if (version && preconditionFailed(err)) return false;
        throw err;
      }
    });
  }

  /**
   * Deletes the shopper's record once it lists nothing, unless a create
   * wrote it since it was read (the precondition): the last removal through
   * the API ends the record at once, not at its TTL.
   */
  private async dropRecordIfEmpty(userId: string): Promise<void> {
    const snap = await this.shopperRef(userId).get();
    const listed: unknown = snap.get('productIds');
    if (!snap.exists || !snap.updateTime || (Array.isArray(listed) && listed.length > 0)) return;
    try {
      await snap.ref.delete({ lastUpdateTime: snap.updateTime });
    } catch (err) {
      if (!preconditionFailed(err)) throw err;
    }
  }

  listSubscriptionsOfUser(userId: string, limit: number, afterProductId?: string): Promise<SubscriptionDoc[]> {
    return guarded(async () => {
      let query = this.subscriptionsOfUser(userId).orderBy(FieldPath.documentId()).limit(limit);
      // A collection-group cursor on the document id must be a full path.
      if (afterProductId !== undefined) query = query.startAfter(this.subscriptionRef(afterProductId, userId).path);
      const snap = await query.get();
      return snap.docs.flatMap((d) => toSubscription(d) ?? []);
    });
  }

  countSubscriptionsOfProduct(productId: string): Promise<number> {
    return guarded(async () => {
      const snap = await subscriptionsRef(this.db, productId).count().get();
      return snap.data().count;
    });
  }
}
