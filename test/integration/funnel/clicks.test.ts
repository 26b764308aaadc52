/**
 * Tracked links on the real stack (issue 34): a restock fanned out to email
 * and push shoppers, each message at the notification sink carrying a
 * `/v1/c/{token}` link of the public `restockUnsubscribe`, followed over HTTP;
 * clicks recorded by `applyShopperActions` through Pub/Sub in Firestore.
 *
 * - a link followed any number of times (32 at once) counts once per
 *   (event, shopper, channel), and lands on the product URL plus UTM;
 * - HEAD and a scanner's GET are redirected but never counted;
 * - a forged, altered, expired or other-purpose token gets a page, never a redirect.
 */
import { describe, expect, test } from 'vitest';
import { LOCAL_UNSUBSCRIBE_SECRET } from '../../../emulators/stack/index.ts';
import { clickKey } from '../../../lib/clicks/index.ts';
import { COLLECTIONS, type ClickDoc } from '../../../lib/model.ts';
import { openClickToken, sealClickToken, sealUnsubscribeToken } from '../../../lib/unsubscribe/index.ts';
import { inventoryEvent, pushDirect, seedSubscribers, sink, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';

const KEYS = [LOCAL_UNSUBSCRIBE_SECRET];
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
/** RESTOCK_CLICK_PREFETCH_SECONDS's default: a GET sooner after sending is a gateway's scan. */
const PREFETCH_MS = 5_000;

/** Follows a link as `userAgent` would (null: Node's own fetch, which says `node`). */
const follow = (url: string, method = 'GET', userAgent: string | null = BROWSER) =>
  fetch(url, { method, redirect: 'manual', headers: userAgent !== null ? { 'user-agent': userAgent } : {} });

const clicksOf = async (eventKey: string) =>
  (await stack().firestore.collection(COLLECTIONS.clicks).where('eventKey', '==', eventKey).get()).docs.map((d) => d.data() as ClickDoc);

/** Restocks a fresh product for two shoppers on email and push; answers the tracked link of each message at the sink. */
async function restockWithLinks(label: string) {
  const productId = uniqueProductId(label);
  const [ann, bea] = await seedSubscribers(productId, 2, { channels: ['email', 'push'], userIdPrefix: `${productId}-u` });
  const event = inventoryEvent({ productId, sequence: 2, available: 25, previousAvailable: 0, product: { name: 'Lamp', url: `https://shop.example/p/${productId}?size=m` } });
  const res = await pushDirect(stack().description.functions.fanOutRestock, { data: event, messageId: `${productId}-s2` });
  expect(res.status).toBe(200);
  const records = await waitFor(async () => {
    const r = await sink().notifications(productId);
    return r.length === 4 && r.every((n) => n.status === 'sent') ? r : undefined;
  }, { timeoutMs: 60_000, what: `four notifications of ${productId} at the sink` });
  const link = (userId: string, channel: 'email' | 'push') => {
    const record = records.find((r) => r.userId === userId && r.channel === channel)!;
    expect(record.clickUrl, `${userId}/${channel} carries a tracked link`).toMatch(/\/v1\/c\/k1\.[\w-]+$/);
    return record.clickUrl!;
  };
  const links = { annEmail: link(ann!.userId, 'email'), annPush: link(ann!.userId, 'push'), beaEmail: link(bea!.userId, 'email'), beaPush: link(bea!.userId, 'push') };
  const claims = openClickToken(links.annEmail.split('/v1/c/')[1]!, KEYS, { nowMs: Date.now(), maxAgeMs: 86_400_000 });
  return { productId, ann: ann!, bea: bea!, links, eventKey: records[0]!.eventKey, claims };
}

describe('tracked links', () => {
  test('a link followed 32 times at once counts one click per (event, shopper, channel); HEAD and scanners never count', { timeout: 180_000 }, async () => {
    // Prepare
    const { productId, ann, bea, links, eventKey, claims } = await restockWithLinks('clicks');
    expect(claims).toMatchObject({ eventKey, productId, userId: ann.userId, channel: 'email', url: `https://shop.example/p/${productId}?size=m` });
    const expected = new URL(claims.url);
    expected.searchParams.set('utm_source', 'restock');
    expected.searchParams.set('utm_medium', 'email');
    expected.searchParams.set('utm_campaign', eventKey);

    // Act 1: a mail gateway scans Bea's push link as the message arrives, with a browser's User-Agent
    // (a link just issued: its clock starts at the token's issue), then HEAD and scanners' GETs later.
    const base = stack().description.functions.restockUnsubscribe.replace(/\/$/, '');
    const justSent = `${base}/v1/c/${sealClickToken({ ...claims, userId: bea.userId, channel: 'push', issuedAtMs: Date.now() + 30_000 }, KEYS)}`;
    const scan = await follow(justSent);
    await waitFor(() => Date.now() >= claims.issuedAtMs + PREFETCH_MS + 500, { timeoutMs: 20_000, what: 'the prefetch window to pass' });
    const prefetches = await Promise.all([follow(links.beaPush, 'HEAD'), follow(links.beaPush, 'GET', 'Mozilla/5.0 (compatible; Barracuda Sentinel)'), follow(links.beaPush, 'GET', null)]);
    // Act 2: the shoppers' own GETs, Ann's email link 32 times at once.
    const annClicks = await Promise.all(Array.from({ length: 32 }, () => follow(links.annEmail)));
    const others = await Promise.all([follow(links.annPush), follow(links.beaEmail), follow(links.beaEmail)]);

    // Assess: every request landed on the product URL and nowhere else.
    expect([scan, ...prefetches].map((r) => r.status)).toEqual([302, 302, 302, 302]);
    for (const r of annClicks) {
      expect(r.status).toBe(302);
      expect(r.headers.get('location')).toBe(expected.toString());
    }
    expect(new URL(others[0]!.headers.get('location')!).searchParams.get('utm_medium')).toBe('push');
    const clicks = await waitFor(async () => {
      const c = await clicksOf(eventKey);
      return c.length >= 3 ? c : undefined;
    }, { timeoutMs: 30_000, what: 'three clicks recorded' });
    // Whatever is still in flight through Pub/Sub has landed by now.
    await new Promise((r) => setTimeout(r, 3_000));
    const settled = await clicksOf(eventKey);
    expect(settled).toHaveLength(3);
    expect(settled.map((c) => `${c.userId}/${c.channel}`).sort()).toEqual([`${ann.userId}/email`, `${ann.userId}/push`, `${bea.userId}/email`].sort());
    expect(clicks.every((c) => c.productId === productId && c.clickedAtMs >= claims.issuedAtMs + PREFETCH_MS)).toBe(true);
    const count = await stack().firestore.collection(COLLECTIONS.clicks).where('eventKey', '==', eventKey).where('channel', '==', 'email').count().get();
    expect(count.data().count).toBe(2);
  });

  test('a forged, altered, expired or other-purpose token gets a page, never a redirect, and records nothing', { timeout: 180_000 }, async () => {
    // Prepare
    const base = stack().description.functions.restockUnsubscribe.replace(/\/$/, '');
    const { links, eventKey, claims } = await restockWithLinks('forged');
    const token = links.annEmail.split('/v1/c/')[1]!;
    const middle = Math.floor(token.length / 2);
    const altered = token.slice(0, middle) + (token[middle] === 'A' ? 'B' : 'A') + token.slice(middle + 1);
    const forged = sealClickToken({ ...claims, url: 'https://evil.example/phish', issuedAtMs: Date.now() - 60_000 }, ['an-attacker-key-that-is-long-enough-0123456789']);
    const expired = sealClickToken({ ...claims, issuedAtMs: Date.now() - 91 * 86_400_000 }, KEYS);
    const unsubscribe = sealUnsubscribeToken({ productId: claims.productId, userId: claims.userId, generation: 1, issuedAtMs: Date.now() }, KEYS);

    // Act
    const answers = await Promise.all(
      [altered, forged, expired, unsubscribe, 'k1.not-a-token', `${token}/../x`].map(async (t) => ({ t, res: await follow(`${base}/v1/c/${t}`) })),
    );

    // Assess
    for (const { t, res } of answers) {
      expect(res.headers.get('location'), t).toBeNull();
      expect([400, 404], t).toContain(res.status);
    }
    const pages = await Promise.all(answers.slice(0, 4).map(({ res }) => res.text()));
    expect(pages[0]).toContain('This link is not valid');
    expect(pages[1]).toContain('This link is not valid');
    expect(pages[2]).toContain('This link has expired');
    expect(pages[3]).toContain('This link is not valid');
    for (const p of pages) expect(p).not.toContain('evil.example');
    expect(answers[0]!.res.headers.get('content-type')).toMatch(/^text\/html/);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await stack().firestore.collection(COLLECTIONS.clicks).doc(clickKey(eventKey, claims.userId, 'email')).get().then((d) => d.exists)).toBe(false);
  });
});
