/**
 * The demo's double opt-in step (`npm run demo -- --double-opt-in --confirm-rate 0.7`):
 * the audience was subscribed through an API with RESTOCK_DOUBLE_OPT_IN=email,
 * so each shopper got a confirmation by the stack's email sender (an email at
 * its SMTP server with `--direct email`, else a `confirmation` at the
 * notification sink); this
 * "clicks" the links of a share of them (GET the page, then POST its form, as
 * a browser would) and waits until `applyShopperActions` has turned exactly
 * those into subscriptions. The restock that follows must tell them and
 * nobody else (`notifiedUnconfirmed`, which must be 0).
 */
import pLimit from 'p-limit';
import { subscriptionsRef } from '../../lib/model.ts';
import type { ConfirmationRecord } from '../sink/index.ts';
import type { StackClients, StackDescription } from '../stack/index.ts';
import type { SeededAudience } from './index.ts';

export interface ConfirmationRun {
  /** Confirmations the SMTP server or the sink received for the audience. */
  confirmationsSent: number;
  /** Shoppers whose link was followed and whose subscription now exists. */
  confirmed: number;
  confirmedUserIds: string[];
  /** Shoppers left unconfirmed (still pending). */
  unconfirmedUserIds: string[];
}

interface Mail {
  envelope: { to: string[] };
  headers: Record<string, string>;
  text?: string;
}

const LINK = /https?:\/\/\S+\/v1\/confirm\/c2\.[\w-]+/;

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Follows the confirmation links of `rate` of the audience (the first by user id, so a run is repeatable). */
export async function confirmShare(
  description: StackDescription,
  clients: StackClients,
  audience: SeededAudience,
  o: { rate: number; timeoutMs: number; onStep?: (line: string) => void },
): Promise<ConfirmationRun> {
  // Addresses are `${userId}@example.com` (scenario/index.ts seedAudience).
  const byAddress = new Map(audience.userIds.map((u) => [`${u}@example.com`.toLowerCase(), u]));
  const byUser = new Set(audience.userIds);
  const deadline = Date.now() + o.timeoutMs;
  let links = new Map<string, string>();
  while (Date.now() < deadline) {
    const res = await fetch(`${description.smtp.url}/messages`);
    const { messages } = (await res.json()) as { messages: Mail[] };
    links = new Map();
    for (const m of messages) {
      if (!m.headers['x-restock-confirmation']) continue;
      const userId = byAddress.get((m.envelope.to[0] ?? '').toLowerCase());
      const link = LINK.exec(m.text ?? '')?.[0];
      if (userId && link) links.set(userId, link);
    }
    const sunk = (await (await fetch(`${description.sink}/confirmations?productId=${encodeURIComponent(audience.productId)}`)).json()) as { confirmations: ConfirmationRecord[] };
    for (const c of sunk.confirmations) if (c.userId !== undefined && byUser.has(c.userId)) links.set(c.userId, c.confirmUrl);
    if (links.size >= audience.userIds.length) break;
    await sleep(500);
  }
  o.onStep?.(`${links.size} confirmations at the local SMTP server and sink`);
  const chosen = [...links.keys()].sort().slice(0, Math.round(links.size * o.rate));
  const limit = pLimit(16);
  await Promise.all(
    chosen.map((userId) =>
      limit(async () => {
        const link = links.get(userId)!;
        await (await fetch(link)).text();
        const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=yes' });
        if (res.status !== 200) throw new Error(`confirming ${userId} answered ${res.status}`);
      }),
    ),
  );
  o.onStep?.(`followed ${chosen.length} links; waiting for the confirmations to be applied...`);
  let confirmed = 0;
  while (Date.now() < deadline) {
    confirmed = (await subscriptionsRef(clients.firestore, audience.productId).count().get()).data().count;
    if (confirmed >= chosen.length) break;
    await sleep(500);
  }
  const set = new Set(chosen);
  return { confirmationsSent: links.size, confirmed, confirmedUserIds: chosen, unconfirmedUserIds: audience.userIds.filter((u) => !set.has(u)) };
}
