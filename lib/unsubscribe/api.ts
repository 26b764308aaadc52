/**
 * One-click unsubscribe (RFC 8058), a route of the public
 * `restockUnsubscribe` function (the other is double opt-in's `/v1/confirm/{token}`, served below):
 *
 * | method | path | answer |
 * | --- | --- | --- |
 * | POST | `/v1/unsubscribe/{token}` with `List-Unsubscribe=One-Click` | 200, a small page; an unsubscribe request is published (RESTOCK_SHOPPER_ACTIONS_TOPIC) and `applyShopperActions` removes the subscription within seconds |
 * | GET, HEAD | `/v1/unsubscribe/{token}` | 200, a page with a button that POSTs; never unsubscribes |
 * | GET, HEAD | `/v1/c/{token}` (with `clicks` set) | 302 to the product URL the tracked link was issued for, plus UTM; a shopper's GET publishes a `click` action, a prefetch nothing (lib/clicks); 400 a page when the token does not open |
 *
 * The token is the only credential (see `token.ts`): it is opened before
 * the body is looked at, and the function holds no database access; it only
 * publishes what the shopper asked for (lib/shopper-actions). GET never changes
 * anything because mail scanners and link previewers fetch every link of a
 * message; RFC 8058 has mailbox providers POST instead. No answer redirects
 * but a tracked link's, and only to the URL its sealed token names.
 * A forged, altered or malformed token, a POST without the one-click body and
 * any other path or method are answered as problem+json.
 */
import {
  HTTP_PROBLEMS,
  InvalidRequestError,
  MethodNotAllowedError,
  RouteNotFoundError,
  UnsupportedMediaTypeError,
  errorToProblemReply,
  findProblemSpec,
  headerValue,
  problemRow,
  requireBodyWithin,
  type HttpReply,
  type HttpRequestLike,
  type ProblemTable,
} from '../http/index.ts';
import { log as rootLog, recipientRef, type Logger } from '../log.ts';
import { ShopperActionPublishError, type ShopperActionPublisher } from '../shopper-actions/index.ts';
import { followKind, landingUrl } from '../clicks/index.ts';
import {
  ExpiredClickTokenError,
  ExpiredConfirmTokenError,
  ExpiredUnsubscribeTokenError,
  InvalidClickTokenError,
  InvalidConfirmTokenError,
  InvalidUnsubscribeTokenError,
  openClickToken,
  openLinkToken,
  type LinkPurpose,
} from './token.ts';

/**
 * Largest body of a one-click POST: RFC 8058's form is `List-Unsubscribe=One-Click`
 * (a multipart one a few hundred bytes). The function refuses more before reading it.
 */
export const UNSUBSCRIBE_MAX_BODY_BYTES = 4096;

export interface UnsubscribeApiDeps {
  /** Where the unsubscribe request goes (RESTOCK_SHOPPER_ACTIONS_TOPIC). */
  publisher: ShopperActionPublisher;
  /** Keys that open tokens (RESTOCK_UNSUBSCRIBE_SECRET). */
  keys: readonly string[];
  /** How old a token may be (RESTOCK_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS). */
  tokenMaxAgeMs: number;
  /**
   * How old a confirmation link (double opt-in) may be: RESTOCK_CONFIRMATION_TTL_HOURS,
   * the life of the pending subscription it confirms. Unset: `/v1/confirm/` is not served.
   */
  confirmTokenMaxAgeMs?: number;
  /**
   * Tracked product links (`/v1/c/{token}`, lib/clicks): how old a link may be
   * (RESTOCK_CLICK_TOKEN_MAX_AGE_DAYS), the prefetch window
   * (RESTOCK_CLICK_PREFETCH_SECONDS) and the `utm_source` added to the
   * landing URL (RESTOCK_CLICK_UTM_SOURCE; unset adds no UTM parameters).
   * Unset: `/v1/c/` is not served.
   */
  clicks?: { tokenMaxAgeMs: number; prefetchSeconds: number; utmSource?: string | undefined };
  maxBodyBytes: number;
  nowMs?: () => number;
  logger?: Logger;
}

/** A request handler that always resolves to an answer. */
export type UnsubscribeApi = (req: HttpRequestLike) => Promise<HttpReply>;

/** A link's field error, as every token problem answers it. */
const tokenErrors = (e: { field: string; message: string }) => [{ parameter: e.field, detail: e.message }];

const UNSUBSCRIBE_PROBLEMS: ProblemTable = [
  // Expired before invalid: each expired error is an invalid one of its purpose.
  problemRow(ExpiredConfirmTokenError, { status: 400, type: 'expired-confirmation-token', title: 'Confirmation link has expired', errors: tokenErrors }),
  problemRow(InvalidConfirmTokenError, { status: 400, type: 'invalid-confirmation-token', title: 'Confirmation link is not valid', errors: tokenErrors }),
  problemRow(ExpiredUnsubscribeTokenError, { status: 400, type: 'expired-unsubscribe-token', title: 'Unsubscribe link has expired', errors: tokenErrors }),
  problemRow(InvalidUnsubscribeTokenError, { status: 400, type: 'invalid-unsubscribe-token', title: 'Unsubscribe link is not valid', errors: tokenErrors }),
  problemRow(ShopperActionPublishError, {
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    headers: () => ({ 'retry-after': '1' }),
  }),
  ...HTTP_PROBLEMS,
];

