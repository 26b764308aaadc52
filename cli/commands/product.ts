/**
 * `restock product demand <productId>`: one product's shoppers waiting,
 * sign-ups per day and past restocks with their funnels (rendered by
 * ./demand.ts; the console's product page).
 *
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
import { idArg, intArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { formatTime } from '../output.ts';
import type { StockReset, StockState } from '../queries/stock.ts';
import { renderProductDemand } from './demand.ts';

export { readStockState, resetProductDoc, StockChangedError, stockState, writeStockReset, type StockReset, type StockState } from '../queries/stock.ts';


function render(state: StockState): string {
  if (!state.exists) return `${state.productId}: no stock state recorded (the first event will set it)`;
  return `${state.productId}: available ${state.available ?? '-'}, sequence ${state.sequence ?? '-'}, updated ${formatTime(state.updatedAtMs)} by ${state.lastEventKey ?? '-'}`;
}

/** Registers `product demand`, `product show` and `product reset-stock`. */
export function registerProduct(program: Command, ctx: Context): void {
  const group = program
    .command('product')
    .description("a product's demand and past restocks, or show or repair its stock state (what restocks are judged against)")
    .addHelpText('after', '\nExamples:\n  $ restock product demand sku-123\n  $ restock product show sku-123\n  $ restock product reset-stock sku-123 --sequence 1042 --available 0 --yes');

  group
    .command('demand')
    .description("a product's shoppers waiting, sign-ups per day and past restocks with what each sold")
    .argument('<productId>', 'the product', idArg)
    .option('--json', 'print one JSON document on stdout')
    .action(async (productId: string, _opts: unknown, command: Command) => {
      const out = outputFor(ctx, command);
      const report = await (await ctx.ops()).readProductDemand(productId, ctx.nowMs());
      out.result(report);
      if (!out.json) renderProductDemand(out, report);
    });

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
