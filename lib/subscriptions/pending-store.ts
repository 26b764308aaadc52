/**
 * Pending subscriptions (double opt-in) on Firestore:
 * `products/{productId}/pendingSubscriptions/{userId}` (lib/model.ts
 * {@link PendingSubscriptionDoc}). Beside `restockSubscriptions`, never in
 * it: fan-out pages only `restockSubscriptions`, so a pending request cannot
 * be notified whatever a chunk does.
 *
 * Writes are single-document with preconditions, like the subscription
 * store's; only the confirmation is a transaction, because it moves a
 * request from one document to another and must not race an erasure: it
 * reads the pending request, and a commit after the erasure deleted it fails
 * and is retried, finding nothing to confirm.
 */
import { FieldValue, type DocumentSnapshot, type Firestore, type Timestamp } from '@google-cloud/firestore';
import { isTransientGrpcError } from '../grpc.ts';
import { COLLECTIONS, productRef, subscriptionsRef, type PendingSubscriptionDoc, type SubscriptionDoc } from '../model.ts';
import { runTransaction } from '../transaction.ts';
import { StoreUnavailableError } from './errors.ts';
import { shopperRecordTimes } from './firestore-store.ts';
import { preconditionFailed, timeOf, versionOf } from './versions.ts';
import type { SubscriptionVersion } from './store.ts';

/** A pending request as stored, with the version a conditional write must match. */
export interface StoredPending {
  doc: PendingSubscriptionDoc;
  version: SubscriptionVersion;
}

/** What became of a confirmation. */
export type ConfirmOutcome =
  /** The pending request became the subscription. */
  | 'confirmed'
  /** Nothing pending (confirmed already, erased, or never there). */
  | 'already-gone'
  /** The request expired before the shopper confirmed it. */
  | 'expired'
  /** The shopper asked again (another address) after this link was issued: the later request waits for its own link. */
  | 'later-request-kept';

/**
 * Whether a confirmation of `generation` confirms `pending` at `nowMs` (pure).
 * A subscription written after the pending request (a later PUT the
 * storefront vouched for) is the shopper's latest wish: the older request
 * is dropped, not confirmed over it.
 */
export function confirmDecision(
  pending: Pick<PendingSubscriptionDoc, 'createdAtMs' | 'expireAt'> | undefined,
  generation: number,
  nowMs: number,
  subscriptionWrittenAtMs?: number,
): 'confirm' | 'drop' | Exclude<ConfirmOutcome, 'confirmed'> {
  if (!pending) return 'already-gone';
  if (pending.createdAtMs !== generation) return 'later-request-kept';
  if (pending.expireAt.toMillis() <= nowMs) return 'expired';
  if (subscriptionWrittenAtMs !== undefined && subscriptionWrittenAtMs > pending.createdAtMs) return 'drop';
  return 'confirm';
}

/** Whether a pending request is still alive at `nowMs`: TTL deletes it within about a day of `expireAt`; until then reads treat it as gone. */
export function isLive(pending: Pick<PendingSubscriptionDoc, 'expireAt'>, nowMs: number): boolean {
  return pending.expireAt.toMillis() > nowMs;
}

/** What the PUT path needs from storage for pending requests; an in-memory double in unit tests. */
export interface PendingStore {
  /** The pending request, expired or not (the caller judges), with its version. */
  readPending(productId: string, userId: string): Promise<StoredPending | undefined>;
  /** Creates it if absent; undefined (nothing written) when one exists. */
  createPending(doc: PendingSubscriptionDoc): Promise<SubscriptionVersion | undefined>;
  /** Replaces it if still at `version`; undefined when it changed or is gone. */
  replacePending(doc: PendingSubscriptionDoc, version: SubscriptionVersion): Promise<SubscriptionVersion | undefined>;
  /** Records that the confirmation of generation `createdAtMs` went out (only if the request is still that one). */
  markSent(productId: string, userId: string, createdAtMs: number, sentAtMs: number): Promise<void>;
  /**
   * Live pending requests of `userId` across all products, counted up to
   * `upTo` (a collection-group query on `userId`; expired ones the TTL has
   * not yet removed are not counted).
   */
  countLivePendingOfUser(userId: string, nowMs: number, upTo: number): Promise<number>;
  /** Deletes it if still at `version` (false when not). */
  deletePending(productId: string, userId: string, version: SubscriptionVersion): Promise<boolean>;
  /**
   * Confirms the pending request the link of `generation` named: in one
   * transaction, writes the subscription (created with `createdAtMs` now, or
   * replacing an existing one's channels and keeping its `createdAtMs`, so
   * its sign-up goes on), lists it in the shopper's record and deletes the
   * pending request.
   */
  confirm(productId: string, userId: string, generation: number, nowMs: number): Promise<ConfirmOutcome>;
}

async function guarded<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (isTransientGrpcError(err)) throw new StoreUnavailableError({ cause: err });
    throw err;
  }
}

function toPending(snap: DocumentSnapshot): PendingSubscriptionDoc | undefined {
  const data = snap.data();
  return data ? (data as PendingSubscriptionDoc) : undefined;
}

