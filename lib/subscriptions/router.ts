/**
 * The HTTP API of subscriptions, as a function from request to answer:
 *
 * | method | path | answer |
 * | --- | --- | --- |
 * | PUT | `/v1/products/{productId}/subscriptions/{userId}` | 201 created / 200 updated or unchanged / 202 pending its double opt-in confirmation |
 * | GET | `/v1/products/{productId}/subscriptions/{userId}` | 200 the subscription / 404 |
 * | DELETE | `/v1/products/{productId}/subscriptions/{userId}` | 204, whether or not it existed |
 * | GET | `/v1/users/{userId}/subscriptions?pageSize=&pageToken=` | 200 `{ subscriptions, nextPageToken }` |
 * | GET | `/v1/products/{productId}/subscriptions?count=true` | 200 `{ productId, count }` |
 * | GET | `/v1/shoppers/{userId}` | 200 everything held about the shopper (lib/shoppers export) |
 * | DELETE | `/v1/shoppers/{userId}` | 200 the erasure's receipt (lib/shoppers erase), again harmlessly |
 * | POST | `/v1/conversions` | 201 the order recorded with its attribution / 200 the same order reported before / 409 reported before with other facts |
 * | GET | `/v1/openapi.json` | 200 the OpenAPI 3.1 document (`openapi.ts`), 304 on a matching `If-None-Match` |
 *
 * Every error is an RFC 9457 problem (see `problems.ts`). The handler never
 * rejects: an unexpected failure is logged and answered as a bare 500.
 */
import {
  InvalidRequestError,
  MethodNotAllowedError,
  RouteNotFoundError,
  errorToProblemReply,
  findProblemSpec,
  emptyReply,
  jsonReply,
  parseJsonObject,
  requireBodyWithin,
  requireJsonContentType,
  type HttpReply,
  type HttpRequestLike,
} from '../http/index.ts';
import { log as rootLog, recipientRef, type Logger } from '../log.ts';
import type { MetricsRecorder } from '../metrics/index.ts';
import type { StorefrontTenant } from '../config.ts';
import { identifyCaller, requireScope, type Caller, type CallerPolicy } from './caller.ts';
import { openApiHandler } from './openapi-route.ts';
import { decodePageToken } from './page-token.ts';
import { SUBSCRIPTION_PROBLEMS } from './problems.ts';
import { getSubscription, listSubscriptionsOfUser, putSubscription } from './service.ts';
import { consentRecordOf } from './consent.ts';
import { SubscriptionNotFoundError } from './errors.ts';
import { isLive, type PendingStore } from './pending-store.ts';
import { putPending, type ConfirmationSender } from './pending.ts';
import type { Channel } from '../model.ts';
import type { ShopperData } from '../shoppers/index.ts';
import type { ConversionRequest, RecordedConversion } from '../conversions/index.ts';
import type { SubscriptionStore } from './store.ts';
import {
  onlyKnownParams,
  parseConversionRequest,
  parsePageSize,
  parseSubscriptionRequest,
  requireValidIds,
  type QueryParams,
} from './validation.ts';
import { toConversionView, toPendingView, toView } from './view.ts';

/** The settings the API reads (a subset of `Config`). */
export interface SubscriptionApiSettings {
  restockThreshold: number;
  maxSubscriptionsPerUser: number;
  maxBodyBytes: number;
  /** Who may act for whom (`RESTOCK_STOREFRONT_TENANTS`); unset (the emulators only): every caller for every shopper. */
  storefrontTenants?: readonly StorefrontTenant[] | undefined;
  /** How callers' tokens are verified (lib/auth `apiCallerPolicy`); unset, no token names anyone. */
  callerPolicy?: CallerPolicy | undefined;
  /** Channels whose addresses need double opt-in (RESTOCK_DOUBLE_OPT_IN); empty or unset: none. */
  doubleOptIn?: readonly Channel[] | undefined;
  /** How long a pending subscription waits for its confirmation (RESTOCK_CONFIRMATION_TTL_HOURS). */
  confirmationTtlHours?: number | undefined;
}