const ONE_CLICK_FIELD = 'List-Unsubscribe';
const ONE_CLICK_VALUE = 'One-Click';

/** Pages are static: no script, no external resource, no framing, no referrer. */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

function page(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<meta name="robots" content="noindex"><title>${title}</title></head>`,
    `<body style="font-family:sans-serif;max-width:32em;margin:3em auto">${body}</body></html>`,
  ].join('\n');
}

const CONFIRM_PAGE = page(
  'Stop this restock notification?',
  [
    '<h1>Stop this restock notification?</h1>',
    '<p>You will no longer be told when this product is back in stock.</p>',
    // action="" posts to this same URL; the hidden field is what RFC 8058 clients send.
    `<form method="post" action=""><input type="hidden" name="${ONE_CLICK_FIELD}" value="${ONE_CLICK_VALUE}">`,
    '<button type="submit">Unsubscribe</button></form>',
  ].join('\n'),
);

/** What a tracked link that does not open shows: never a redirect, so a forged link cannot send anyone elsewhere. */
function brokenLinkPage(err: InvalidClickTokenError): string {
  const expired = err instanceof ExpiredClickTokenError;
  const title = expired ? 'This link has expired' : 'This link is not valid';
  const why = expired
    ? 'Links in restock messages work for a limited time. The product may still be in the shop: look for it there.'
    : 'It may have been cut or changed when it was copied. Open the link from the message again, or look for the product in the shop.';
  return page(title, `<h1>${title}</h1><p>${why}</p>`);
}

const DONE_PAGE = page('Unsubscribed', '<h1>Unsubscribed</h1><p>You will not be notified about this product.</p>');

/** The form field the confirmation page POSTs: a mail scanner that only GETs never confirms. */
const CONFIRM_FIELD = 'confirm';
const CONFIRM_VALUE = 'yes';

const CONFIRM_SUBSCRIPTION_PAGE = page(
  'Confirm your restock notification',
  [
    '<h1>Tell you when it is back?</h1>',
    '<p>Someone asked to notify this address when a sold-out product is back in stock. Confirm only if it was you.</p>',
    `<form method="post" action=""><input type="hidden" name="${CONFIRM_FIELD}" value="${CONFIRM_VALUE}">`,
    '<button type="submit">Confirm</button></form>',
    '<p>If it was not you, ignore the message: nothing will be sent, and the request is deleted when the link expires.</p>',
  ].join('\n'),
);

const CONFIRMED_PAGE = page('Confirmed', '<h1>Confirmed</h1><p>You will be told once when this product is back in stock.</p>');

/** Reads one field of an urlencoded or multipart body. */
async function formValue(req: HttpRequestLike, field: string): Promise<string | null> {
  const contentType = headerValue(req, 'content-type') ?? '';
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  const body = req.rawBody ?? new Uint8Array();
  if (mediaType === 'application/x-www-form-urlencoded') {
    return new URLSearchParams(Buffer.from(body).toString('utf8')).get(field);
  }
  if (mediaType === 'multipart/form-data') {
    try {
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
      const value = form.get(field);
      return typeof value === 'string' ? value : null;
    } catch (cause) {
      throw new InvalidRequestError([{ pointer: '#', detail: 'is not a readable multipart/form-data body' }], { cause });
    }
  }
  throw new UnsupportedMediaTypeError(contentType || undefined, 'application/x-www-form-urlencoded or multipart/form-data');
}

/**
 * A link the function serves, `/v1/{purpose}/{token}`: GET shows `page`,
 * whose button POSTs `field=value` (scanners and previewers GET every link of
 * a message, so GET never acts); POST publishes the purpose's shopper action,
 * which `applyShopperActions` applies to the subscription (or pending
 * request) the token names, if it is still that generation.
 */
interface LinkRoute {
  maxAgeMs: number;
  page: string;
  donePage: string;
  field: string;
  value: string;
  /** What a POST without `field=value` is told. */
  detail: string;
  logMessage: string;
}

/** Builds the handler. */
export function createUnsubscribeApi(deps: UnsubscribeApiDeps): UnsubscribeApi {
  const logger = (deps.logger ?? rootLog).child({ component: 'unsubscribe' });
  const nowMs = deps.nowMs ?? Date.now;
  const routes: Partial<Record<LinkPurpose, LinkRoute>> = {
    unsubscribe: {
      maxAgeMs: deps.tokenMaxAgeMs,
      page: CONFIRM_PAGE,
      donePage: DONE_PAGE,
      field: ONE_CLICK_FIELD,
      value: ONE_CLICK_VALUE,
      detail: `must be ${ONE_CLICK_VALUE} (RFC 8058)`,
      logMessage: 'unsubscribe requested by one-click link',
    },
    // Double opt-in: served only when a confirmation link's life is set.
    ...(deps.confirmTokenMaxAgeMs !== undefined
      ? {
          confirm: {
            maxAgeMs: deps.confirmTokenMaxAgeMs,
            page: CONFIRM_SUBSCRIPTION_PAGE,
            donePage: CONFIRMED_PAGE,
            field: CONFIRM_FIELD,
            value: CONFIRM_VALUE,
            detail: `must be ${CONFIRM_VALUE}`,
            logMessage: 'confirmation requested by link',
          },
        }
      : {}),
  };

  /**
   * A tracked link: 302 to the URL its token was issued for (plus UTM), on
   * GET and HEAD alike; a shopper's click publishes a `click` shopper action,
   * a prefetch nothing. A click that cannot be published is logged and still
   * redirected: a shopper is never kept from the product for the funnel's sake.
   */
  async function follow(req: HttpRequestLike, token: string): Promise<HttpReply> {
    const settings = deps.clicks!;
    const method = req.method.toUpperCase();
    if (!['GET', 'HEAD'].includes(method)) throw new MethodNotAllowedError(req.method, ['GET', 'HEAD']);
    const now = nowMs();
    let claims: ReturnType<typeof openClickToken>;
    try {
      claims = openClickToken(token, deps.keys, { nowMs: now, maxAgeMs: settings.tokenMaxAgeMs });
    } catch (err) {
      if (!(err instanceof InvalidClickTokenError)) throw err;
      logger.info('tracked link refused', { method: req.method, status: 400, problem: err.name });
      return { status: 400, headers: { ...PAGE_HEADERS }, ...(method === 'GET' ? { body: brokenLinkPage(err) } : {}) };
    }
    const location = landingUrl(claims, { source: settings.utmSource });
    const kind = followKind({ method, userAgent: headerValue(req, 'user-agent'), nowMs: now, issuedAtMs: claims.issuedAtMs }, settings);
    const fields = { kind, method, productId: claims.productId, channel: claims.channel, user: recipientRef(claims.userId) };
    if (kind === 'click') {
      try {
        const { url: _url, issuedAtMs: _issued, ...click } = claims;
        await deps.publisher.publish({ type: 'click', ...click, requestedAtMs: now });
      } catch (err) {
        logger.error('click not recorded', { ...fields, err });
      }
    }
    logger.info('tracked link followed', fields);
    return { status: 302, headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } };
  }

  async function dispatch(req: HttpRequestLike): Promise<HttpReply> {
    const path = req.url.split('?')[0] ?? '';
    const click = /^\/v1\/c\/([^/]+)$/.exec(path);
    if (click && deps.clicks) return follow(req, click[1]!);
    const match = /^\/v1\/(unsubscribe|confirm)\/([^/]+)$/.exec(path);
    const purpose = match?.[1] as LinkPurpose | undefined;
    const route = purpose && routes[purpose];
    if (!route) throw new RouteNotFoundError(path);
    const method = req.method.toUpperCase();
    if (!['GET', 'HEAD', 'POST'].includes(method)) throw new MethodNotAllowedError(req.method, ['GET', 'HEAD', 'POST']);
    // Opened before anything else (the body included), on every method: a forged link gets no page to click.
    // Tokens are plain base64url and dots, so the segment is used as received (nothing to decode).
    const target = openLinkToken(purpose!, match![2]!, deps.keys, { nowMs: nowMs(), maxAgeMs: route.maxAgeMs });
    if (method !== 'POST') return { status: 200, headers: { ...PAGE_HEADERS }, ...(method === 'GET' ? { body: route.page } : {}) };

    requireBodyWithin(req, deps.maxBodyBytes);
    if ((await formValue(req, route.field)) !== route.value) throw new InvalidRequestError([{ parameter: route.field, detail: route.detail }]);
    await deps.publisher.publish({ type: purpose as 'unsubscribe' | 'confirm', productId: target.productId, userId: target.userId, generation: target.generation, requestedAtMs: nowMs() });
    logger.info(route.logMessage, { productId: target.productId, user: recipientRef(target.userId) });
    return { status: 200, headers: { ...PAGE_HEADERS }, body: route.donePage };
  }

  return async (req) => {
    try {
      return await dispatch(req);
    } catch (err) {
      const reply = errorToProblemReply(err, UNSUBSCRIBE_PROBLEMS);
      if (!findProblemSpec(err, UNSUBSCRIBE_PROBLEMS) || reply.status >= 500) {
        logger.error('unsubscribe request failed', { method: req.method, status: reply.status, err });
      } else {
        logger.info('unsubscribe request refused', { method: req.method, status: reply.status, problem: (err as Error).name });
      }
      return reply;
    }
  };
}
