/**
 * The console's routes in-process (Hono's `app.request`), over operations that
 * record what they were asked: each page renders the CLI's read model, bad
 * input is refused naming the field, errors answer the right status, and
 * personal data stays out of URLs and logs. The real stack and browser are
 * test/system/console.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BackendError, NotFoundError } from '../../../cli/errors.ts';
import type { DemandQuery, DemandReport, ProductDemandReport } from '../../../cli/queries/demand.ts';
import { conversionOf, dayStarts } from '../../../cli/queries/demand.ts';
import { sumRows } from '../../../cli/queries/funnel.ts';
import type { RestocksQuery } from '../../../cli/queries/restocks.ts';
import { CONCURRENCY, FANOUTS_PER_PRODUCT, MAX_PRODUCTS, PAGE, restockRow } from '../../../cli/queries/restocks.ts';
import type { TraceQuery, TraceReport } from '../../../cli/queries/trace.ts';
import { consoleApp, DEMAND_SHARED_MS, type ConsoleOperations } from '../../../console/app.ts';
import { progressOf } from '../../../console/view.ts';
import { Logger } from '../../../lib/log.ts';
import { statusReport } from '../cli/fakes.ts';

const NOW = 1_700_000_000_000;

/** The console over recorded operations; `clock` moves time for the tests of shared reads (default: NOW, polling every second). */
function harness(ops: Partial<ConsoleOperations> = {}, clock: { nowMs: () => number; pollMs?: number } = { nowMs: () => NOW }) {
  const logged: string[] = [];
  const asked: { restocks: RestocksQuery[]; statuses: string[]; traces: TraceQuery[]; demand: DemandQuery[]; products: string[] } = { restocks: [], statuses: [], traces: [], demand: [], products: [] };
  const app = consoleApp({
    ...clock,
    log: new Logger({}, 'DEBUG', (line) => logged.push(line)),
    ops: {
      readRestocks: async (q) => {
        asked.restocks.push(q);
        return ops.readRestocks ? ops.readRestocks(q) : { sinceMs: q.sinceMs, restocks: [], truncated: false };
      },
      readStatus: async (eventKey) => {
        asked.statuses.push(eventKey);
        return ops.readStatus ? ops.readStatus(eventKey) : statusReport();
      },
      readTrace: async (q) => {
        asked.traces.push(q);
        return ops.readTrace ? ops.readTrace(q) : { userId: q.userId, productId: q.productId ?? null, subscriptions: [], events: [], outboxUnreadable: null };
      },
      readDemand: async (q) => {
        asked.demand.push(q);
        return ops.readDemand ? ops.readDemand(q) : demandReport();
      },
      readProductDemand: async (productId, nowMs) => {
        asked.products.push(productId);
        return ops.readProductDemand ? ops.readProductDemand(productId, nowMs) : productReport(productId);
      },
    },
  });
  return { app, logged, asked };
}

const DAY = 86_400_000;
const lastRestockFunnel = { ...sumRows([]), notified: 40, clicked: 10, purchased: { direct: 3, assisted: 1 }, revenueMinor: { EUR: 19_996 } };
const lastRestock = { eventKey: 'evt-9', startedAtMs: NOW - DAY, state: 'complete', stopped: null, recipients: 40, funnel: lastRestockFunnel, conversion: conversionOf(lastRestockFunnel) };

function demandReport(overrides: Partial<DemandReport> = {}): DemandReport {
  const signupsPerDay = dayStarts(NOW, 7).map((dayStartMs, i) => ({ dayStartMs, signups: i }));
  return {
    readAtMs: NOW,
    considered: 12,
    withWaiting: 2,
    products: [
      { productId: 'sku-hot', name: 'Trail <shoe>', available: 0, waiting: 1204, signupsPerDay, lastRestock },
      { productId: 'sku new', name: null, available: null, waiting: 3, signupsPerDay, lastRestock: null },
    ],
    truncated: false,
    ...overrides,
  };
}

function productReport(productId: string, overrides: Partial<ProductDemandReport> = {}): ProductDemandReport {
  return {
    productId,
    readAtMs: NOW,
    name: 'Trail shoe',
    available: 0,
    waiting: 1204,
    signupsPerDay: dayStarts(NOW, 30).map((dayStartMs, i) => ({ dayStartMs, signups: i === 29 ? 17 : 0 })),
    restocks: [lastRestock, { ...lastRestock, eventKey: 'evt-8', stopped: 'sold-out', funnel: sumRows([]), conversion: null }],
    restocksTruncated: false,
    ...overrides,
  };
}

