/**
 * The inventory service stand-in: the local stand-in for the inventory team's
 * service (as the sink stands in for the notification service), built on the
 * outbox kit exactly as docs/outbox.md tells an inventory team to build theirs.
 *
 * Routes:
 * - `PUT /v1/products/{productId}/stock` `{"available": n, "name"?: s, "url"?: s}`:
 *   one Firestore transaction writes `inventoryItems/{productId}` and stages
 *   `outbox/{eventId}`; after the commit the kit publishes at once, waiting at
 *   most RESTOCK_OUTBOX_PUBLISH_WAIT_MS. 200 with the stored item, the `eventId`
 *   and whether the publish made it within the bound.
 * - `GET /v1/products/{productId}/stock`: the stored item (404 when none).
 * - `POST /faults` `{"crashAfterCommit": true}` / `DELETE /faults`: the next
 *   stock update SIGKILLs this process between its commit and its publish
 *   (the crash promise 10 is about).
 * - `GET /healthz`.
 * Errors are RFC 9457 problem+json, like the subscription API.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Firestore } from '@google-cloud/firestore';
import { z } from 'zod';
import { ConfigError, onEmulators, type Config } from '../../lib/config.ts';
import {
  BodyTooLargeError,
  errorToProblemReply,
  HTTP_PROBLEMS,
  InvalidRequestError,
  jsonReply,
  MethodNotAllowedError,
  parseJsonObject,
  problemRow,
  requireBodyWithin,
  requireJsonContentType,
  RouteNotFoundError,
  writeReply,
  type HttpReply,
  type ProblemTable,
} from '../../lib/http/index.ts';
import { errorFields, log } from '../../lib/log.ts';
import type { MetricsRecorder } from '../../lib/metrics/index.ts';
import { FirestoreOutbox, OutboxRelay, OutboxValidationError, relayOptionsFrom, type Publisher, type StockChange } from '../../lib/outbox/index.ts';
import { runWithTrace, startTrace, traceFromRequest } from '../../lib/trace/index.ts';
import { runTransaction } from '../../lib/transaction.ts';
import { allProblems } from '../../lib/validation.ts';

const MAX_BODY_BYTES = 64 * 1024;
const STOCK_PATH = /^\/v1\/products\/([^/]+)\/stock$/;

const logger = log.child({ component: 'inventory' });

/** The stock update's body. Values are checked again, as an event, by the kit. */
const stockBody = z.strictObject({
  available: z.number(),
  name: z.string().optional(),
  url: z.string().optional(),
  /** The product's own wave settings (docs/waves.md), checked by the kit as part of the event. */
  waves: z.record(z.string(), z.unknown()).optional(),
});

/** An item the stand-in has never stored. */
class ItemNotFoundError extends Error {
  override readonly name = 'ItemNotFoundError';
  readonly field = 'productId';
  constructor(readonly productId: string) {
    super(`no inventory item ${JSON.stringify(productId)}`);
  }
}

/** Where a kit field sits in the request: the body's own names, or the path parameter. */
const POINTERS: Record<string, string> = {
  available: '#/available',
  'product.name': '#/name',
  'product.url': '#/url',
  waves: '#/waves',
  'waves.multiplier': '#/waves/multiplier',
  'waves.intervalMs': '#/waves/intervalMs',
  'waves.minAvailableToNotify': '#/waves/minAvailableToNotify',
};

const PROBLEMS: ProblemTable = [
  ...HTTP_PROBLEMS,
  problemRow(OutboxValidationError, {
    status: 400,
    type: 'invalid-request',
    title: 'Request has invalid fields',
    errors: (e) => [POINTERS[e.field] ? { pointer: POINTERS[e.field]!, detail: e.problem } : { parameter: e.field, detail: e.problem }],
  }),
  problemRow(ItemNotFoundError, { status: 404, type: 'not-found', title: 'No such resource' }),
];

/**
 * The stand-in takes stock updates from anyone and publishes them as
 * restocks: fine on a laptop, a forge of restocks anywhere else. So it runs
 * only on the emulators (issue 31, item 13).
 * @throws ConfigError naming FIRESTORE_EMULATOR_HOST or PUBSUB_EMULATOR_HOST when either is unset.
 */
export function refuseOutsideEmulators(config: Pick<Config, 'firestoreEmulatorHost'>, env: NodeJS.ProcessEnv = process.env): void {
  const why = 'the inventory stand-in runs only on the emulators: it takes unauthenticated stock updates and publishes them as restocks';
  if (!onEmulators(config)) throw new ConfigError('FIRESTORE_EMULATOR_HOST', `is unset: ${why}`);
  if (!env.PUBSUB_EMULATOR_HOST) throw new ConfigError('PUBSUB_EMULATOR_HOST', `is unset: ${why}`);
}

