/**
 * `restock product show|reset-stock <productId>`: the stock state fan-out
 * judges restocks by (`products/{productId}`: available, sequence), and the
 * repair for a state no real event can move any more — a sequence pushed far
 * ahead by a forged or mistaken event makes every genuine event after it
 * stale (promise 5), so the product would never be restocked again.
 *
 * The reset asks first (naming the project), unless `--yes`, and writes only
 * if the state is still the one shown (another event in between is not
 * overwritten blind).
 */
import type { Command } from 'commander';
import type { Firestore } from '@google-cloud/firestore';
import { productRef, type ProductDoc } from '../../model.ts';
import { runTransaction } from '../../transaction.ts';
import { idArg, intArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { BackendError } from '../errors.ts';
import { guard } from '../guard.ts';
import { formatTime } from '../output.ts';

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

function render(state: StockState): string {
  if (!state.exists) return `${state.productId}: no stock state recorded (the first event will set it)`;
  return `${state.productId}: available ${state.available ?? '-'}, sequence ${state.sequence ?? '-'}, updated ${formatTime(state.updatedAtMs)} by ${state.lastEventKey ?? '-'}`;
}

/** Registers `product show` and `product reset-stock`. */
export function registerProduct(program: Command, ctx: Context): void {
  const group = program
    .command('product')
    .description("show or repair a product's stock state (what restocks are judged against)")
    .addHelpText('after', '\nExamples:\n  $ restock product show sku-123\n  $ restock product reset-stock sku-123 --sequence 1042 --available 0 --yes');

  group
    .command('show')
    .description("print a product's stock state: available, sequence, last event")
    .argument('<productId>', 'the product', idArg)
    .option('--json', 'print one JSON document on stdout')
    .action(async (productId: string, _opts: unknown, command: Command) => {
      const out = outputFor(ctx, command);
      const state = await (await ctx.ops()).readStock(productId);
      out.result(state);
      out.line(render(state));
    });

  group
    .command('reset-stock')
    .description("set a product's available units and sequence (repairs a sequence pushed too far ahead)")
    .argument('<productId>', 'the product', idArg)
    .requiredOption('--sequence <n>', "the sequence to keep: the producer's latest real one (later events must be above it)", intArg(0))
    .requiredOption('--available <n>', 'units available now', intArg(0))
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .action(async (productId: string, opts: StockReset & { yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const before = await ops.readStock(productId);
      out.notice(`now:  ${render(before)}`);
      out.notice(`will set available ${opts.available}, sequence ${opts.sequence}`);
      await confirmOrAbort(ctx, opts.yes, `Reset the stock state of ${productId} in project ${ops.target.projectId}? Events at or below sequence ${opts.sequence} will be ignored as stale.`);
      const after = await ops.resetStock(productId, before, { sequence: opts.sequence, available: opts.available });
      out.result({ before, after });
      out.line(`reset: ${render(after)}`);
    });
}