export interface SubscriptionApiDeps {
  store: SubscriptionStore;
  settings: SubscriptionApiSettings;
  /** Pending subscriptions and the sender of their confirmations: both required when `settings.doubleOptIn` names a channel. */
  pending?: PendingStore;
  confirmations?: ConfirmationSender;
  /** Export and erasure of a shopper's data (`/v1/shoppers/{userId}`); unset: those routes answer 404. */
  shoppers?: ShopperData;
  /** Orders the storefront reports (`POST /v1/conversions`, lib/conversions); unset: that route answers 404. */
  conversions?: { record(request: ConversionRequest, nowMs: number): Promise<RecordedConversion> };
  /** Counts each order recorded (`restock.conversions`, `restock.revenue`); unset, nothing is counted. */
  metrics?: Pick<MetricsRecorder, 'orderRecorded'>;
  /** Clock, replaceable in tests. */
  nowMs?: () => number;
  logger?: Logger;
}

/** A request handler that always resolves to an answer. */
export type SubscriptionApi = (req: HttpRequestLike) => Promise<HttpReply>;

type Params = Record<string, string>;

interface RouteContext {
  req: HttpRequestLike;
  params: Params;
  query: QueryParams;
  caller: Caller;
}

type Handler = (ctx: RouteContext) => Promise<HttpReply>;

interface Route {
  name: string;
  /** Literal segments, or `:name` for a parameter. */
  segments: readonly string[];
  methods: Readonly<Record<string, Handler>>;
}

function splitUrl(url: string): { segments: string[]; query: QueryParams } {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = new Map<string, string[]>();
  if (q !== -1) {
    for (const [name, value] of new URLSearchParams(url.slice(q + 1))) query.set(name, [...(query.get(name) ?? []), value]);
  }
  return { segments: path.split('/').slice(1), query };
}

function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (cause) {
    throw new InvalidRequestError([{ parameter: name, detail: 'is not valid percent-encoded UTF-8' }], { cause });
  }
}

function match(route: Route, segments: readonly string[]): Params | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: Params = {};
  for (const [i, pattern] of route.segments.entries()) {
    const segment = segments[i] ?? '';
    if (pattern.startsWith(':')) params[pattern.slice(1)] = segment;
    else if (pattern !== segment) return undefined;
  }
  return params;
}

