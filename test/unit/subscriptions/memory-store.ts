/**
 * In-memory {@link SubscriptionStore} for unit tests of the rules and the
 * router. Conditional writes behave as Firestore's preconditions do (create
 * only if absent, replace or delete only at the version read), and
 * `beforeWrite` lets a test slip another writer in between a read and a
 * write, to check what the rules do when they lose such a race.
 */
import type { ProductDoc, SubscriptionDoc } from '../../../lib/model.ts';
import type { StoredSubscription, SubscriptionStore, SubscriptionVersion } from '../../../lib/subscriptions/index.ts';

const key = (productId: string, userId: string) => `${productId}\u0000${userId}`;

export class MemorySubscriptionStore implements SubscriptionStore {
  readonly products = new Map<string, ProductDoc>();
  readonly subscriptions = new Map<string, StoredSubscription>();
  /** Number of subscription writes committed, to check that no-op requests write nothing. */
  writes = 0;
  /** The shoppers' records (`shoppers/{userId}.productIds`). */
  readonly records = new Map<string, Set<string>>();
  /** The store methods called, in order (to check what a PUT costs in round trips). */
  readonly calls: string[] = [];
  /** How many exact recounts ran. */
  recounts = 0;
  /** Runs (once each, in order) just before the next conditional writes: a concurrent writer's turn. */
  beforeWrite: Array<() => void> = [];
  private clock = 0;

  setProduct(productId: string, available: number): void {
    this.products.set(productId, { productId, available, sequence: 1, updatedAtMs: 0 });
  }

  /** Writes a subscription as another API call would (a new version, listed in the shopper's record). */
  put(doc: SubscriptionDoc): void {
    this.subscriptions.set(key(doc.productId, doc.userId), { doc: structuredClone(doc), version: this.nextVersion() });
    this.record(doc.userId).add(doc.productId);
  }

  /** Removes a subscription as a delivery does (one-shot): the shopper's record is not touched. */
  deliver(productId: string, userId: string): void {
    this.subscriptions.delete(key(productId, userId));
  }

  private record(userId: string): Set<string> {
    let r = this.records.get(userId);
    if (!r) {
      r = new Set();
      this.records.set(userId, r);
    }
    return r;
  }

  private nextVersion(): SubscriptionVersion {
    return String(++this.clock) as SubscriptionVersion;
  }

  private interleave(): void {
    this.beforeWrite.shift()?.();
  }

  async readForPut(productId: string, userId: string) {
    this.calls.push('readForPut');
    const subscription = this.subscriptions.get(key(productId, userId));
    const product = this.products.get(productId);
    return {
      ...(subscription ? { subscription: structuredClone(subscription) } : {}),
      ...(product ? { product: { ...product } } : {}),
    };
  }

  async readAfterCreate(productId: string, userId: string) {
    this.calls.push('readAfterCreate');
    const product = this.products.get(productId);
    return { ...(product ? { product: { ...product } } : {}), held: this.records.get(userId)?.size ?? 0 };
  }

  async listedFor(userId: string) {
    this.calls.push('listedFor');
    return this.records.get(userId)?.size ?? 0;
  }

  async recountSubscriptionsOfUser(userId: string, upTo: number) {
    this.calls.push('recountSubscriptionsOfUser');
    this.recounts++;
    const held = [...this.subscriptions.values()].filter((s) => s.doc.userId === userId).slice(0, upTo);
    this.records.set(userId, new Set(held.map((s) => s.doc.productId)));
    return held.length;
  }

  async createSubscription(doc: SubscriptionDoc) {
    this.calls.push('createSubscription');
    this.interleave();
    if (this.subscriptions.has(key(doc.productId, doc.userId))) return undefined;
    this.put(doc);
    this.writes++;
    return this.subscriptions.get(key(doc.productId, doc.userId))!.version;
  }

  async replaceSubscription(doc: SubscriptionDoc, version: SubscriptionVersion) {
    this.calls.push('replaceSubscription');
    this.interleave();
    if (this.subscriptions.get(key(doc.productId, doc.userId))?.version !== version) return false;
    this.put(doc);
    this.writes++;
    return true;
  }

  async getSubscription(productId: string, userId: string) {
    return this.subscriptions.get(key(productId, userId))?.doc;
  }

  async deleteSubscription(productId: string, userId: string, version?: SubscriptionVersion) {
    this.calls.push('deleteSubscription');
    this.interleave();
    const k = key(productId, userId);
    if (version !== undefined && this.subscriptions.get(k)?.version !== version) return false;
    this.subscriptions.delete(k);
    this.records.get(userId)?.delete(productId);
    return true;
  }

  async listSubscriptionsOfUser(userId: string, limit: number, afterProductId?: string) {
    return [...this.subscriptions.values()]
      .map((s) => s.doc)
      .filter((s) => s.userId === userId && (afterProductId === undefined || s.productId > afterProductId))
      .sort((a, b) => (a.productId < b.productId ? -1 : 1))
      .slice(0, limit);
  }

  async countSubscriptionsOfProduct(productId: string) {
    return [...this.subscriptions.values()].filter((s) => s.doc.productId === productId).length;
  }
}
