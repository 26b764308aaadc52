/**
 * The `fcm` sender: Firebase Cloud Messaging HTTP v1, one request per message
 * (`POST {endpoint}/v1/projects/{project}/messages:send`), a bounded number in
 * flight.
 *
 * Why not firebase-admin: its messaging client fixes the host
 * (`FCM_SEND_HOST = 'fcm.googleapis.com'`, https, in firebase-admin 13's
 * lib/messaging/messaging.js) and has no emulator switch, so neither the local
 * stack nor the tests could point it at a stand-in. `sendEach` is itself one
 * v1 request per message, so calling the REST API directly loses nothing.
 * Credentials come from google-auth-library (the function's service account).
 *
 * Outcomes: FCM's own error codes (the `FcmError` detail) UNREGISTERED and
 * SENDER_ID_MISMATCH, and an INVALID_ARGUMENT about the token, are `rejected`
 * with `deadAddress` (the token is removed from the shopper's other
 * subscriptions); another INVALID_ARGUMENT is `rejected` for this message
 * only; any other 404 (a proxy's page, a wrong project or endpoint) is
 * retried and logged, never taken for a dead token; QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, timeouts and
 * connection failures are retried in-call honouring Retry-After, then left to
 * Cloud Tasks as `retry`. Our own credentials failing (401/403) is `retry`:
 * it would fail every shopper alike, and they are not at fault.
 *
 * FCM has no idempotency key. Each message carries the dedup key as its
 * collapse key (Android `collapse_key`, APNs `apns-collapse-id`, Web Push
 * `Topic`), so a message sent again after a lost answer replaces the first on
 * the device instead of showing twice, and in `data.restockKey` for the app.
 */
import pLimit from 'p-limit';
import { parseRetryAfter } from './http.ts';
import { withProviderRetries } from './provider-retry.ts';
import { renderConfirmationPush } from './confirmation-messages.ts';
import { builtinTemplates, renderPush, type MessageTemplates, type RenderedPush } from './templates.ts';
import type { Logger } from '../log.ts';
import type { ConfirmationNotice, Confirmer, Notification, NotificationResult, Notifier } from './types.ts';

export interface FcmNotifierOptions {
  /** The Firebase project the tokens belong to. */
  projectId: string;
  /** Base URL of the v1 API: `https://fcm.googleapis.com`, or the local stand-in. */
  endpoint: string;
  /** A bearer token for the request, or undefined to send none (the local stand-in). */
  accessToken: () => Promise<string | undefined>;
  timeoutMs: number;
  /** In-call retries of one message on quota, unavailable, internal errors and timeouts. */
  retries: number;
  maxRetryAfterMs: number;
  /** Requests in flight per `send`. */
  concurrency: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
  /** Where answers that look like a misconfiguration (a 404 without FCM's error code) are reported. */
  log?: Logger;
  /** The templates loaded at start (`loadTemplates`); the built-in ones when absent. */
  templates?: MessageTemplates;
}

/** What an answer of the v1 API means for one message. */
export type FcmVerdict =
  | { outcome: 'sent' }
  | { outcome: 'rejected'; reason: string; deadToken: boolean }
  | { outcome: 'retry'; reason: string; retryAfterMs?: number };

interface FcmErrorBody {
  error?: {
    code?: number;
    status?: string;
    message?: string;
    details?: { '@type'?: string; errorCode?: string; fieldViolations?: { field?: string }[] }[];
  };
}

/** FCM error codes that mean the token will never work again. */
const DEAD_TOKEN_CODES = new Set(['UNREGISTERED', 'SENDER_ID_MISMATCH']);
/** FCM error codes worth trying again. */
const RETRY_CODES = new Set(['QUOTA_EXCEEDED', 'UNAVAILABLE', 'INTERNAL', 'THIRD_PARTY_AUTH_ERROR']);

/**
 * Classifies one v1 answer (pure). The FCM error code in `details` decides
 * when present; the HTTP status otherwise. Reasons name codes, never the token.
 */
