/**
 * `restock trace --user <userId> [--product <productId>]`: the answer to
 * "where is my notification?". Shows whether the shopper's subscriptions are
 * still there (one-shot: a sent notification removes it), every ledger entry
 * for the shopper, newest first, and, with `--product`, the product's recent
 * fan-outs, marking those that produced nothing for this shopper.
 *
 * Addresses are never printed: only which channels a subscription holds.
 */
import type { Command } from 'commander';
import { COLLECTIONS, subscriptionsRef, type Channel } from '../../model.ts';
import { idArg, intArg } from '../args.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { outputFor, type Context } from '../context.ts';
import { formatTime, table, type Output } from '../output.ts';
import { deliverySummary, fanoutSummary, type DeliverySummary, type FanoutSummary } from '../records.ts';
import { colourState } from './status.ts';

export interface TraceQuery {
  userId: string;
  productId?: string | undefined;
  limit: number;
}

export interface TraceSubscription {
  productId: string;
  channels: Channel[];
  locale: string | null;
  createdAtMs: number | null;
}

export interface TraceEvent {
  eventKey: string;
  /** The event's fan-out, when its document still exists. */
  fanout: FanoutSummary | null;
  /** This shopper's deliveries for the event (one per channel); empty when the event never reached them. */
  deliveries: DeliverySummary[];
}

export interface TraceReport {
  userId: string;
  productId: string | null;
  subscriptions: TraceSubscription[];
  /** Events that reached the shopper, newest delivery first, plus (with `--product`) recent fan-outs that did not. */
  events: TraceEvent[];
}

function subscriptionOf(productId: string, d: Record<string, unknown>): TraceSubscription {
  const channels = d.channels && typeof d.channels === 'object' ? (Object.keys(d.channels).filter((k) => (d.channels as Record<string, unknown>)[k]) as Channel[]) : [];
  return {
    productId,
    channels: channels.sort(),
    locale: typeof d.locale === 'string' ? d.locale : null,
    createdAtMs: typeof d.createdAtMs === 'number' ? d.createdAtMs : null,
  };
}

/**
 * Reads everything recorded about one shopper.
 * @throws BackendError when Firestore fails or does not answer.
 */
export async function readTrace(backend: Backend, q: TraceQuery): Promise<TraceReport> {
  const { db } = backend;
  let deliveries = db.collection(COLLECTIONS.deliveries).where('userId', '==', q.userId);
  if (q.productId) deliveries = deliveries.where('productId', '==', q.productId);
  const subscriptionsRead = q.productId
    ? guard(
        'read',
        `${COLLECTIONS.products}/${q.productId}/${COLLECTIONS.subscriptions}/${q.userId}`,
        subscriptionsRef(db, q.productId).doc(q.userId).get(),
      ).then((s) => (s.exists ? [subscriptionOf(q.productId!, s.data() ?? {})] : []))
    : guard('query', `${COLLECTIONS.subscriptions} of user ${q.userId}`, db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', q.userId).get()).then((s) =>
        s.docs.map((d) => subscriptionOf(d.ref.parent.parent?.id ?? String(d.get('productId') ?? ''), d.data())),
      );
  const recentFanouts = q.productId
    ? guard(
        'query',
        `${COLLECTIONS.fanouts} of product ${q.productId}`,
        db.collection(COLLECTIONS.fanouts).where('productId', '==', q.productId).orderBy('startedAtMs', 'desc').limit(q.limit).get(),
      ).then((s) => s.docs.map((d) => fanoutSummary(d.id, d.data())))
    : Promise.resolve([] as FanoutSummary[]);
  const [subscriptions, ledger, fanouts] = await Promise.all([
    subscriptionsRead,
    guard('query', `${COLLECTIONS.deliveries} of user ${q.userId}`, deliveries.orderBy('createdAtMs', 'desc').limit(q.limit).get()),
    recentFanouts,
  ]);
  const rows = ledger.docs.map((d) => deliverySummary(d.id, d.data()));
  const eventKeys = [...new Set(rows.map((r) => r.eventKey))];
  const known = new Map(fanouts.map((f) => [f.eventKey, f]));
  const missing = eventKeys.filter((k) => k && !known.has(k));
  if (missing.length) {
    const refs = missing.map((k) => db.collection(COLLECTIONS.fanouts).doc(k));
    const snaps = await guard('read', `${missing.length} ${COLLECTIONS.fanouts}`, db.getAll(...refs));
    for (const s of snaps) if (s.exists) known.set(s.id, fanoutSummary(s.id, s.data() ?? {}));
  }
  const events: TraceEvent[] = eventKeys.map((k) => ({ eventKey: k, fanout: known.get(k) ?? null, deliveries: rows.filter((r) => r.eventKey === k) }));
  for (const f of fanouts) if (!eventKeys.includes(f.eventKey)) events.push({ eventKey: f.eventKey, fanout: f, deliveries: [] });
  return { userId: q.userId, productId: q.productId ?? null, subscriptions, events };
}

/** The human rendering of a {@link TraceReport}. */
export function renderTrace(out: Output, r: TraceReport): void {
  const { c } = out;
  out.line(`${c.bold('user')} ${r.userId}${r.productId ? `   product ${r.productId}` : ''}`);
  if (r.subscriptions.length === 0) {
    out.line(`${c.bold('subscriptions')} none${r.productId ? ' for this product' : ''} (a sent or rejected notification removes a one-shot subscription)`);
  } else {
    out.line(c.bold('subscriptions'));
    const rows = r.subscriptions.map((s) => [s.productId, s.channels.join(',') || '-', s.locale ?? '-', `since ${formatTime(s.createdAtMs)}`]);
    for (const line of table(rows)) out.line(`  ${line}`);
  }
  if (r.events.length === 0) {
    out.line(`${c.bold('events')} none reached this user`);
    return;
  }
  out.line(c.bold('events'));
  for (const e of r.events) {
    const f = e.fanout;
    const head = f ? `product ${f.productId}, fan-out ${colourState(out, f.state)}${f.reason ? ` (${f.reason})` : ''}, started ${formatTime(f.startedAtMs)}` : 'fan-out document gone';
    out.line(`  ${c.bold(e.eventKey)}  ${head}`);
    if (e.deliveries.length === 0) {
      out.line(`    ${c.yellow('no delivery for this user')}`);
      continue;
    }
    const rows = e.deliveries.map((d) => [d.channel, colourState(out, String(d.state)), `${d.attempts} attempt(s)`, d.sentAtMs ? `sent ${formatTime(d.sentAtMs)}` : `updated ${formatTime(d.updatedAtMs)}`, d.lastError ?? '']);
    for (const line of table(rows)) out.line(`    ${line}`);
  }
}

/** Registers `trace`. */
export function registerTrace(program: Command, ctx: Context): void {
  program
    .command('trace')
    .description('where is my notification? subscriptions, events and deliveries of one shopper')
    .requiredOption('--user <userId>', 'the shopper', idArg)
    .option('--product <productId>', 'only this product (also lists its recent fan-outs that did not reach the shopper)', idArg)
    .option('--limit <n>', 'most recent deliveries (and fan-outs) to show', intArg(1, 1000), 50)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock trace --user u-1042\n  $ restock trace --user u-1042 --product sku-123 --json')
    .action(async (opts: { user: string; product?: string; limit: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const report = await (await ctx.ops()).readTrace({ userId: opts.user, productId: opts.product, limit: opts.limit });
      out.result(report);
      if (!out.json) renderTrace(out, report);
    });
}
