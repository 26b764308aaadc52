/**
 * The console in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) on a real stack of its own: a restock made through the
 * inventory stand-in appears on the overview, its page shows the counts
 * `restock status` gives and updates as notifications arrive without a
 * reload (the delivery queues are held paused with Cloud Tasks' pauseQueue,
 * then resumed), a shopper search finds the trace, no URL the browser asked
 * for carries a user id or an address, and the pages read at 1280 and 390 px.
 * The demand page lists a product with shoppers waiting, and its product page
 * says how many, with their sign-ups drawn by Chart.js.
 *
 * Its own stack, since pausing the delivery queues of the shared one would
 * hold every other test file's deliveries.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { putStock } from '../../../emulators/scenario/index.ts';
import { COLLECTIONS } from '../../../lib/model.ts';
import { accessFor, seedSubscribers, startStack, uniqueProductId, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';

/** Debian's package (`apt-get install chromium`, as .ci/run does): no browser is downloaded from anywhere else. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOPPERS = 120;

let own: Stack;
let on: StackAccess;
let browser: Browser;
/** Every URL the browser asked for, pages, assets and polls alike. */
const requested: string[] = [];
/** Script errors and console errors (a CSP refusal shows up here): a page that half-works fails the test. */
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  [own, browser] = await Promise.all([
    startStack({ env: { RESTOCK_CHUNK_SIZE: '20' } }),
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] }),
  ]);
  on = accessFor(own.description);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await on?.close();
  await own?.stop();
}, 120_000);

async function newPage(width = 1280): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  page.setDefaultTimeout(60_000);
  return page;
}

const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();