export function classifyFcmAnswer(status: number, bodyText: string, retryAfter: string | null, nowMs: number): FcmVerdict {
  if (status >= 200 && status < 300) return { outcome: 'sent' };
  let body: FcmErrorBody = {};
  try {
    body = JSON.parse(bodyText) as FcmErrorBody;
  } catch {
    // Not JSON (a proxy's page): the status decides.
  }
  const details = body.error?.details ?? [];
  const fcmCode = details.find((d) => d['@type']?.endsWith('google.firebase.fcm.v1.FcmError'))?.errorCode;
  const code = fcmCode ?? body.error?.status;
  const reason = `fcm ${status}${code ? ` ${code}` : ''}`;
  const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
  const retry = (): FcmVerdict => ({ outcome: 'retry', reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

  // Only FCM's own verdict on the token kills it: a status string or a bare 404 may come from anywhere.
  if (fcmCode && DEAD_TOKEN_CODES.has(fcmCode)) return { outcome: 'rejected', reason, deadToken: true };
  if (code === 'INVALID_ARGUMENT') {
    const aboutToken = details.some((d) => d.fieldViolations?.some((v) => v.field === 'message.token')) || /registration token/i.test(body.error?.message ?? '');
    return { outcome: 'rejected', reason, deadToken: aboutToken };
  }
  if (code && RETRY_CODES.has(code)) return retry();
  if (status === 400) return { outcome: 'rejected', reason, deadToken: false };
  return retry();
}

/**
 * The v1 message to `token` (pure): the push as the device shows it, `data`
 * for the app, and the message's key as every platform's collapse key, so a
 * resend replaces the first instead of showing twice.
 */
function fcmEnvelope(token: string, key: string, push: RenderedPush, data: Record<string, string>): Record<string, unknown> {
  return {
    token,
    notification: { title: push.title, body: push.body },
    data,
    android: { collapse_key: key },
    apns: { headers: { 'apns-collapse-id': key } },
    // Web Push's Topic is at most 32 characters of the URL-safe base64 alphabet (RFC 8030 §5.4).
    webpush: { headers: { Topic: key.slice(0, 32) }, ...(push.link?.startsWith('https:') ? { fcm_options: { link: push.link } } : {}) },
  };
}

/** The v1 message for one notification (pure). */
export function fcmMessage(n: Notification, templates: MessageTemplates = builtinTemplates()): Record<string, unknown> {
  const push = renderPush(n, templates);
  return fcmEnvelope(n.to, n.idempotencyKey, push, { productId: n.data.productId, eventKey: n.data.eventKey, restockKey: n.idempotencyKey, ...(push.link ? { link: push.link } : {}) });
}

/**
 * The v1 message of a double opt-in confirmation (pure): `data.kind` tells
 * the app it from a restock (which carries `restockKey`), and the
 * confirmation link is its click target, the only thing it opens.
 */
export function fcmConfirmationMessage(c: ConfirmationNotice): Record<string, unknown> {
  const push = renderConfirmationPush(c);
  return fcmEnvelope(c.to, c.idempotencyKey, push, { kind: 'confirmation', productId: c.data.productId, confirmationKey: c.idempotencyKey, link: push.link });
}

/** One attempt's verdict worth retrying in-call. */
class RetryableFcmAnswer extends Error {
  override readonly name = 'RetryableFcmAnswer';
  constructor(readonly verdict: Extract<FcmVerdict, { outcome: 'retry' }>) {
    super(verdict.reason);
  }
}

export class FcmNotifier implements Notifier, Confirmer {
  private readonly url: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: FcmNotifierOptions) {
    this.url = new URL(`/v1/projects/${encodeURIComponent(options.projectId)}/messages:send`, options.endpoint).toString();
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    const limit = pLimit(this.options.concurrency);
    return Promise.all(batch.map((n) => limit(() => this.deliver(n.idempotencyKey, fcmMessage(n, this.options.templates)))));
  }

  /** A confirmation through the same request, retries and classification as a restock message. */
  confirm(c: ConfirmationNotice): Promise<NotificationResult> {
    return this.deliver(c.idempotencyKey, fcmConfirmationMessage(c));
  }

  private async deliver(idempotencyKey: string, message: Record<string, unknown>): Promise<NotificationResult> {
    const { retries, maxRetryAfterMs } = this.options;
    try {
      const verdict = await withProviderRetries(() => this.attempt(message), {
        retries,
        maxRetryAfterMs,
        retryAfterOf: (error) => (error instanceof RetryableFcmAnswer ? error.verdict.retryAfterMs : undefined),
      });
      if (verdict.outcome === 'sent') return { idempotencyKey, status: 'sent' };
      return { idempotencyKey, status: 'rejected', reason: verdict.reason, ...(verdict.deadToken ? { deadAddress: true as const } : {}) };
    } catch (err) {
      const reason = err instanceof RetryableFcmAnswer ? err.verdict.reason : `fcm request failed: ${err instanceof Error ? err.name : 'error'}`;
      return { idempotencyKey, status: 'retry', reason };
    }
  }

  /** One request. Resolves with a final verdict; throws what may be retried. */
  private async attempt(message: Record<string, unknown>): Promise<Exclude<FcmVerdict, { outcome: 'retry' }>> {
    const token = await this.options.accessToken();
    const response = await this.fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ message }),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const verdict = classifyFcmAnswer(response.status, await response.text(), response.headers.get('retry-after'), Date.now());
    if (verdict.outcome === 'retry') {
      // A 404 that is not FCM's UNREGISTERED points at our side (endpoint, project, a proxy): say so, without the token.
      if (response.status === 404) this.options.log?.warn('fcm answered 404 without an error code: retried, token kept', { reason: verdict.reason, fcmUrl: this.url });
      throw new RetryableFcmAnswer(verdict);
    }
    return verdict;
  }
}
