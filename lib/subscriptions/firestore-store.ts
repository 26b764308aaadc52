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
import { FieldPath, type DocumentSnapshot, type Firestore, type Transaction } from '@google-cloud/firestore';
import { COLLECTIONS, productRef, subscriptionsRef, type ProductDoc, type SubscriptionDoc } from '../model.ts';
import { StoreUnavailableError } from './errors.ts';
import type { SubscriptionStore, SubscriptionTransaction } from './store.ts';
import { isRetryableTransactionError, runTransaction } from '../transaction.ts';

/**
 * gRPC codes worth a client retry: DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
 * ABORTED (contention left after the client's own transaction retries),
 * UNAVAILABLE.
 */
const TRANSIENT_CODES = new Set([4, 8, 10, 14]);

function transient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // What runTransaction retries is contention too, once its retries ran out: 503, not 500.
  return (typeof code === 'number' && TRANSIENT_CODES.has(code)) || isRetryableTransactionError(err);
}

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
    channels: {
      ...(typeof channels.email === 'string' ? { email: channels.email } : {}),
      ...(typeof channels.push === 'string' ? { push: channels.push } : {}),
    },
    ...(typeof data.locale === 'string' ? { locale: data.locale } : {}),
    createdAtMs: Number(data.createdAtMs),
    updatedAtMs: Number(data.updatedAtMs),
  };
}

class FirestoreSubscriptionTransaction implements SubscriptionTransaction {
  constructor(
    private readonly store: FirestoreSubscriptionStore,
    private readonly tx: Transaction,
  ) {}

  async getSubscription(productId: string, userId: string): Promise<SubscriptionDoc | undefined> {
    return toSubscription(await this.tx.get(this.store.subscriptionRef(productId, userId)));
  }

  async getProduct(productId: string): Promise<ProductDoc | undefined> {
    const snap = await this.tx.get(this.store.productRef(productId));
    return snap.exists ? (snap.data() as ProductDoc) : undefined;
  }

  async countSubscriptionsOfUser(userId: string): Promise<number> {
    const snap = await this.tx.get(this.store.subscriptionsOfUser(userId).count());
    return snap.data().count;
  }

  setSubscription(doc: SubscriptionDoc): void {
    this.tx.set(this.store.subscriptionRef(doc.productId, doc.userId), doc);
  }
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

  transact<T>(work: (tx: SubscriptionTransaction) => Promise<T>): Promise<T> {
    return guarded(() => runTransaction(this.db, (tx) => work(new FirestoreSubscriptionTransaction(this, tx))));
  }

  getSubscription(productId: string, userId: string): Promise<SubscriptionDoc | undefined> {
    return guarded(async () => toSubscription(await this.subscriptionRef(productId, userId).get()));
  }

  async deleteSubscription(productId: string, userId: string): Promise<void> {
    await guarded(() => this.subscriptionRef(productId, userId).delete());
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
