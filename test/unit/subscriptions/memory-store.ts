/**
 * In-memory {@link SubscriptionStore} for unit tests of the rules and the
 * router. Transactions run one at a time against a copy and commit at the end,
 * which is enough to test outcomes (not concurrency).
 */
import type { ProductDoc, SubscriptionDoc } from '../../../lib/model.ts';
import type { SubscriptionStore, SubscriptionTransaction } from '../../../lib/subscriptions/index.ts';

const key = (productId: string, userId: string) => `${productId}\u0000${userId}`;

export class MemorySubscriptionStore implements SubscriptionStore {
  readonly products = new Map<string, ProductDoc>();
  readonly subscriptions = new Map<string, SubscriptionDoc>();
  /** Number of subscription writes committed, to check that no-op requests write nothing. */
  writes = 0;

  setProduct(productId: string, available: number): void {
    this.products.set(productId, { productId, available, sequence: 1, updatedAtMs: 0 });
  }

  async transact<T>(work: (tx: SubscriptionTransaction) => Promise<T>): Promise<T> {
    const pending: SubscriptionDoc[] = [];
    const tx: SubscriptionTransaction = {
      getSubscription: async (p, u) => this.subscriptions.get(key(p, u)),
      getProduct: async (p) => this.products.get(p),
      countSubscriptionsOfUser: async (u) => [...this.subscriptions.values()].filter((s) => s.userId === u).length,
      setSubscription: (doc) => pending.push(structuredClone(doc)),
    };
    const result = await work(tx);
    for (const doc of pending) {
      this.subscriptions.set(key(doc.productId, doc.userId), doc);
      this.writes++;
    }
    return result;
  }

  async getSubscription(productId: string, userId: string) {
    return this.subscriptions.get(key(productId, userId));
  }

  async deleteSubscription(productId: string, userId: string) {
    this.subscriptions.delete(key(productId, userId));
  }

  async listSubscriptionsOfUser(userId: string, limit: number, afterProductId?: string) {
    return [...this.subscriptions.values()]
      .filter((s) => s.userId === userId && (afterProductId === undefined || s.productId > afterProductId))
      .sort((a, b) => (a.productId < b.productId ? -1 : 1))
      .slice(0, limit);
  }

  async countSubscriptionsOfProduct(productId: string) {
    return [...this.subscriptions.values()].filter((s) => s.productId === productId).length;
  }
}
