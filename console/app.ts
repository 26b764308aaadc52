/**
 * The console's routes, framework-light (Hono) and free of Google clients:
 * it is given the CLI's {@link Operations} (cli/operations.ts), so every page
 * answers with the same read model as the `restock` command of the same name,
 * never a second implementation of it.
 *
 * | route | answers | CLI |
 * | --- | --- | --- |
 * | `GET /` | the restocks of the last 24 h | `restock restocks` |
 * | `GET /restocks/{eventKey}` | one restock, updating itself | `restock status` |
 * | `GET /api/restocks/{eventKey}` | the JSON that page polls | `restock status --json` |
 * | `GET /shoppers`, `POST /shoppers` | a shopper's trace, the user id in the form body | `restock trace` |
 * | `GET /demand` | the products with the most shoppers waiting | `restock demand --top 20` |
 * | `GET /products/{productId}` | one product's demand and past restocks | `restock product demand` |
 *
 * Read-only: nothing here writes. Personal data is never in a URL (the trace
 * is a POST) nor in a log line (errors are logged by route and error class).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono, type Context as HonoContext } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { BackendError, NotFoundError } from '../cli/errors.ts';
import type { Operations } from '../cli/ports.ts';
import type { Logger } from '../lib/log.ts';
import { isValidDocumentId } from '../lib/model.ts';
import { DEMAND_PAGE_TOP, demandPage, overviewPage, problemPage, productPage, restockPage, shopperPage } from './pages.ts';
import { sharedReads } from './shared-read.ts';
import { restockView } from './view.ts';

/** The operations the console reads through: a read-only slice of the CLI's. */
export type ConsoleOperations = Pick<Operations, 'readRestocks' | 'readStatus' | 'readTrace' | 'readDemand' | 'readProductDemand'>;

export interface ConsoleOptions {
  ops: ConsoleOperations;
  log: Logger;
  nowMs?: () => number;
  /**
   * How often the restock page polls while the restock is not settled
   * (default 1000); a restock's status (and the overview) read within this
   * window is shared by every tab asking.
   */
  pollMs?: number;
  /** The overview's window (default 24). */
  hours?: number;
}

/**
 * How long one read of the demand page (up to 1,000 counts) or of a product's
 * page (~350 queries: 30 counts of sign-ups and up to 10 restocks' funnels)
 * serves every operator asking: their numbers move by the day, and the
 * restock page is the live view of a restock.
 */
export const DEMAND_SHARED_MS = 60_000;
/** Most restocks the overview lists. */
const OVERVIEW_LIMIT = 100;
/** Most deliveries (and fan-outs) a trace lists, as `restock trace`'s default. */
const TRACE_LIMIT = 50;

