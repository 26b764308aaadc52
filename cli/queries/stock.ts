/**
 * The read model of a product's stock state (`products/{productId}`) for
 * `restock product show|reset-stock`, and the guarded write of a reset.
 */
import type { Firestore } from '@google-cloud/firestore';
import { productRef, type ProductDoc } from '../../lib/model.ts';
import { runTransaction } from '../../lib/transaction.ts';
import { BackendError } from '../errors.ts';
import { guard } from '../guard.ts';

/** The stock state as the CLI shows it; null fields when the product was never reported. */
export interface StockState {
  productId: string;
  exists: boolean;
  available: number | null;
  sequence: number | null;
  updatedAtMs: number | null;
  lastEventKey: string | null;
}

/** What an operator sets. */
export interface StockReset {
  available: number;
  sequence: number;
}

/** A {@link ProductDoc} (or its absence) as a {@link StockState}. */
export function stockState(productId: string, doc: Partial<ProductDoc> | undefined): StockState {
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  return {
    productId,
    exists: doc !== undefined,
    available: num(doc?.available),
    sequence: num(doc?.sequence),
    updatedAtMs: num(doc?.updatedAtMs),
    lastEventKey: typeof doc?.lastEventKey === 'string' ? doc.lastEventKey : null,
  };
}

/**
 * The product document after a reset: the operator's available and sequence,
 * the product's name and link kept, and the reset recorded as its last event. Pure.
 */
export function resetProductDoc(productId: string, current: ProductDoc | undefined, reset: StockReset, nowMs: number): ProductDoc {
  return { ...current, productId, available: reset.available, sequence: reset.sequence, updatedAtMs: nowMs, lastEventKey: `reset-stock@${nowMs}` };
}

/** Reads `products/{productId}`. @throws BackendError */
export async function readStockState(db: Firestore, productId: string): Promise<StockState> {
  const snap = await guard('read', `products/${productId}`, productRef(db, productId).get());
  return stockState(productId, snap.exists ? (snap.data() as ProductDoc) : undefined);
}

/** What a message says of a product: its name, link and units, as the pipeline last recorded them. */
export interface ProductForMessage {
  name?: string;
  url?: string;
  available?: number;
}

/** Reads `products/{productId}` for a message preview; undefined when the pipeline never saw the product. @throws BackendError */
export async function readProductForMessage(db: Firestore, productId: string): Promise<ProductForMessage | undefined> {
  const snap = await guard('read', `products/${productId}`, productRef(db, productId).get());
  if (!snap.exists) return undefined;
  const doc = snap.data() as Partial<ProductDoc>;
  return {
    ...(typeof doc.name === 'string' ? { name: doc.name } : {}),
    ...(typeof doc.url === 'string' ? { url: doc.url } : {}),
    ...(typeof doc.available === 'number' ? { available: doc.available } : {}),
  };
}

/** The stock state changed between what the operator saw and the write: nothing was written. */
export class StockChangedError extends BackendError {
  constructor(productId: string) {
    super(`products/${productId} changed since it was shown (an event arrived); nothing was written: run the command again`, `products/${productId}`);
  }
}

/**
 * Writes the reset in a transaction, only if the state is still `expected`.
 * @throws StockChangedError, BackendError
 */
export async function writeStockReset(db: Firestore, productId: string, expected: StockState, reset: StockReset, nowMs: number): Promise<StockState> {
  const written = await guard(
    'reset',
    `products/${productId}`,
    runTransaction(db, async (tx) => {
      const ref = productRef(db, productId);
      const snap = await tx.get(ref);
      const current = snap.exists ? (snap.data() as ProductDoc) : undefined;
      const seen = stockState(productId, current);
      if (seen.sequence !== expected.sequence || seen.available !== expected.available || seen.exists !== expected.exists) return undefined;
      const next = resetProductDoc(productId, current, reset, nowMs);
      tx.set(ref, next);
      return next;
    }),
  );
  if (!written) throw new StockChangedError(productId);
  return stockState(productId, written);
}
