/**
 * `restock redrive <eventKey> [--state exhausted|failed]`: re-enqueues the
 * deliveries of an event that ended in those states (lib/delivery
 * `redriveDeliveries`). Counts them first (count aggregation), says so, asks
 * unless `--yes`.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { RedriveResult } from '../../lib/delivery/index.ts';
import { REDRIVABLE_DELIVERY_STATES, type RedrivableState } from '../../lib/model.ts';
import { idArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';

/**
 * States a redrive may take deliveries out of: the domain's rule (lib/model.ts),
 * which lib/delivery enforces whoever calls it; the parser only gives an early,
 * flag-named answer.
 */
export const REDRIVABLE_STATES = REDRIVABLE_DELIVERY_STATES;
type Redrivable = RedrivableState;

/** Accumulates `--state a,b` / repeated `--state` into a set of redrivable states. */
export function stateArg(value: string, previous: Redrivable[] | undefined): Redrivable[] {
  const out = new Set(previous ?? []);
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(REDRIVABLE_STATES as readonly string[]).includes(part)) throw new InvalidArgumentError(`expected ${REDRIVABLE_STATES.join(', ')}, got ${JSON.stringify(part)}`);
    out.add(part as Redrivable);
  }
  if (out.size === 0) throw new InvalidArgumentError(`expected ${REDRIVABLE_STATES.join(', ')}`);
  return [...out];
}

/** Registers `redrive`. */
export function registerRedrive(program: Command, ctx: Context): void {
  program
    .command('redrive')
    .description('re-enqueue the deliveries of an event that ended exhausted (or failed, or stuck sending)')
    .argument('<eventKey>', 'the event key', idArg)
    .option('--state <states>', 'states to redrive: exhausted (default), failed, sending past its lease (comma-separated or repeated)', stateArg)
    .option('--dry-run', 'count what would be re-enqueued; change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock redrive 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a --dry-run\n  $ restock redrive 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a --state exhausted,failed --yes')
    .action(async (eventKey: string, opts: { state?: Redrivable[]; dryRun?: boolean; yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const states: Redrivable[] = opts.state ?? ['exhausted'];
      const ops = await ctx.ops();
      ops.assertCanEnqueue(Boolean(opts.dryRun));
      const status = await ops.readStatus(eventKey);
      const affected = states.reduce((sum, s) => sum + status.deliveries[s], 0);
      // `sending` entries whose lease is still running are left alone, so with it the count is an upper bound.
      const upTo = states.includes('sending') ? 'up to ' : '';
      out.notice(`${opts.dryRun ? 'dry run: would re-enqueue' : 'will re-enqueue'} ${upTo}${affected} deliver${affected === 1 ? 'y' : 'ies'} of ${eventKey} in state ${states.join(' or ')}`);
      if (!opts.dryRun && affected > 0) await confirmOrAbort(ctx, opts.yes, `Redrive ${affected} deliveries of ${eventKey}?`);
      const result: RedriveResult = await ops.redrive(eventKey, { states, dryRun: Boolean(opts.dryRun) });
      out.result(result);
      const verb = result.dryRun ? 'would re-enqueue' : 're-enqueued';
      out.line(`${verb} ${result.deliveries} deliver${result.deliveries === 1 ? 'y' : 'ies'} in ${result.tasks} task(s)`);
      if (!result.dryRun && result.deliveries > 0) out.line(`follow it with: restock status ${eventKey} --watch`);
    });
}
