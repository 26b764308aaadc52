/**
 * `restock replay <eventKey>`: runs a stored event's fan-out again (lib/fanout
 * `replayFanout`). Safe by construction: the ledger skips recipients already
 * settled, so a replay can only fill gaps. Says what it will do, then asks,
 * unless `--yes`; `--dry-run` only counts.
 */
import type { Command } from 'commander';
import type { FanoutProgress, ReplayResult } from '../../lib/fanout/index.ts';
import { idArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { NotFoundError } from '../errors.ts';

/** Registers `replay`. */
export function registerReplay(program: Command, ctx: Context): void {
  program
    .command('replay')
    .description("run an event's fan-out again; already-sent recipients are skipped, so it only fills gaps")
    .argument('<eventKey>', 'the event key of a stored fan-out', idArg)
    .option('--dry-run', 'count what would be enqueued; change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock replay 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a --dry-run\n  $ restock replay 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a --yes --json')
    .action(async (eventKey: string, opts: { dryRun?: boolean; yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      ops.assertCanEnqueue(Boolean(opts.dryRun));
      const status = await ops.readStatus(eventKey);
      if (!status.fanout) {
        throw new NotFoundError(`event ${eventKey} has no stored fan-out to replay${status.rejected ? ` (it was rejected: ${status.rejected.reason})` : ''}`, eventKey);
      }
      const { productId, state, generation } = status.fanout;
      const audience = await ops.countSubscribers(productId);
      out.notice(
        `${opts.dryRun ? 'dry run: would replay' : 'will replay'} the fan-out of ${eventKey} (product ${productId}, ${state}, generation ${generation} → ${generation + 1}) ` +
          `over ${audience} current subscriber(s); ${status.deliveries.sent} already sent are skipped by the ledger`,
      );
      if (!opts.dryRun) await confirmOrAbort(ctx, opts.yes, `Replay the fan-out of ${eventKey}?`);
      const bar = out.progress(opts.dryRun ? 'counting' : 'enqueuing', audience, 'recipients');
      let result: ReplayResult;
      try {
        result = await ops.replay(eventKey, { dryRun: Boolean(opts.dryRun), onProgress: (p: FanoutProgress) => bar.update(p.recipients, Math.max(audience, p.recipients)) });
      } finally {
        bar.stop();
      }
      out.result(result);
      const verb = result.dryRun ? 'would enqueue' : 'enqueued';
      const handedOver = result.outcome === 'continued' ? ' so far; the rest continues in a follow-up task' : '';
      out.line(`${verb} ${result.recipients} recipient(s) in ${result.chunks} chunk(s) over ${result.pages} page(s), generation ${result.generation}${handedOver}`);
      if (!result.dryRun) out.line(`follow it with: restock status ${eventKey} --watch`);
    });
}
