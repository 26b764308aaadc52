/**
 * `restock queues [list]`, `restock queues pause|resume|purge <queue...>|--all`:
 * the pipeline's queues (every delivery queue and the continuation queue)
 * as one view, so an operator who pauses "the queue" during a downstream
 * outage pauses all of them, and one who looks for a backlog sees every shard.
 */
import type { Command } from 'commander';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { UsageError } from '../errors.ts';
import { table, type Output } from '../output.ts';
import type { QueueAction, QueueView } from '../queries/queues.ts';

export type { QueueAction, QueueView } from '../queries/queues.ts';

/**
 * The queues an action applies to: every one with `all`, else those named by
 * id (`restock-deliveries-1`) or full name, in the pipeline's order. Pure.
 * @throws UsageError when nothing or both are given, or a name is not one of the pipeline's queues.
 */
export function chooseQueues(configured: readonly Pick<QueueView, 'name' | 'id'>[], given: readonly string[], all: boolean): string[] {
  if (given.length > 0 === all) throw new UsageError('name the queues (as `restock queues` lists them) or pass --all (not both)', '--all');
  if (all) return configured.map((q) => q.name);
  const unknown = given.filter((g) => !configured.some((q) => q.id === g || q.name === g));
  if (unknown.length > 0) {
    throw new UsageError(`not a queue of this pipeline: ${unknown.join(', ')} (its queues: ${configured.map((q) => q.id).join(', ')})`, unknown[0]);
  }
  return configured.filter((q) => given.includes(q.id) || given.includes(q.name)).map((q) => q.name);
}

function roleOf(q: QueueView): string {
  return q.role === 'delivery' ? `delivery ${q.shard}` : 'continuation';
}

function stateOf(out: Output, state: string): string {
  if (state === 'RUNNING') return out.c.green(state);
  if (state === 'PAUSED') return out.c.yellow(state);
  return out.c.red(state);
}

/** The table of queues, one line each, and the total of delivery tasks. */
export function renderQueues(out: Output, queues: readonly QueueView[]): void {
  const n = (v: number | null) => (v === null ? '-' : String(v));
  const rows = queues.map((q) => [q.id, roleOf(q), stateOf(out, q.state), q.tasks === null ? 'more than 10000' : String(q.tasks), n(q.maxDispatchesPerSecond), n(q.maxConcurrentDispatches), n(q.maxAttempts)]);
  for (const line of table(rows, ['queue', 'role', 'state', 'tasks', 'dispatches/s', 'concurrent', 'max attempts'])) out.line(line);
  const delivery = queues.filter((q) => q.role === 'delivery');
  if (delivery.length > 1) {
    const counted = delivery.every((q) => q.tasks !== null);
    const total = delivery.reduce((sum, q) => sum + (q.tasks ?? 0), 0);
    out.line(`${delivery.length} delivery queues, ${counted ? '' : 'more than '}${total} delivery task(s) in all`);
  }
  const missing = queues.filter((q) => q.state === 'MISSING');
  if (missing.length > 0) out.line(out.c.red(`missing: ${missing.map((q) => q.id).join(', ')} — tasks for them are refused; create them (terraform apply) or lower RESTOCK_TASKS_QUEUE_COUNT`));
}

const WHY: Record<QueueAction, string> = {
  pause: 'stop dispatching (tasks stay queued; resume sends them)',
  resume: 'dispatch again',
  purge: 'delete every task (their recipients become unaccounted chunks in `restock status`; replay the events)',
};

/** Registers `queues` and its subcommands. */
export function registerQueues(program: Command, ctx: Context): void {
  const queues = program
    .command('queues')
    .description("the pipeline's Cloud Tasks queues: every delivery queue and the continuation queue")
    // `restock queues --json` runs the default `list`: the flag is read from here too (optsWithGlobals).
    .option('--json', 'print one JSON document on stdout');
  queues
    .command('list', { isDefault: true })
    .description('each queue with its state, the tasks it holds and its rate limits')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock queues\n  $ restock queues list --json')
    .action(async (_opts: unknown, command: Command) => {
      const out = outputFor(ctx, command);
      const views = await (await ctx.ops()).readQueues();
      out.result({ queues: views });
      renderQueues(out, views);
    });

  for (const action of ['pause', 'resume', 'purge'] as const) {
    queues
      .command(action)
      .description(`${WHY[action]}, for the queues named or --all`)
      .argument('[queues...]', 'queue ids as `restock queues` lists them (or full names)')
      .option('--all', "every queue of the pipeline")
      .option('-y, --yes', 'do not ask for confirmation')
      .option('--json', 'print one JSON document on stdout')
      .addHelpText('after', `\nExamples:\n  $ restock queues ${action} --all\n  $ restock queues ${action} restock-deliveries-1 --yes`)
      .action(async (given: string[] | undefined, opts: { all?: boolean; yes?: boolean }, command: Command) => {
        const out = outputFor(ctx, command);
        const ops = await ctx.ops();
        const names = chooseQueues(await ops.readQueues(), given ?? [], Boolean(opts.all));
        const ids = names.map((n) => n.split('/').pop()!);
        if (action !== 'resume') await confirmOrAbort(ctx, opts.yes, `${action[0]!.toUpperCase()}${action.slice(1)} ${ids.join(', ')}: ${WHY[action]}?`);
        const views = await ops.changeQueues(action, names);
        out.result({ action, queues: views });
        renderQueues(out, views);
      });
  }
}
