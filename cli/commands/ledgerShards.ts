/**
 * `restock ledger-shards`: the one-off upgrade of a ledger written before its
 * entries carried a shard (lib/delivery `upgradeLedgerShards`, issue 39).
 * Until it runs, `restock status` and `restock redrive` do not see an older
 * event's entries, and status says so for each such event. Idempotent: a
 * second run finds nothing to write. `--dry-run` only counts.
 */
import type { Command } from 'commander';
import type { ShardUpgradeResult } from '../../lib/delivery/index.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';

/** Registers `ledger-shards`. */
export function registerLedgerShards(program: Command, ctx: Context): void {
  program
    .command('ledger-shards')
    .description('give ledger entries written before the upgrade their shard, so status and redrive see them (once, after deploying)')
    .option('--dry-run', 'count what would be written; change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock ledger-shards --dry-run\n  $ restock ledger-shards --yes --json')
    .action(async (opts: { dryRun?: boolean; yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const dryRun = Boolean(opts.dryRun);
      if (!dryRun) await confirmOrAbort(ctx, opts.yes, 'Read the whole ledger and give every entry without one its shard?');
      const result: ShardUpgradeResult = await ops.upgradeLedgerShards({ dryRun, onProgress: (r) => out.notice(`read ${r.scanned} ledger entries, ${r.sharded} ${dryRun ? 'to shard' : 'sharded'}`) });
      out.result(result);
      const gone = result.gone ? ` (${result.gone} expired meanwhile)` : '';
      if (result.dryRun) out.line(`would give ${result.sharded} of ${result.scanned} ledger entries their shard; would mark ${result.fanoutsMarked} of ${result.fanouts} fan-outs sharded`);
      else out.line(`gave ${result.sharded} of ${result.scanned} ledger entries their shard${gone}; marked ${result.fanoutsMarked} of ${result.fanouts} fan-outs sharded`);
    });
}
