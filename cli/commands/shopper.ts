/**
 * `restock shopper export <userId>` and `restock shopper erase <userId>`: a
 * shopper's data on request, the same lib/shoppers code behind the
 * subscription API's `GET` and `DELETE /v1/shoppers/{userId}`.
 *
 * `export` prints the whole document (addresses included: it is the
 * shopper's own data, for the shopper) as JSON on stdout, so it can be
 * redirected to a file; `erase` asks before it acts unless `--yes`.
 */
import type { Command } from 'commander';
import { idArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import type { ErasureReceipt } from '../../lib/shoppers/index.ts';
import type { Output } from '../output.ts';

/** The human rendering of an erasure receipt. */
export function renderErasure(out: Output, r: ErasureReceipt): void {
  out.line(`${out.c.bold('erased')} shopper ${r.user}`);
  for (const [what, n] of Object.entries(r.counts)) out.line(`  ${what.padEnd(28)} ${n}`);
  if (r.counts.fanoutCursorsInFlight > 0) out.line(out.c.dim('  a running fan-out still pages from this shopper: erase again once its restock is over'));
  for (const o of r.outside) out.line(out.c.dim(`  outside the database: ${o}`));
}

/** Registers `shopper export|erase`. */
export function registerShopper(program: Command, ctx: Context): void {
  const shopper = program.command('shopper').description("a shopper's data on request: export it, or erase it");
  shopper
    .command('export')
    .description('everything held about a shopper, as one JSON document on stdout (addresses included)')
    .argument('<userId>', 'the shopper', idArg)
    .addHelpText('after', '\nExamples:\n  $ restock shopper export u-123 > u-123.json')
    .action(async (userId: string, _opts: unknown, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const data = await ops.shoppers().export(userId, ctx.nowMs());
      out.line(JSON.stringify(data, null, 2));
    });
  shopper
    .command('erase')
    .description('remove every subscription, pending confirmation and address of a shopper; ledger keys and states stay so nothing is sent again')
    .argument('<userId>', 'the shopper', idArg)
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print the receipt as one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock shopper erase u-123 --yes --json')
    .action(async (userId: string, opts: { yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      await confirmOrAbort(ctx, opts.yes, `Erase every record of shopper ${userId}? This cannot be undone.`);
      const receipt = await ops.shoppers().erase(userId, ctx.nowMs());
      out.result(receipt);
      if (!out.json) renderErasure(out, receipt);
    });
}
