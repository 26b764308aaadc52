/**
 * The notification sink: a local stand-in for the notification service that
 * implements the contract in `contract.ts`, records every request, honours
 * idempotency keys, and injects faults on demand.
 *
 * Routes:
 * - `POST [/base]/v1/notifications:send` the contract, under any base path.
 * - `GET /stats[?productId=P]`, `GET /notifications?productId=P` what arrived.
 * - `GET /confirmations[?productId=P]` the double opt-in confirmations that arrived (never in the stats).
 * - `GET /faults`, `POST /faults`, `DELETE /faults[?productId=P]` fault injection.
 * - `POST /reset[?productId=P]` forget records (and, without productId, faults).
 * - `GET /healthz`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { log } from '../../lib/log.ts';
import {
  rejectionByRule,
  SEND_PATH,
  sendRequestSchema,
  type ItemResult,
  type Problem,
  type SendResponse,
} from './contract.ts';
import { faultProfileSchema, FaultTable } from './faults.ts';
import { SinkStore } from './store.ts';

/** Largest request body accepted: 1000 items with generous addresses. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface SinkOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When set, send requests must carry `Authorization: Bearer <token>`. */
  token?: string;
}

/** A running sink. */
export interface SinkServer {
  host: string;
  port: number;
  /** Base URL, e.g. `http://127.0.0.1:8090`; the `http` notifier's RESTOCK_NOTIFIER_URL. */
  url: string;
  store: SinkStore;
  faults: FaultTable;
  /** Closes the server, dropping held-open (timeout fault) requests. */
  stop(): Promise<void>;
}

/** The request body could not be read or parsed. */
class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const logger = log.child({ component: 'sink' });