const form = (fields: Record<string, string>) => ({ method: 'POST', body: new URLSearchParams(fields), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

describe('the overview', () => {
  test('lists the restocks of the last 24 h, each linked to its page with told of the audience and its failures', async () => {
    // Prepare
    const report = statusReport();
    const row = restockRow({ ...report.fanout!, productId: 'sku-<b>' }, report.deliveries);
    const { app, asked } = harness({ readRestocks: async (q) => ({ sinceMs: q.sinceMs, restocks: [row], truncated: false }) });

    // Act
    const res = await app.request('/');
    const page = await res.text();

    // Assess
    expect(res.status).toBe(200);
    expect(asked.restocks).toEqual([{ sinceMs: NOW - 24 * 3_600_000, limit: 100 }]);
    expect(page).toContain('<a href="/restocks/evt-1">evt-1</a>');
    expect(page).toContain('148 / 150');
    expect(page).toMatch(/data-label="Failures" class="bad">2</);
    // Escaped, never markup.
    expect(page).toContain('sku-&lt;b&gt;');
    expect(page).not.toContain('sku-<b>');
  });

  test('says so when no restock started in the window', async () => {
    const res = await harness().app.request('/');
    expect(await res.text()).toContain('No restock started since 2023-11-13 22:13:20 UTC.');
  });
});

describe('a restock', () => {
  test('shows the counts by state of `restock status` and carries the data its script polls', async () => {
    const { app } = harness();
    const page = await (await app.request('/restocks/evt-1')).text();
    expect(page).toContain('data-count="sent">148<');
    expect(page).toContain('data-count="rejected">1<');
    expect(page).toContain('data-count="exhausted">1<');
    expect(page).toContain('data-api="/api/restocks/evt-1"');
    expect(page).toContain('<script src="/assets/chart.umd.js" defer></script>');
    const data = JSON.parse(/<script type="application\/json" id="restock-data">(.*?)<\/script>/s.exec(page)![1]!);
    expect(data.progress).toEqual({ told: 148, audience: 150, settledDeliveries: 150, failures: 2, settled: true });
  });

  test('its JSON endpoint answers the same progress, never cached', async () => {
    const res = await harness().app.request('/api/restocks/evt-1');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toMatchObject({ readAtMs: NOW, progress: progressOf(statusReport()), status: { eventKey: 'evt-1' } });
  });

  test('the sampled entries reach the browser without their shoppers: no user id or dedup key in the page or the JSON it polls', async () => {
    // Prepare
    const entry = { dedupKey: 'dk-of-u-secret-9', eventKey: 'evt-1', productId: 'sku-1', userId: 'u-secret-9', channel: 'webpush', state: 'rejected', attempts: 1, lastError: 'webpush 410 subscription gone', sentAtMs: null, createdAtMs: NOW, updatedAtMs: NOW };
    const { app } = harness({ readStatus: async () => statusReport({ oldestPending: { ...entry, state: 'sending', lastError: null }, lastErrors: [entry] }) });

    // Act
    const page = await (await app.request('/restocks/evt-1')).text();
    const json = await (await app.request('/api/restocks/evt-1')).text();

    // Assess
    expect(page).toContain('<td>webpush 410 subscription gone</td>');
    expect(JSON.parse(json).status.lastErrors).toEqual([{ eventKey: 'evt-1', productId: 'sku-1', channel: 'webpush', state: 'rejected', attempts: 1, lastError: 'webpush 410 subscription gone', sentAtMs: null, createdAtMs: NOW, updatedAtMs: NOW }]);
    for (const text of [page, json]) {
      expect(text).not.toContain('u-secret-9');
      expect(text).not.toContain('dk-of-u-secret-9');
    }
  });

  test('an event nobody recorded is a 404 saying so, as a page and as problem JSON', async () => {
    const { app } = harness({ readStatus: async (k) => Promise.reject(new NotFoundError(`no outbox row, fan-out, rejected event or delivery is recorded for event ${k}`, k)) });
    const page = await app.request('/restocks/nope');
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('no outbox row, fan-out, rejected event or delivery is recorded for event nope');
    const api = await app.request('/api/restocks/nope');
    expect(api.status).toBe(404);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
  });

  test('a pipeline that cannot be read answers 503 naming what, logged without a stack trace', async () => {
    const { app, logged } = harness({ readStatus: async () => Promise.reject(new BackendError('cannot read fanouts/evt-1', 'fanouts/evt-1')) });
    const res = await app.request('/restocks/evt-1');
    expect(res.status).toBe(503);
    const page = await res.text();
    expect(page).toContain('cannot read fanouts/evt-1');
    expect(page).not.toContain(' at ');
    expect(logged.join('\n')).toContain('"error":"BackendError"');
  });
});

describe('demand', () => {
  test('lists the products with the most shoppers waiting, as `restock demand --top 20` at the console clock, each linked to its page', async () => {
    // Prepare
    const { app, asked } = harness();

    // Act
    const res = await app.request('/demand');
    const page = await res.text();

    // Assess
    expect(res.status).toBe(200);
    expect(asked.demand).toEqual([{ top: 20, nowMs: NOW }]);
    expect(page).toContain('<a href="/products/sku-hot">sku-hot</a> <span class="note">Trail &lt;shoe&gt;</span>');
    expect(page).toContain('<a href="/products/sku%20new">sku new</a>');
    expect(page).toContain('data-waiting="sku-hot">1,204<');
    expect(page).toContain('21 <span class="note">(per day: 0 1 2 3 4 5 6)</span>');
    expect(page).toContain('<a href="/restocks/evt-9">2023-11-13 22:13:20 UTC</a>');
    expect(page).toContain('10.0 % (4 of 40 notified bought)');
    expect(page).toContain('restock demand --top 20');
    expect(page).toContain('<a href="/demand" aria-current="page">Demand</a>');
    expect(page).not.toContain('Only the first');
  });

  test('says so when nobody waits, and when it stopped short of every product', async () => {
    const none = await (await harness({ readDemand: async () => demandReport({ products: [], withWaiting: 0 }) }).app.request('/demand')).text();
    expect(none).toContain('No shopper is waiting for any of the 12 product(s) considered.');
    const short = await (await harness({ readDemand: async () => demandReport({ considered: 1000, truncated: true }) }).app.request('/demand')).text();
    expect(short).toContain('Only the first 1,000 products (by id) were counted');
  });

  test('operators opening it within a minute share one read; after it, the page is read again', async () => {
    // Prepare
    let now = NOW;
    const { app, asked } = harness({}, { nowMs: () => now });

    // Act
    const pages = await Promise.all(Array.from({ length: 10 }, () => app.request('/demand')));
    now += DEMAND_SHARED_MS - 1;
    await app.request('/demand');
    now += 1;
    await app.request('/demand');

    // Assess
    expect(pages.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(asked.demand.map((q) => q.nowMs)).toEqual([NOW, NOW + DEMAND_SHARED_MS]);
  });

  test('the overview links each restock’s product to its page, and the restock page its heading', async () => {
    const report = statusReport();
    const row = restockRow(report.fanout!, report.deliveries);
    const overview = await (await harness({ readRestocks: async (q) => ({ sinceMs: q.sinceMs, restocks: [row], truncated: false }) }).app.request('/')).text();
    expect(overview).toContain(`<td data-label="Product"><a href="/products/${report.fanout!.productId}">${report.fanout!.productId}</a></td>`);
    expect(overview).toContain('<a href="/demand">Demand</a>');
    const restock = await (await harness().app.request('/restocks/evt-1')).text();
    expect(restock).toContain(`<h1>Restock of <a href="/products/${report.fanout!.productId}">`);
  });
});

describe('a product', () => {
  test('shows its shoppers waiting, its sign-ups per day as a chart and a table, and its past restocks with what each sold', async () => {
    // Prepare
    const { app, asked } = harness();

    // Act
    const res = await app.request('/products/sku-hot');
    const page = await res.text();

    // Assess
    expect(res.status).toBe(200);
    expect(asked.products).toEqual(['sku-hot']);
    expect(page).toContain('<dd data-field="waiting">1,204</dd>');
    expect(page).toContain('restock product demand sku-hot');
    expect(page).toContain('<script src="/assets/bars.js" defer></script>');
    expect(page).toMatch(/<canvas data-bars="signups-data" role="img" aria-label="Sign-ups per day over the last 30 days: [^"]*2023-11-14 17"/);
    const data = JSON.parse(/<script type="application\/json" id="signups-data">(.*?)<\/script>/s.exec(page)![1]!);
    expect(data.values).toHaveLength(30);
    expect(data.values.at(-1)).toBe(17);
    expect(page).toContain('<tr><th scope="row">2023-11-14</th><td class="num">17</td></tr>');
    expect(page).toMatch(/<a href="\/restocks\/evt-9">[^<]+<\/a>.*data-label="Purchased" class="num">4<.*data-label="Conversion">10.0 %<.*data-label="Revenue">EUR 199.96</s);
    expect(page).toMatch(/<a href="\/restocks\/evt-8">.*stopped: sold-out.*data-label="Conversion">-</s);
  });

  test('operators opening one product\u2019s page within a minute share one read; another product, or a minute later, is read', async () => {
    // Prepare
    let now = NOW;
    const { app, asked } = harness({}, { nowMs: () => now });

    // Act
    const pages = await Promise.all(Array.from({ length: 5 }, () => app.request('/products/sku-hot')));
    now += DEMAND_SHARED_MS - 1;
    await app.request('/products/sku-hot');
    await app.request('/products/sku-cold');
    now += 1;
    await app.request('/products/sku-hot');

    // Assess
    expect(pages.map((r) => r.status)).toEqual(Array(5).fill(200));
    expect(asked.products).toEqual(['sku-hot', 'sku-cold', 'sku-hot']);
  });

  test('a product id is read from the path as the link encoded it', async () => {
    const { app, asked } = harness();
    expect((await app.request('/products/sku%20new')).status).toBe(200);
    expect(asked.products).toEqual(['sku new']);
  });

  test('a product id that is not an id is refused with a 400 naming it, and nothing is read', async () => {
    const { app, asked } = harness();
    const res = await app.request('/products/a%2Fb');
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('the product id is not a valid id');
    expect(asked.products).toEqual([]);
  });

  test('a pipeline that cannot be read answers 503 naming what', async () => {
    const { app } = harness({ readProductDemand: async () => Promise.reject(new BackendError('cannot count products/sku-hot/restockSubscriptions', 'x')) });
    const res = await app.request('/products/sku-hot');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('cannot count products/sku-hot/restockSubscriptions');
  });

  test('its chart script is served', async () => {
    const res = await harness().app.request('/assets/bars.js');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("type: 'bar'");
  });
});

describe('a shopper', () => {
  test('the search form POSTs the user id: it never reaches a URL', async () => {
    const page = await (await harness().app.request('/shoppers')).text();
    expect(page).toContain('<form method="post" action="/shoppers"');
    expect(page).toMatch(/<label for="userId">User id<\/label>\s*<input id="userId" name="userId" required/);
  });

  test('answers what `restock trace` answers for the user id of the form', async () => {
    // Prepare
    const report: TraceReport = {
      userId: 'u-42',
      productId: 'sku-1',
      subscriptions: [],
      events: [
        {
          eventKey: 'evt-1',
          fanout: statusReport().fanout,
          outbox: null,
          deliveries: [{ dedupKey: 'k', eventKey: 'evt-1', productId: 'sku-1', userId: 'u-42', channel: 'email', state: 'sent', attempts: 1, lastError: null, sentAtMs: NOW, createdAtMs: NOW, updatedAtMs: NOW }],
        },
      ],
      outboxUnreadable: null,
    };
    const { app, asked } = harness({ readTrace: async () => report });

    // Act
    const res = await app.request('/shoppers', form({ userId: ' u-42 ', productId: 'sku-1' }));
    const page = await res.text();

    // Assess
    expect(res.status).toBe(200);
    expect(asked.traces).toEqual([{ userId: 'u-42', productId: 'sku-1', limit: 50 }]);
    expect(page).toContain('Trace of u-42 for sku-1');
    expect(page).toMatch(/<a href="\/restocks\/evt-1">evt-1<\/a>.*<td>email<\/td><td><span class="state state-sent">sent<\/span>/s);
  });

  test('a missing or malformed user id is refused with a 400 naming the field, and nothing is read', async () => {
    const { app, asked } = harness();
    const empty = await app.request('/shoppers', form({ userId: '  ' }));
    expect(empty.status).toBe(400);
    const page = await empty.text();
    expect(page).toContain('id="userId-error">the user id is required<');
    expect(page).toContain('aria-invalid="true" aria-describedby="userId-error"');
    const slash = await app.request('/shoppers', form({ userId: 'u-1', productId: 'a/b' }));
    expect(slash.status).toBe(400);
    expect(await slash.text()).toContain('the product id is not a valid id');
    expect(asked.traces).toEqual([]);
  });

  test('a failed trace is logged by route and error class, never with the user id', async () => {
    const { app, logged } = harness({ readTrace: async () => Promise.reject(new BackendError('cannot query restockSubscriptions of user u-secret-7', 'x')) });
    const res = await app.request('/shoppers', form({ userId: 'u-secret-7' }));
    expect(res.status).toBe(503);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain('u-secret-7');
  });
});

describe('polling', () => {
  test('ten tabs polling one restock share one status read per poll window; a failed read is not kept', async () => {
    // Prepare
    let now = NOW;
    let failNext = false;
    const readStatus = async () => {
      if (failNext) {
        failNext = false;
        throw new BackendError('cannot read fanouts/evt-1', 'fanouts/evt-1');
      }
      return statusReport();
    };
    const { app, asked } = harness({ readStatus }, { nowMs: () => now, pollMs: 1_000 });
    const poll = () => app.request('/api/restocks/evt-1');

    // Act
    const burst = await Promise.all(Array.from({ length: 10 }, poll));
    now += 999;
    const later = await poll();
    const other = await app.request('/api/restocks/evt-2');
    now += 1;
    const next = await poll();
    now += 1_000;
    failNext = true;
    const failed = await poll();
    const retried = await poll();

    // Assess
    expect(burst.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(later.status).toBe(200);
    expect(other.status).toBe(200);
    expect(next.status).toBe(200);
    expect((await next.json()).readAtMs).toBe(NOW + 1_000);
    expect(failed.status).toBe(503);
    expect(retried.status).toBe(200);
    expect(asked.statuses).toEqual(['evt-1', 'evt-2', 'evt-1', 'evt-1', 'evt-1']);
  });

  test('a status read slower than the poll window is shared by every poll while it runs, and its answer kept a window from when it came', async () => {
    // Prepare: a Firestore slower than the window (a read takes 5 s, polls come every second).
    let now = NOW;
    let answer!: () => void;
    const firestore = new Promise<void>((resolve) => (answer = resolve));
    const readStatus = async () => {
      await firestore;
      return statusReport();
    };
    const { app, asked } = harness({ readStatus }, { nowMs: () => now, pollMs: 1_000 });
    const poll = () => app.request('/api/restocks/evt-1');

    // Act: five polls a second apart while the first read runs, then the answer.
    const polls = [];
    for (let i = 0; i < 5; i++) {
      polls.push(poll());
      await new Promise((r) => setImmediate(r));
      now += 1_000;
    }
    answer();
    const answered = await Promise.all(polls);
    const soonAfter = await poll();
    now += 1_000;
    const windowLater = await poll();

    // Assess: one read while it ran and a window after its answer, a second read after that.
    expect(answered.map((r) => r.status)).toEqual(Array(5).fill(200));
    expect(soonAfter.status).toBe(200);
    expect(windowLater.status).toBe(200);
    expect(asked.statuses).toEqual(['evt-1', 'evt-1']);
  });

  test('operators opening the overview at once share one read of it', async () => {
    const { app, asked } = harness();
    const pages = await Promise.all(Array.from({ length: 10 }, () => app.request('/')));
    expect(pages.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(asked.restocks).toHaveLength(1);
  });
});

describe('assets', () => {
  test('Chart.js is served from node_modules, and the pages allow scripts from the console only', async () => {
    const { app } = harness();
    const chart = await app.request('/assets/chart.umd.js');
    expect(chart.status).toBe(200);
    expect(await chart.text()).toContain('Chart.js v4');
    const csp = (await app.request('/')).headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self'");
  });
});

describe('the overview rows', () => {
  test('count told, failures and the audience (the larger of the enqueued recipients and the ledger)', () => {
    const r = statusReport();
    const byState = { sending: 3, sent: 10, failed: 1, rejected: 2, exhausted: 4, unsubscribed: 0, soldOutBeforeSend: 0, held: 0 };
    expect(restockRow({ ...r.fanout!, recipients: 5 }, byState)).toMatchObject({ told: 10, failures: 7, audience: 20 });
    expect(restockRow({ ...r.fanout!, recipients: 500 }, byState)).toMatchObject({ audience: 500 });
  });
});

describe('the manual', () => {
  test('console.md states the overview\u2019s bounds the code sets (cli/queries/restocks.ts)', () => {
    const page = readFileSync(new URL('../../../docs/console.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const n = (x: number) => x.toLocaleString('en-US');
    expect(page).toContain(`fan-outs started in the window (at most ${FANOUTS_PER_PRODUCT}) by the \`(productId, startedAtMs desc)\` index \`restock trace\` uses, ${CONCURRENCY} products at once`);
    expect(page).toContain(`with ${n(MAX_PRODUCTS)} products changed in a day that is ${MAX_PRODUCTS / PAGE} pages of products`);
    expect(page).toContain(`It reads at most ${n(MAX_PRODUCTS)} products and says so when the window held more.`);
  });
});
