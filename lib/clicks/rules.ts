/**
 * Tracked product links, the pure part: which (event, shopper, channel) a
 * click belongs to, where a followed link lands (the product URL it was
 * issued for plus UTM parameters) and whether a request is a shopper's click
 * or a machine's prefetch. The public route and the store only carry these out.
 */
import { createHash } from 'node:crypto';
import { createIsbotFromList, list as crawlerPatterns } from 'isbot';
import type { Channel } from '../channels.ts';

/** What a tracked link's token carries (sealed, lib/unsubscribe): one notification and the URL it linked to. */
export interface ClickClaims {
  /** The restock the message told of. */
  eventKey: string;
  productId: string;
  userId: string;
  channel: Channel;
  /** The wave (1-based) whose chunk sent the message, when the restock ran in waves. */
  wave?: number;
  /** The product URL the message linked to: the only place the link ever redirects. */
  url: string;
  /** When the link was made, just before the message was handed to its sender. */
  issuedAtMs: number;
}

/** `clicks/{clickKey}`: one per (event, shopper, channel), so a link followed any number of times counts once (pure). */
export function clickKey(eventKey: string, userId: string, channel: Channel): string {
  return createHash('sha256').update(`${eventKey}:${userId}:${channel}`).digest('hex');
}

/** The UTM parameters a followed link adds (RESTOCK_CLICK_UTM_SOURCE); `source` unset adds none. */
export interface UtmSettings {
  source?: string | undefined;
}

/**
 * Where a followed link redirects (pure): the URL it was issued for, with
 * `utm_source` (the setting), `utm_medium` (the channel) and `utm_campaign`
 * (the event key) set, replacing any the URL carried so the visit is
 * attributed to this restock; every other part of the URL is kept.
 * @throws TypeError when `url` is not an absolute https: URL (a token only ever carries one).
 */
export function landingUrl(claims: Pick<ClickClaims, 'url' | 'channel' | 'eventKey'>, utm: UtmSettings): string {
  const url = new URL(claims.url);
  if (url.protocol !== 'https:') throw new TypeError('a tracked link only redirects to https: URLs');
  if (utm.source) {
    url.searchParams.set('utm_source', utm.source);
    url.searchParams.set('utm_medium', claims.channel);
    url.searchParams.set('utm_campaign', claims.eventKey);
  }
  return url.toString();
}

/** What one request to a tracked link is. */
export type FollowKind = 'click' | 'prefetch';

/** One request to a tracked link, as the rule needs it. */
export interface Follow {
  method: string;
  userAgent: string | undefined;
  nowMs: number;
  /** When the link was issued (the token's `issuedAtMs`): the message was sent just after. */
  issuedAtMs: number;
}

/**
 * Mail security gateways that fetch every link of a message with a browser's
 * User-Agent plus their own name, which `isbot`'s list (crawlers, previewers,
 * HTTP libraries) does not carry. Whole names: a substring such as "bot" took a
 * CUBOT phone's browser for a machine.
 */
const MAIL_GATEWAYS = ['safelinks', 'proofpoint', 'urldefense', 'mimecast', 'barracuda', 'fortiguard', 'symantec', 'trendmicro', 'sophos'];

/** isbot's maintained patterns (matched case-insensitively) plus the mail gateways. */
const isPrefetcher = createIsbotFromList([...crawlerPatterns, ...MAIL_GATEWAYS]);

/**
 * Whether a request is a shopper's click (pure). Only a GET can be one; it is
 * a prefetch when it has no User-Agent or one of a crawler, a link previewer,
 * an HTTP library (`isbot`'s list) or a {@link MAIL_GATEWAYS mail gateway},
 * or when it arrives within `prefetchSeconds` of the link's issue: gateways
 * scan a message as it is delivered, often with a browser's User-Agent,
 * faster than a person can open it. A prefetch is redirected like a click
 * (the scanner sees what a shopper would) and counted nowhere; the shopper's
 * own click later still counts.
 */
export function followKind(follow: Follow, settings: { prefetchSeconds: number }): FollowKind {
  if (follow.method.toUpperCase() !== 'GET') return 'prefetch';
  const agent = (follow.userAgent ?? '').trim();
  if (agent === '' || isPrefetcher(agent)) return 'prefetch';
  return follow.nowMs - follow.issuedAtMs < settings.prefetchSeconds * 1000 ? 'prefetch' : 'click';
}