/** Builds the API over `deps.store`. */
export function createSubscriptionApi(deps: SubscriptionApiDeps): SubscriptionApi {
  const { store, settings } = deps;
  const nowMs = deps.nowMs ?? Date.now;
  const logger = (deps.logger ?? rootLog).child({ component: 'subscriptions-api' });

  const tenants = settings.storefrontTenants;
  const doubleOptIn = settings.doubleOptIn ?? [];
  if (doubleOptIn.length > 0 && (!deps.pending || !deps.confirmations)) {
    throw new RangeError(`double opt-in on ${doubleOptIn.join(', ')} needs a pending store and a confirmation sender`);
  }
  const confirmationTtlMs = (settings.confirmationTtlHours ?? 72) * 3_600_000;

  const putOne: Handler = async ({ req, params, query, caller }) => {
    requireScope(caller, tenants, params.userId);
    onlyKnownParams(query, []);
    requireJsonContentType(req);
    requireBodyWithin(req, settings.maxBodyBytes);
    const request = parseSubscriptionRequest(parseJsonObject(req.rawBody));
    const productId = params.productId ?? '';
    const userId = params.userId ?? '';
    const now = nowMs();
    if (doubleOptIn.length > 0) {
      const pending = await putPending(store, deps.pending!, deps.confirmations!, productId, userId, request, {
        restockThreshold: settings.restockThreshold,
        maxSubscriptionsPerUser: settings.maxSubscriptionsPerUser,
        doubleOptIn,
        confirmationTtlMs,
        storefront: caller.label,
        nowMs: now,
      });
      if (pending) {
        logger.info(`subscription ${pending.outcome}`, { productId, user: recipientRef(userId), outcome: pending.outcome, caller: caller.label });
        return jsonReply(202, toPendingView(pending.pending));
      }
    }
    const { outcome, subscription } = await putSubscription(store, productId, userId, request, {
      restockThreshold: settings.restockThreshold,
      maxSubscriptionsPerUser: settings.maxSubscriptionsPerUser,
      nowMs: now,
      consent: (existing) => consentRecordOf(request, existing, doubleOptIn, { nowMs: now, storefront: caller.label }),
    });
    logger.info(`subscription ${outcome}`, { productId, user: recipientRef(userId), outcome, caller: caller.label });
    if (outcome === 'created') {
      const location = `/v1/products/${encodeURIComponent(productId)}/subscriptions/${encodeURIComponent(userId)}`;
      return jsonReply(201, toView(subscription), { location });
    }
    return jsonReply(200, toView(subscription));
  };

  const getOne: Handler = async ({ params, query, caller }) => {
    requireScope(caller, tenants, params.userId);
    onlyKnownParams(query, []);
    const productId = params.productId ?? '';
    const userId = params.userId ?? '';
    try {
      return jsonReply(200, toView(await getSubscription(store, productId, userId)));
    } catch (err) {
      // Waiting for its confirmation: shown as pending, so a storefront can say "check your inbox".
      const waiting = err instanceof SubscriptionNotFoundError && deps.pending ? await deps.pending.readPending(productId, userId) : undefined;
      if (waiting && isLive(waiting.doc, nowMs())) return jsonReply(200, toPendingView(waiting.doc));
      throw err;
    }
  };

  const deleteOne: Handler = async ({ params, query, caller }) => {
    requireScope(caller, tenants, params.userId);
    onlyKnownParams(query, []);
    const productId = params.productId ?? '';
    const userId = params.userId ?? '';
    await store.deleteSubscription(productId, userId);
    // A request still waiting for its confirmation is withdrawn too: its link then confirms nothing.
    const waiting = deps.pending ? await deps.pending.readPending(productId, userId) : undefined;
    if (waiting) await deps.pending!.deletePending(productId, userId, waiting.version);
    logger.info('subscription deleted', { productId, user: recipientRef(userId), caller: caller.label });
    return emptyReply(204);
  };

  const listOfUser: Handler = async ({ params, query, caller }) => {
    requireScope(caller, tenants, params.userId);
    const { pageSize, pageToken } = onlyKnownParams(query, ['pageSize', 'pageToken']);
    const userId = params.userId ?? '';
    const after = pageToken === undefined || pageToken === '' ? undefined : decodePageToken(pageToken, userId);
    const page = await listSubscriptionsOfUser(store, userId, parsePageSize(pageSize), after);
    return jsonReply(200, { subscriptions: page.subscriptions.map(toView), nextPageToken: page.nextPageToken });
  };

  const countOfProduct: Handler = async ({ params, query, caller }) => {
    requireScope(caller, tenants);
    const { count } = onlyKnownParams(query, ['count']);
    if (count !== 'true') {
      // Listing a product's waiting shoppers is for fan-out, not for clients.
      throw new InvalidRequestError([
        { parameter: 'count', detail: 'must be true: this route only counts the subscriptions of a product' },
      ]);
    }
    const productId = params.productId ?? '';
    return jsonReply(200, { productId, count: await store.countSubscriptionsOfProduct(productId) });
  };

  const exportShopper: Handler = async ({ params, query, caller }) => {
    requireScope(caller, tenants, params.userId);
    onlyKnownParams(query, []);
    if (!deps.shoppers) throw new RouteNotFoundError(`/v1/shoppers/${params.userId}`);
    const userId = params.userId ?? '';
    const data = await deps.shoppers.export(userId, nowMs());
    logger.info('shopper exported', { user: recipientRef(userId), caller: caller.label });
    return jsonReply(200, data);
  };

  const eraseShopper: Handler = async ({ params, query, caller }) => {
    requireScope(caller, tenants, params.userId);
    onlyKnownParams(query, []);
    if (!deps.shoppers) throw new RouteNotFoundError(`/v1/shoppers/${params.userId}`);
    const userId = params.userId ?? '';
    const receipt = await deps.shoppers.erase(userId, nowMs());
    logger.info('shopper erased', { user: recipientRef(userId), caller: caller.label, ...receipt.counts });
    return jsonReply(200, receipt);
  };

  const reportConversion: Handler = async ({ req, query, caller }) => {
    onlyKnownParams(query, []);
    if (!deps.conversions) throw new RouteNotFoundError('/v1/conversions');
    requireJsonContentType(req);
    requireBodyWithin(req, settings.maxBodyBytes);
    const now = nowMs();
    const request = parseConversionRequest(parseJsonObject(req.rawBody), now);
    // The storefront acts only for its own shoppers, as on every other route.
    requireScope(caller, tenants, request.userId);
    const { outcome, conversion } = await deps.conversions.record(request, now);
    logger.info(`conversion ${outcome}`, { productId: request.productId, user: recipientRef(request.userId), attribution: conversion.attribution, caller: caller.label });
    // The same order reported again (a storefront's retry) is one order.
    if (outcome === 'created') {
      deps.metrics?.orderRecorded({ attribution: conversion.attribution, channel: conversion.channel, currency: conversion.currency, valueMinor: conversion.valueMinor });
    }
    return jsonReply(outcome === 'created' ? 201 : 200, toConversionView(conversion));
  };

  const routes: readonly Route[] = [
    {
      name: 'subscription',
      segments: ['v1', 'products', ':productId', 'subscriptions', ':userId'],
      methods: { PUT: putOne, GET: getOne, DELETE: deleteOne },
    },
    { name: 'product-subscriptions', segments: ['v1', 'products', ':productId', 'subscriptions'], methods: { GET: countOfProduct } },
    { name: 'user-subscriptions', segments: ['v1', 'users', ':userId', 'subscriptions'], methods: { GET: listOfUser } },
    { name: 'shopper', segments: ['v1', 'shoppers', ':userId'], methods: { GET: exportShopper, DELETE: eraseShopper } },
    { name: 'conversions', segments: ['v1', 'conversions'], methods: { POST: reportConversion } },
    { name: 'openapi', segments: ['v1', 'openapi.json'], methods: { GET: openApiHandler } },
  ];

  async function dispatch(req: HttpRequestLike, caller: Caller): Promise<HttpReply> {
    const { segments, query } = splitUrl(req.url);
    for (const route of routes) {
      const raw = match(route, segments);
      if (!raw) continue;
      const method = req.method.toUpperCase() === 'HEAD' ? 'GET' : req.method.toUpperCase();
      const handler = route.methods[method];
      if (!handler) {
        const allowed = Object.keys(route.methods);
        throw new MethodNotAllowedError(req.method, allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed);
      }
      const params: Params = {};
      for (const [name, value] of Object.entries(raw)) params[name] = decodeParam(name, value);
      requireValidIds(params);
      return handler({ req, params, query, caller });
    }
    throw new RouteNotFoundError(req.url.split('?')[0] ?? '');
  }

  return async (req) => {
    let caller: Caller = { label: 'anonymous' };
    try {
      caller = await identifyCaller(req, settings.callerPolicy);
      return await dispatch(req, caller);
    } catch (err) {
      const reply = errorToProblemReply(err, SUBSCRIPTION_PROBLEMS);
      if (!findProblemSpec(err, SUBSCRIPTION_PROBLEMS) || reply.status >= 500) {
        logger.error('subscription request failed', { method: req.method, status: reply.status, caller: caller.label, err });
      } else {
        logger.info('subscription request refused', {
          method: req.method,
          status: reply.status,
          caller: caller.label,
          problem: (err as Error).name,
          field: (err as { field?: unknown }).field,
        });
      }
      return reply;
    }
  };
}