/** Starts a sink; resolves once it listens. */
export async function startSink(options: SinkOptions = {}): Promise<SinkServer> {
  const store = new SinkStore();
  const faults = new FaultTable();
  const held = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof BadRequestError) {
        problem(res, 400, 'Bad request', err.message, err.field);
        return;
      }
      logger.error('sink request failed', { err, path: req.url });
      if (!res.headersSent) problem(res, 500, 'Internal error', 'the sink failed; see its log');
    });
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sink');
    const productId = url.searchParams.get('productId') ?? undefined;
    // The contract's path under any base path (RESTOCK_NOTIFIER_URL `https://api.example.com/notify/`).
    const route = req.method === 'POST' && url.pathname.endsWith(SEND_PATH) ? `POST ${SEND_PATH}` : `${req.method} ${url.pathname}`;
    switch (route) {
      case `POST ${SEND_PATH}`:
        return send(req, res);
      case 'GET /stats':
        return json(res, 200, store.stats(productId));
      case 'GET /notifications':
        return json(res, 200, { notifications: store.notifications(productId) });
      case 'GET /confirmations':
        return json(res, 200, { confirmations: store.confirmations(productId) });
      case 'GET /faults':
        return json(res, 200, { faults: faults.list() });
      case 'POST /faults': {
        const profile = parse(faultProfileSchema, await readJson(req));
        faults.set(profile);
        logger.info('faults set', { faults: profile });
        return json(res, 200, { faults: faults.list() });
      }
      case 'DELETE /faults':
        faults.clear(productId);
        logger.info('faults cleared', { productId: productId ?? '*' });
        return json(res, 200, { faults: faults.list() });
      case 'POST /reset':
        store.reset(productId);
        faults.clear(productId);
        return json(res, 200, { reset: productId ?? '*' });
      case 'GET /healthz':
        return json(res, 200, { ok: true });
      default:
        return problem(res, 404, 'Not found', `no route ${route}`);
    }
  }

  async function send(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (options.token && req.headers.authorization !== `Bearer ${options.token}`) {
      return problem(res, 401, 'Unauthorized', 'expected Authorization: Bearer <token>', 'Authorization');
    }
    const body = parse(sendRequestSchema, await readJson(req));
    // The pipeline sends a confirmation alone (one per PUT), never inside a restock batch.
    if (body.notifications.every((item) => item.template === 'confirmation')) {
      const results: ItemResult[] = body.notifications.map((item) => {
        const ruled = rejectionByRule(item.channel, item.to);
        store.confirm(item, ruled, Date.now());
        return ruled ? { idempotencyKey: item.idempotencyKey, status: 'rejected', reason: ruled.reason } : { idempotencyKey: item.idempotencyKey, status: 'sent' };
      });
      return json(res, 200, { results } satisfies SendResponse);
    }
    const items = body.notifications.filter((item) => item.template === 'restock');
    if (items.length !== body.notifications.length) throw new BadRequestError('a request carries restock notifications or confirmations, not both', 'notifications');
    const records = store.receive(items, Date.now());
    // Request-level faults follow the first item's product: a chunk holds one product.
    const active = faults.for(items[0]!.data.productId);
    const profile = active?.profile;
    const chance = (rate: number | undefined): boolean => rate !== undefined && rate > 0 && active!.random() < rate;

    if (chance(profile?.timeoutRate)) {
      held.add(res);
      res.on('close', () => held.delete(res));
      logger.debug('holding request open (timeout fault)', { items: items.length });
      return;
    }
    if (chance(profile?.status429Rate)) {
      res.setHeader('Retry-After', String(profile?.retryAfterSeconds ?? 1));
      return problem(res, 429, 'Too many requests', 'simulated rate limit; nothing was sent');
    }
    if (chance(profile?.status503Rate)) {
      return problem(res, 503, 'Unavailable', 'simulated outage; nothing was sent');
    }
    const latencyMs = (profile?.latencyMs ?? 0) + (profile?.jitterMs ? Math.floor(active!.random() * profile.jitterMs) : 0);
    if (latencyMs > 0) await sleep(latencyMs);

    // Decided synchronously after the wait, so two concurrent requests with one key cannot both send it.
    const nowMs = Date.now();
    const results: ItemResult[] = items.map((item, i) => {
      const record = records[i]!;
      const key = item.idempotencyKey;
      if (record.status === 'sent') {
        store.resent(record);
        return { idempotencyKey: key, status: 'sent', duplicate: true };
      }
      const itemFaults = faults.for(item.data.productId);
      const itemChance = (rate: number | undefined): boolean =>
        rate !== undefined && rate > 0 && itemFaults!.random() < rate;
      const ruled = rejectionByRule(item.channel, item.to);
      if (ruled) {
        store.answer(record, 'rejected', nowMs, ruled.reason);
        return { idempotencyKey: key, status: 'rejected', reason: ruled.reason, ...(ruled.deadAddress ? { deadAddress: true } : {}) };
      }
      if (itemChance(itemFaults?.profile.rejectRate)) {
        store.answer(record, 'rejected', nowMs, 'simulated-rejection');
        return { idempotencyKey: key, status: 'rejected', reason: 'simulated-rejection' };
      }
      if (itemChance(itemFaults?.profile.retryRate)) {
        store.answer(record, 'retry', nowMs, 'simulated-failure');
        return { idempotencyKey: key, status: 'retry', reason: 'simulated-failure' };
      }
      store.answer(record, 'sent', nowMs);
      return { idempotencyKey: key, status: 'sent' };
    });
    logger.debug('send answered', { items: items.length, productId: items[0]!.data.productId });
    const response: SendResponse = { results };
    return json(res, 200, response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    host,
    port: address.port,
    url: `http://${host}:${address.port}`,
    store,
    faults,
    stop: async () => {
      for (const res of held) res.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError(`body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new BadRequestError('body is not valid JSON', undefined, { cause });
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') || undefined;
  throw new BadRequestError(`${field ?? 'body'}: ${issue?.message ?? 'invalid'}`, field, { cause: parsed.error });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function problem(res: ServerResponse, status: number, title: string, detail: string, field?: string): void {
  const body: Problem = { type: 'about:blank', title, status, detail, ...(field ? { field } : {}) };
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/problem+json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