const require = createRequire(import.meta.url);
/** Files served under /assets: the console's own, and Chart.js's UMD build from node_modules (no CDN, no copy). */
const ASSETS: Record<string, { path: string; type: string }> = {
  'console.css': { path: new URL('./assets/console.css', import.meta.url).pathname, type: 'text/css; charset=utf-8' },
  'restock.js': { path: new URL('./assets/restock.js', import.meta.url).pathname, type: 'text/javascript; charset=utf-8' },
  'bars.js': { path: new URL('./assets/bars.js', import.meta.url).pathname, type: 'text/javascript; charset=utf-8' },
  // The package's exports hide dist/ files; its main entry (dist/chart.cjs) sits beside the UMD build.
  'chart.umd.js': { path: join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
};

/** A field the console refused, and why. */
export class InvalidFieldError extends Error {
  override readonly name = 'InvalidFieldError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** An id from a form or a path, checked as the CLI's `idArg` checks it. @throws InvalidFieldError naming the field. */
export function idField(field: string, label: string, value: unknown, required: boolean): string | undefined {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text === '') {
    if (required) throw new InvalidFieldError(`${label} is required`, field);
    return undefined;
  }
  if (!isValidDocumentId(text)) throw new InvalidFieldError(`${label} is not a valid id (no "/", 1–1500 bytes)`, field);
  return text;
}

/** Builds the console's app; serve it with `@hono/node-server` (console/main.ts) or call `app.request()` in a test. */
export function consoleApp(o: ConsoleOptions): Hono {
  const nowMs = o.nowMs ?? Date.now;
  const pollMs = o.pollMs ?? 1_000;
  const hours = o.hours ?? 24;
  const app = new Hono();

  app.use(
    secureHeaders({
      // Scripts and styles only from the console itself; the page's data is a JSON script block, never executed.
      contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], frameAncestors: ["'none'"], formAction: ["'self'"] },
      referrerPolicy: 'no-referrer',
    }),
  );

  /** Answers an error as a page (or JSON under /api), with the status it deserves, and logs it without personal data. */
  const fail = (c: HonoContext, err: unknown, route: string) => {
    const [status, title, detail]: [ContentfulStatusCode, string, string] =
      err instanceof InvalidFieldError
        ? [400, 'Not a valid request', err.message]
        : err instanceof NotFoundError
          ? [404, 'Not found', err.message]
          : err instanceof BackendError
            ? [503, 'The pipeline could not be read', `${err.message}: try again in a moment`]
            : [500, 'The console failed', 'an unexpected error; see the console’s log'];
    if (status >= 500) o.log.error('console request failed', { route, error: err instanceof Error ? err.name : 'unknown', status });
    if (c.req.path.startsWith('/api/')) return c.json({ title, status, detail, ...(err instanceof InvalidFieldError ? { field: err.field } : {}) }, status, { 'content-type': 'application/problem+json' });
    return c.html(problemPage(title, detail), status);
  };

  app.get('/healthz', (c) => c.text('ok'));

  app.get('/assets/:name', (c) => {
    const asset = ASSETS[c.req.param('name')];
    if (!asset) return c.html(problemPage('Not found', 'no such asset'), 404);
    return c.body(readFileSync(asset.path), 200, { 'content-type': asset.type, 'cache-control': 'public, max-age=300' });
  });

  // The overview reads up to 1,000 products and their fan-outs: operators opening it at once share one read.
  const readOverview = sharedReads(() => o.ops.readRestocks({ sinceMs: nowMs() - hours * 3_600_000, limit: OVERVIEW_LIMIT }), pollMs, nowMs);

  app.get('/', async (c) => {
    try {
      const report = await readOverview('overview');
      return c.html(overviewPage(report, hours));
    } catch (err) {
      return fail(c, err, 'overview');
    }
  });

  // One status read per restock and poll window, whatever the number of tabs polling it.
  const readView = sharedReads(async (eventKey) => restockView(await o.ops.readStatus(eventKey), nowMs()), pollMs, nowMs);
  const readRestock = (raw: string) => readView(idField('eventKey', 'the event key', raw, true)!);

  app.get('/restocks/:eventKey', async (c) => {
    try {
      return c.html(restockPage(await readRestock(c.req.param('eventKey')), pollMs));
    } catch (err) {
      return fail(c, err, 'restock');
    }
  });

  app.get('/api/restocks/:eventKey', async (c) => {
    try {
      return c.json(await readRestock(c.req.param('eventKey')), 200, { 'cache-control': 'no-store' });
    } catch (err) {
      return fail(c, err, 'api restock');
    }
  });

  // Up to 1,000 count aggregations, of numbers that move by the day: one read serves every operator for a minute.
  const readDemand = sharedReads(() => o.ops.readDemand({ top: DEMAND_PAGE_TOP, nowMs: nowMs() }), Math.max(pollMs, DEMAND_SHARED_MS), nowMs);

  app.get('/demand', async (c) => {
    try {
      return c.html(demandPage(await readDemand('demand')));
    } catch (err) {
      return fail(c, err, 'demand');
    }
  });

  // Operators following the demand page's top product to its page share one read of it for a minute, as they share the demand page's.
  const readProduct = sharedReads((productId) => o.ops.readProductDemand(productId, nowMs()), Math.max(pollMs, DEMAND_SHARED_MS), nowMs);

  app.get('/products/:productId', async (c) => {
    try {
      return c.html(productPage(await readProduct(idField('productId', 'the product id', c.req.param('productId'), true)!)));
    } catch (err) {
      return fail(c, err, 'product');
    }
  });

  app.get('/shoppers', (c) => c.html(shopperPage({})));

  app.post('/shoppers', async (c) => {
    const form = await c.req.parseBody();
    const values = { userId: typeof form.userId === 'string' ? form.userId : '', productId: typeof form.productId === 'string' ? form.productId : '' };
    try {
      const userId = idField('userId', 'the user id', form.userId, true)!;
      const productId = idField('productId', 'the product id', form.productId, false);
      const report = await o.ops.readTrace({ userId, productId, limit: TRACE_LIMIT });
      return c.html(shopperPage({ values, report }));
    } catch (err) {
      if (err instanceof InvalidFieldError) return c.html(shopperPage({ values, error: { field: err.field, message: err.message } }), 400);
      return fail(c, err, 'shopper');
    }
  });

  app.notFound((c) => c.html(problemPage('Not found', 'the console has no such page'), 404));
  app.onError((err, c) => fail(c, err, 'unhandled'));
  return app;
}