describe('the console on the real stack', () => {
  test('a restock appears on the overview; its page counts as `restock status` does and updates as notifications arrive, without a reload; a shopper search finds the trace', { timeout: 600_000 }, async () => {
    // Prepare: shoppers waiting for a sold-out product, and the delivery queues held so nobody is told yet.
    const productId = uniqueProductId('console');
    const subs = await seedSubscribers(productId, SHOPPERS, { on, userIdPrefix: `${productId}-u` });
    for (const name of own.description.deliveryQueues) await on.tasks!.pauseQueue({ name });
    const inventory = own.description.inventory;
    await putStock(inventory, productId, { available: 0 });
    const { eventId } = await putStock(inventory, productId, { available: 50 });
    await waitFor(async () => (await on.firestore.collection(COLLECTIONS.fanouts).doc(eventId).get()).get('state') === 'complete', {
      timeoutMs: 180_000,
      what: 'the fan-out to enqueue every chunk',
    });

    // Act: the overview, and the restock's page from its link.
    const page = await newPage();
    await page.goto(`${own.description.console}/`);
    const row = page.locator('tr', { hasText: productId });
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
    expect(await row.locator('td[data-label="Told"] .told').textContent()).toBe(`0 / ${SHOPPERS}`);
    await row.getByRole('link', { name: eventId }).click();
    await page.waitForURL(`**/restocks/${eventId}`);

    // Assess: nobody told yet, the whole audience enqueued.
    expect(await text(page, '[data-field="told"]')).toBe('0');
    expect(await text(page, '[data-field="audience"]')).toBe(String(SHOPPERS));
    expect(await text(page, '[data-count="sent"]')).toBe('0');
    expect(await text(page, '[data-field="settled"]')).toBe('in progress');

    // Act: let the notifications go, and watch the same page.
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.evaluate(() => {
      (window as unknown as { keptAcrossUpdates: boolean }).keptAcrossUpdates = true;
    });
    for (const name of own.description.deliveryQueues) await on.tasks!.resumeQueue({ name });

    // Assess: the counts reach everyone in place (same document, no navigation), and the chart gained points.
    await page.waitForFunction((n) => document.querySelector('[data-count="sent"]')?.textContent === String(n), SHOPPERS, { timeout: 240_000 });
    expect(await text(page, '[data-field="told"]')).toBe(String(SHOPPERS));
    await page.waitForFunction(() => document.querySelector('[data-field="settled"]')?.textContent === 'settled', null, { timeout: 120_000 });
    expect(navigations).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { keptAcrossUpdates?: boolean }).keptAcrossUpdates)).toBe(true);
    const points = await page.evaluate(() => {
      const chart = (window as unknown as { Chart: { getChart(el: Element): { data: { datasets: { data: { y: number }[] }[] } } | undefined } }).Chart.getChart(
        document.getElementById('progress-chart')!,
      );
      return chart?.data.datasets[0]?.data.map((p) => p.y) ?? [];
    });
    expect(points.length).toBeGreaterThanOrEqual(3);
    expect(points.at(-1)).toBe(SHOPPERS);

    // Act: a shopper's trace through the search form.
    const shopper = subs[7]!;
    await page.getByRole('link', { name: 'Shopper' }).click();
    await page.getByLabel('User id').fill(shopper.userId);
    await page.getByRole('button', { name: 'Trace' }).click();
    await page.waitForSelector('#trace');

    // Assess: the restock reached them by email and was sent; the address stayed on the page's URL's far side.
    const trace = page.locator('.trace-events tr', { hasText: eventId });
    await expect.poll(() => trace.count()).toBe(1);
    expect(await trace.locator('td').nth(3).textContent()).toBe('email');
    expect(await trace.locator('td').nth(4).textContent()).toBe('sent');
    expect(page.url()).toBe(`${own.description.console}/shoppers`);
    expect(await page.content()).not.toContain(shopper.channels.email);

    // Assess: no URL the browser asked for carried a user id or an address.
    expect(requested.length).toBeGreaterThan(5);
    const leaking = requested.filter((u) => subs.some((s) => u.includes(s.userId)) || /%40|@/.test(u));
    expect(leaking).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  test('the pages read on a phone (390 px) without sideways scrolling, and the keyboard reaches the content first', { timeout: 120_000 }, async () => {
    const page = await newPage(390);
    const overflow = async (what: string) => {
      const px = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(px, `${what} scrolls sideways by ${px} px`).toBeLessThanOrEqual(0);
    };
    await page.goto(`${own.description.console}/`);
    await overflow('the overview');
    // The restock of the first test, as a phone shows it.
    await page.locator('td[data-label="Restock"] a').first().click();
    await page.waitForSelector('#progress-chart');
    await overflow('a restock');
    await page.goto(`${own.description.console}/shoppers`);
    await overflow('the shopper page');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('userId');
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  test('the demand page lists a product with shoppers waiting; its page says how many and draws their sign-ups, on a phone too', { timeout: 120_000 }, async () => {
    // Prepare: a sold-out product with shoppers waiting (the first test's shoppers were all told).
    const productId = uniqueProductId('console-demand');
    const waiting = 9;
    const subs = await seedSubscribers(productId, waiting, { on, userIdPrefix: `${productId}-u` });
    const page = await newPage();

    // Act: the demand page from the navigation, then the product's page from its row.
    await page.goto(`${own.description.console}/`);
    await page.getByRole('link', { name: 'Demand' }).click();
    await page.waitForURL('**/demand');
    const row = page.locator('tbody tr', { hasText: productId });
    await expect.poll(() => row.count()).toBe(1);
    const listed = await text(page, `td[data-waiting="${productId}"]`);
    await row.getByRole('link', { name: productId }).click();
    await page.waitForURL(`**/products/${productId}`);

    // Assess: the count on both pages, and the chart's last bar (today) holding every sign-up.
    expect(listed).toBe(String(waiting));
    expect(await text(page, '[data-field="waiting"]')).toBe(String(waiting));
    const bars = await page.evaluate(() => {
      const chart = (window as unknown as { Chart: { getChart(el: Element): { data: { datasets: { data: number[] }[] } } | undefined } }).Chart.getChart(document.querySelector('canvas[data-bars]')!);
      return chart?.data.datasets[0]?.data ?? [];
    });
    expect(bars).toHaveLength(30);
    expect(bars.at(-1)).toBe(waiting);

    // Assess: both pages read at 390 px without sideways scrolling.
    await page.setViewportSize({ width: 390, height: 900 });
    for (const path of ['/demand', `/products/${encodeURIComponent(productId)}`]) {
      await page.goto(`${own.description.console}${path}`);
      const px = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(px, `${path} scrolls sideways by ${px} px`).toBeLessThanOrEqual(0);
    }
    expect(requested.filter((u) => subs.some((sub) => u.includes(sub.userId)))).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