export interface InventoryOptions {
  host?: string;
  port?: number;
  db: Firestore;
  publisher: Publisher;
  config: Config;
  /** Records the fast path's commit-to-publish lag (lib/metrics); absent records nothing. */
  metrics?: MetricsRecorder;
}

export interface InventoryServer {
  url: string;
  port: number;
  outbox: FirestoreOutbox;
  relay: OutboxRelay;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    // Read to the end (so the answer reaches the client), keep at most the limit.
    req.on('end', () => (size > MAX_BODY_BYTES ? reject(new BodyTooLargeError(size, MAX_BODY_BYTES)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

/** Starts the stand-in; resolves once it listens. */
export async function startInventory(o: InventoryOptions): Promise<InventoryServer> {
  refuseOutsideEmulators(o.config);
  const outbox = new FirestoreOutbox(o.db, { outboxCollection: o.config.outboxCollection });
  const relay = new OutboxRelay(outbox, o.publisher, { ...relayOptionsFrom(o.config, logger), ...(o.metrics ? { metrics: o.metrics } : {}) });
  let crashAfterCommit = false;

  async function putStock(productId: string, req: IncomingMessage): Promise<HttpReply> {
    requireJsonContentType(req);
    requireBodyWithin({ headers: req.headers }, MAX_BODY_BYTES);
    const raw = await readBody(req);
    const input = parseJsonObject(raw);
    const parsed = stockBody.safeParse(input);
    if (!parsed.success) {
      throw new InvalidRequestError(allProblems(parsed.error, input).map((p) => ({ pointer: `#/${p.path.map(String).join('/')}`, detail: p.problem })));
    }
    const { available, name, url, waves } = parsed.data;
    const product = name !== undefined || url !== undefined ? { ...(name !== undefined ? { name } : {}), ...(url !== undefined ? { url } : {}) } : undefined;
    const staged = await runTransaction(o.db, (tx) => outbox.stageStockChange(tx, { productId, available, ...(product ? { product } : {}), ...(waves ? { waves: waves as StockChange['waves'] } : {}) }));
    const flowLog = logger.child({ eventKey: staged.eventId, productId });
    if (crashAfterCommit) {
      flowLog.warn('fault: crashing between commit and publish');
      process.kill(process.pid, 'SIGKILL');
    }
    const fast = await relay.publishNow([staged.eventId], o.config.outboxPublishWaitMs);
    flowLog.info('stock updated', { available, sequence: staged.event.sequence, publishedAtOnce: fast.published, publishWaitMs: fast.waitedMs });
    return jsonReply(200, { ...staged.item, eventId: staged.eventId, published: fast.published });
  }

  async function route(req: IncomingMessage): Promise<HttpReply> {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    if (path === '/healthz') return jsonReply(200, { ok: true });
    if (path === '/faults') {
      if (method === 'DELETE') {
        crashAfterCommit = false;
        return jsonReply(200, { crashAfterCommit });
      }
      if (method !== 'POST') throw new MethodNotAllowedError(method, ['POST', 'DELETE']);
      const body = parseJsonObject(await readBody(req));
      crashAfterCommit = body.crashAfterCommit === true;
      return jsonReply(200, { crashAfterCommit });
    }
    const match = STOCK_PATH.exec(path);
    if (!match) throw new RouteNotFoundError(path);
    let productId: string;
    try {
      productId = decodeURIComponent(match[1]!);
    } catch {
      throw new InvalidRequestError([{ parameter: 'productId', detail: 'is not valid percent-encoding' }]);
    }
    if (method === 'PUT') return putStock(productId, req);
    if (method === 'GET') {
      const item = await outbox.item(productId).catch((err: unknown) => {
        throw err instanceof Error && /path|document/i.test(err.message) ? new InvalidRequestError([{ parameter: 'productId', detail: 'must be usable as a Firestore document id' }]) : err;
      });
      if (!item) throw new ItemNotFoundError(productId);
      return jsonReply(200, item);
    }
    throw new MethodNotAllowedError(method, ['GET', 'PUT']);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // A stock change starts the restock's trace (or continues its caller's): the outbox row keeps it (lib/trace).
    runWithTrace(traceFromRequest(req.headers) ?? startTrace(), () => route(req)).then(
      (reply) => writeReply(res, reply),
      (err: unknown) => {
        const reply = errorToProblemReply(err, PROBLEMS);
        if (reply.status >= 500) logger.error('inventory request failed', { path: req.url, err: errorFields(err) });
        req.resume();
        if (!res.headersSent) writeReply(res, reply);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? '127.0.0.1'}:${port}`,
    port,
    outbox,
    relay,
    stop: async () => {
      await relay.drain();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
