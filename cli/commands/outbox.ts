/**
 * `restock outbox status|list|redrive`: the inventory service's outbox (lib/outbox)
 * as an operator sees it: how many rows wait, how old the oldest is, which
 * failed and why, and putting failed rows back to pending once the cause is fixed.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { OUTBOX_STATES, type OutboxState, type OutboxStats, type RedriveResult } from '../../lib/outbox/index.ts';
import { idArg, intArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { NotFoundError, UsageError } from '../errors.ts';
import { guard } from '../guard.ts';
import { formatDuration, formatTime, table } from '../output.ts';
import { colourState } from './status.ts';

function stateArg(value: string): OutboxState {
  if (!(OUTBOX_STATES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${OUTBOX_STATES.join(', ')}, got ${JSON.stringify(value)}`);
  return value as OutboxState;
}

/** Registers `outbox` and its subcommands. */
export function registerOutbox(program: Command, ctx: Context): void {
  const outbox = program.command('outbox').description("the inventory service's outbox: pending, sent and failed rows; redrive failed ones");

  outbox
    .command('status')
    .description('rows per state and the age of the oldest pending row')
    .option('--json', 'print one JSON document on stdout')
    .action(async (_opts: unknown, command: Command) => {
      const out = outputFor(ctx, command);
      const store = (await ctx.ops()).outbox();
      const stats: OutboxStats = await guard('count', 'outbox rows', store.stats());
      const oldestPendingAgeMs = stats.oldestPendingStagedAtMs === null ? null : Math.max(0, ctx.nowMs() - stats.oldestPendingStagedAtMs);
      out.result({ ...stats, oldestPendingAgeMs });
      out.line(`${colourState(out, 'pending')} ${stats.pending}   ${colourState(out, 'sent')} ${stats.sent}   ${out.c.red('failed')} ${stats.failed}`);
      out.line(`oldest pending: ${oldestPendingAgeMs === null ? 'none' : `${formatDuration(oldestPendingAgeMs)} old (staged ${formatTime(stats.oldestPendingStagedAtMs)})`}`);
      if (stats.failed > 0) out.line('see them with: restock outbox list --state failed');
    });

  outbox
    .command('list')
    .description('rows in one state, oldest first')
    .option('--state <state>', `one of ${OUTBOX_STATES.join(', ')}`, stateArg, 'failed' as OutboxState)
    .option('--limit <n>', 'rows at most', intArg(1, 1000), 50)
    .option('--json', 'print one JSON document on stdout')
    .action(async (opts: { state: OutboxState; limit: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const rows = await guard('list', `outbox rows in state ${opts.state}`, (await ctx.ops()).outbox().list(opts.state, opts.limit));
      out.result({ state: opts.state, rows });
      if (rows.length === 0) {
        out.line(`no ${opts.state} rows`);
        return;
      }
      const cells = rows.map((r) => [r.eventId, r.productId, String(r.sequence), colourState(out, r.state), String(r.attempts), formatTime(r.stagedAtMs), r.lastError ?? (r.publishedBy ?? '-')]);
      for (const line of table(cells, ['eventId', 'product', 'seq', 'state', 'attempts', 'staged', 'last error / published by'])) out.line(line);
    });

  outbox
    .command('redrive')
    .description('put failed rows back to pending (attempts reset); the next sweep publishes them')
    .argument('[eventIds...]', 'event ids of failed rows', (v: string, prev: string[] = []) => [...prev, idArg(v)])
    .option('--all-failed', 'every failed row')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock outbox redrive 3f1c0a52-1d7e-4c38-9a61-0b7a8c2d9e10\n  $ restock outbox redrive --all-failed --yes')
    .action(async (eventIds: string[] | undefined, opts: { allFailed?: boolean; yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const given = eventIds ?? [];
      if (given.length > 0 === Boolean(opts.allFailed)) throw new UsageError('give event ids or --all-failed (not both)', '--all-failed');
      const store = (await ctx.ops()).outbox();
      const ids = opts.allFailed ? await guard('list', 'failed outbox rows', store.failedIds(10_000)) : given;
      if (ids.length === 0) {
        out.result({ results: [] });
        out.line('no failed rows');
        return;
      }
      if (opts.allFailed) await confirmOrAbort(ctx, opts.yes, `Redrive ${ids.length} failed outbox row(s)?`);
      const results: RedriveResult[] = await guard('redrive', 'outbox rows', store.redrive(ids, ctx.nowMs()));
      out.result({ results });
      for (const r of results) out.line(`${r.eventId}  ${r.outcome === 'not-redrivable' ? `not redriven: it is ${r.state}` : r.outcome}`);
      const refused = results.filter((r) => r.outcome !== 'redriven');
      if (refused.length > 0) throw new NotFoundError(`${refused.length} of ${results.length} row(s) not redriven (only failed rows can be)`, refused[0]!.eventId);
    });
}
