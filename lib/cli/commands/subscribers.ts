/**
 * `restock subscribers <productId> [--count]`: who is waiting for a product.
 * `--count` is one count aggregation, cheap at any audience size; the listing
 * reads at most `--limit` documents and never prints addresses.
 */
import type { Command } from 'commander';
import { COLLECTIONS, subscriptionsRef, type Channel } from '../../model.ts';
import { idArg, intArg } from '../args.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { outputFor, type Context } from '../context.ts';
import { formatTime, table, type Output } from '../output.ts';

export interface SubscriberRow {
  userId: string;
  channels: Channel[];
  locale: string | null;
  createdAtMs: number | null;
}

export interface SubscribersReport {
  productId: string;
  count: number;
  /** Absent with `--count`. */
  subscribers?: SubscriberRow[];
  /** True when the listing stopped at `--limit` before the end. */
  truncated?: boolean;
}

function subscriptions(backend: Backend, productId: string) {
  return subscriptionsRef(backend.db, productId);
}

/** Counts a product's subscriptions with a count aggregation. @throws BackendError */
export async function countSubscribers(backend: Backend, productId: string): Promise<number> {
  const snap = await guard('count', `${COLLECTIONS.products}/${productId}/${COLLECTIONS.subscriptions}`, subscriptions(backend, productId).count().get());
  return snap.data().count;
}

/** Lists up to `limit` subscriptions in document-id order. @throws BackendError */
export async function listSubscribers(backend: Backend, productId: string, limit: number): Promise<SubscriberRow[]> {
  const snap = await guard('list', `${COLLECTIONS.products}/${productId}/${COLLECTIONS.subscriptions}`, subscriptions(backend, productId).orderBy('__name__').limit(limit).get());
  return snap.docs.map((d) => {
    const data = d.data();
    const channels = data.channels && typeof data.channels === 'object' ? (Object.keys(data.channels).filter((k) => data.channels[k]) as Channel[]) : [];
    return {
      userId: d.id,
      channels: channels.sort(),
      locale: typeof data.locale === 'string' ? data.locale : null,
      createdAtMs: typeof data.createdAtMs === 'number' ? data.createdAtMs : null,
    };
  });
}

/** The human rendering of a {@link SubscribersReport}. */
export function renderSubscribers(out: Output, r: SubscribersReport): void {
  out.line(`${out.c.bold('product')} ${r.productId}: ${r.count} subscriber(s)`);
  if (!r.subscribers) return;
  const rows = r.subscribers.map((s) => [s.userId, s.channels.join(',') || '-', s.locale ?? '-', formatTime(s.createdAtMs)]);
  for (const line of table(rows, ['user', 'channels', 'locale', 'since'])) out.line(`  ${line}`);
  if (r.truncated) out.line(out.c.dim(`  … first ${r.subscribers.length} shown (--limit)`));
}

/** Registers `subscribers`. */
export function registerSubscribers(program: Command, ctx: Context): void {
  program
    .command('subscribers')
    .description("a product's waiting shoppers (or only how many)")
    .argument('<productId>', 'the product', idArg)
    .option('--count', 'only count them (one count aggregation)')
    .option('--limit <n>', 'most subscribers to list', intArg(1, 10_000), 100)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock subscribers sku-123 --count\n  $ restock subscribers sku-123 --limit 20 --json')
    .action(async (productId: string, opts: { count?: boolean; limit: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const count = await ops.countSubscribers(productId);
      const report: SubscribersReport = { productId, count };
      if (!opts.count) {
        report.subscribers = await ops.listSubscribers(productId, opts.limit);
        report.truncated = count > report.subscribers.length;
      }
      out.result(report);
      if (!out.json) renderSubscribers(out, report);
    });
}