/** `products/{productId}/pendingSubscriptions/{userId}`. */
export function pendingRef(db: Firestore, productId: string, userId: string) {
  return productRef(db, productId).collection(COLLECTIONS.pendingSubscriptions).doc(userId);
}

/** {@link PendingStore} on Firestore. Transient failures surface as {@link StoreUnavailableError} (503). */
export class FirestorePendingStore implements PendingStore {
  constructor(private readonly db: Firestore) {}

  readPending(productId: string, userId: string): Promise<StoredPending | undefined> {
    return guarded(async () => {
      const snap = await pendingRef(this.db, productId, userId).get();
      const doc = toPending(snap);
      return doc && snap.updateTime ? { doc, version: versionOf(snap.updateTime) } : undefined;
    });
  }

  createPending(doc: PendingSubscriptionDoc): Promise<SubscriptionVersion | undefined> {
    return guarded(async () => {
      try {
        const result = await pendingRef(this.db, doc.productId, doc.userId).create(doc);
        return versionOf(result.writeTime);
      } catch (err) {
        if (preconditionFailed(err)) return undefined;
        throw err;
      }
    });
  }

  replacePending(doc: PendingSubscriptionDoc, version: SubscriptionVersion): Promise<SubscriptionVersion | undefined> {
    return guarded(async () => {
      try {
        const ref = pendingRef(this.db, doc.productId, doc.userId);
        // delete-then-create under one precondition is not possible; update names every field, removing sentAtMs and locale when absent.
        const result = await ref.update(
          { ...doc, locale: doc.locale ?? FieldValue.delete(), timeZone: doc.timeZone ?? FieldValue.delete(), sentAtMs: doc.sentAtMs ?? FieldValue.delete() },
          { lastUpdateTime: timeOf(version) },
        );
        return versionOf(result.writeTime);
      } catch (err) {
        if (preconditionFailed(err)) return undefined;
        throw err;
      }
    });
  }

  markSent(productId: string, userId: string, createdAtMs: number, sentAtMs: number): Promise<void> {
    return guarded(async () => {
      const ref = pendingRef(this.db, productId, userId);
      const snap = await ref.get();
      if (!snap.exists || snap.get('createdAtMs') !== createdAtMs || !snap.updateTime) return;
      try {
        await ref.update({ sentAtMs }, { lastUpdateTime: snap.updateTime });
      } catch (err) {
        if (!preconditionFailed(err)) throw err;
      }
    });
  }

  countLivePendingOfUser(userId: string, nowMs: number, upTo: number): Promise<number> {
    return guarded(async () => {
      // Equality on userId only, so the collection-group single-field index Terraform keeps for erasure serves it;
      // expired requests are few (each was created under the cap) and filtered here.
      const snap = await this.db
        .collectionGroup(COLLECTIONS.pendingSubscriptions)
        .where('userId', '==', userId)
        .select('expireAt')
        .get();
      return Math.min(upTo, snap.docs.filter((d) => isLive({ expireAt: d.get('expireAt') as Timestamp }, nowMs)).length);
    });
  }

  deletePending(productId: string, userId: string, version: SubscriptionVersion): Promise<boolean> {
    return guarded(async () => {
      try {
        await pendingRef(this.db, productId, userId).delete({ lastUpdateTime: timeOf(version) });
        return true;
      } catch (err) {
        if (preconditionFailed(err)) return false;
        throw err;
      }
    });
  }

  confirm(productId: string, userId: string, generation: number, nowMs: number): Promise<ConfirmOutcome> {
    return guarded(() =>
      runTransaction(this.db, async (tx) => {
        const pRef = pendingRef(this.db, productId, userId);
        const sRef = subscriptionsRef(this.db, productId).doc(userId);
        const [pendingSnap, subSnap] = await tx.getAll(pRef, sRef);
        const pending = toPending(pendingSnap!);
        const existing = subSnap!.data() as SubscriptionDoc | undefined;
        const decision = confirmDecision(pending, generation, nowMs, existing?.updatedAtMs);
        if (decision === 'expired' || decision === 'drop') tx.delete(pRef);
        if (decision === 'drop') return 'later-request-kept';
        if (decision !== 'confirm') return decision;
        const subscription: SubscriptionDoc = {
          userId,
          productId,
          channels: pending!.channels,
          ...(pending!.locale !== undefined ? { locale: pending!.locale } : {}),
          ...(pending!.timeZone !== undefined ? { timeZone: pending!.timeZone } : {}),
          createdAtMs: existing?.createdAtMs ?? nowMs,
          updatedAtMs: nowMs,
          consent: { ...pending!.consent, confirmedAtMs: nowMs },
        };
        tx.set(sRef, subscription);
        tx.set(this.db.collection(COLLECTIONS.shoppers).doc(userId), { productIds: FieldValue.arrayUnion(productId), ...shopperRecordTimes(nowMs) }, { merge: true });
        tx.delete(pRef);
        return 'confirmed';
      }),
    );
  }
}
