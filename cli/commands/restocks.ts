/**
 * `restock restocks`: the restocks of the last hours, newest first, with
 * their progress and failures. Renders the read model of
 * `../queries/restocks.ts`, which the console's overview shows too.
 */
import type { Command } from 'commander';
import { intArg } from '../args.ts';
import { outputFor, type Context } from '../context.ts';
import { formatTime, table, type Output } from '../output.ts';
import type { RestocksReport } from '../queries/restocks.ts';
import { colourState } from './status.ts';

export { readRestocks, type RestockRow, type RestocksQuery, type RestocksReport } from '../queries/restocks.ts';

/** The human rendering of a {@link RestocksReport}. */
export function renderRestocks(out: Output, r: RestocksReport): void {
  const { c } = out;
  if (r.restocks.length === 0) {
    out.line(`no restock started since ${formatTime(r.sinceMs)}`);
    return;
  }
  const rows = r.restocks.map((x) => [
    x.fanout.eventKey,
    x.fanout.productId,
    colourState(out, String(x.fanout.state)),
    `${x.told}/${x.audience} told`,
    x.failures ? c.red(`${x.failures} failure(s)`) : '0 failures',
    `started ${formatTime(x.fanout.startedAtMs)}`,
  ]);
  for (const line of table(rows)) out.line(line);
  if (r.truncated) out.line(c.yellow('more restocks started in this window than are listed (raise --limit or lower --hours)'));
}

/** Registers `restocks`. */
export function registerRestocks(program: Command, ctx: Context): void {
  program
    .command('restocks')
    .description('the restocks of the last hours, newest first: state, shoppers told of the audience, failures')
    .option('--hours <n>', 'restocks whose fan-out started in the last n hours', intArg(1, 24 * 30), 24)
    .option('--limit <n>', 'most restocks to list', intArg(1, 500), 50)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock restocks\n  $ restock restocks --hours 2 --json')
    .action(async (opts: { hours: number; limit: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const report = await (await ctx.ops()).readRestocks({ sinceMs: ctx.nowMs() - opts.hours * 3_600_000, limit: opts.limit });
      out.result(report);
      if (!out.json) renderRestocks(out, report);
    });
}
