/**
 * The `webpush` sender: Web Push (RFC 8030) to the browser's push service,
 * the payload encrypted for the subscription (RFC 8291, `aes128gcm`) and the
 * request signed with the shop's VAPID key (RFC 8292).
 *
 * The maintained `web-push` library does the cryptography and the headers
 * (`generateRequestDetails`: the encrypted body, `Authorization: vapid t=…,
 * k=…`, `TTL`, `Urgency`, `Topic`); this sender carries the request itself
 * with fetch, because the library's own `sendNotification` always uses
 * `https.request` (web-push 3.6's web-push-lib.js), so it could neither
 * reach the local stand-in over http nor bound the call with an abort signal.
 *
 * Outcomes: 404 and 410 are the push service saying the subscription is gone
 * (expired, revoked, the browser's data cleared): `rejected` with
 * `deadAddress`, so it is removed from the shopper's other subscriptions too.
 * 429 and 5xx, timeouts and connection failures are retried in-call honouring
 * Retry-After, then left to Cloud Tasks as `retry`. 401/403 is our VAPID key
 * refused: it would fail every shopper alike, so `retry`, logged. Another 4xx
 * (400, 413: this message is malformed or too large) is `rejected` for this
 * message only.
 *
 * Push services take no idempotency key: the dedup key's first 32 characters
 * are the `Topic`, so a message sent again after a lost answer replaces the
 * first while the browser is offline, and the payload carries the whole key.
 */
import pLimit from 'p-limit';
import webpush from 'web-push';
import { parseWebPushAddress, type WebPushSubscription } from '../channels.ts';
import type { Logger } from '../log.ts';
import { unsubscribeUrl } from '../unsubscribe/index.ts';
import { parseRetryAfter } from './http.ts';
import { withProviderRetries } from './provider-retry.ts';
import { renderConfirmationPush } from './confirmation-messages.ts';
import { builtinTemplates, renderPush, type MessageTemplates } from './templates.ts';
import type { ConfirmationNotice, Confirmer, Notification, NotificationResult, Notifier } from './types.ts';

export type WebPushUrgency = 'very-low' | 'low' | 'normal' | 'high';

export interface WebPushNotifierOptions {
  vapid: { subject: string; publicKey: string; privateKey: string };
  /** Seconds the push service keeps the message for an offline browser. */
  ttlSeconds: number;
  urgency: WebPushUrgency;
  /** Base URL of the public unsubscribe function: every message carries its one-click link. */
  unsubscribeBaseUrl: string;
  /** Unsubscribe token keys; the first signs. */
  unsubscribeKeys: readonly string[];
  timeoutMs: number;
  /** In-call retries of one message on 429, 5xx and timeouts. */
  retries: number;
  maxRetryAfterMs: number;
  /** Requests in flight per `send`. */
  concurrency: number;
  /** Whether an `http:` endpoint may be called: only on the emulators (the local stand-in). */
  allowHttp: boolean;
  /** Injected for tests. */
  fetch?: typeof fetch;
  nowMs?: () => number;
  /** Where answers that point at our side (401/403) are reported. */
  log?: Logger;
  /** The templates loaded at start (`loadTemplates`); the built-in ones when absent. */
  templates?: MessageTemplates;
}

/** What a push service's answer means for one message. */
export type WebPushVerdict =
  | { outcome: 'sent' }
  | { outcome: 'rejected'; reason: string; deadAddress: boolean }
  | { outcome: 'retry'; reason: string; retryAfterMs?: number };

/** Classifies one push service answer by its status (pure). Reasons name the status, never the endpoint. */
export function classifyWebPushAnswer(status: number, retryAfter: string | null, nowMs: number): WebPushVerdict {
  if (status >= 200 && status < 300) return { outcome: 'sent' };
  const reason = `webpush ${status}`;
  if (status === 404 || status === 410) return { outcome: 'rejected', reason: `${reason} subscription gone`, deadAddress: true };
  if (status === 401 || status === 403) return { outcome: 'retry', reason: `${reason} VAPID credentials refused` };
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, nowMs);
    return { outcome: 'retry', reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }
  if (status >= 400 && status < 500) return { outcome: 'rejected', reason, deadAddress: false };
  // A redirect or an informational answer is no push service's: our endpoint path is wrong or a proxy intervened.
  return { outcome: 'retry', reason };
}

/** What the service worker receives (the decrypted payload): the message, its link, its one-click unsubscribe link and the dedup key. */
export interface WebPushPayload {
  title: string;
  body: string;
  lang: string;
  link?: string;
  unsubscribeUrl: string;
  productId: string;
  restockKey: string;
}

/** The payload of one notification (pure). */
export function webPushPayload(n: Notification, unsubscribeLink: string, templates: MessageTemplates = builtinTemplates()): WebPushPayload {
  const push = renderPush(n, templates, unsubscribeLink);
  return {
    title: push.title,
    body: push.body,
    lang: push.language,
    ...(push.link ? { link: push.link } : {}),
    unsubscribeUrl: unsubscribeLink,
    productId: n.data.productId,
    restockKey: n.idempotencyKey,
  };
}

/**
 * What the service worker receives for a double opt-in confirmation: `kind`
 * tells it from a restock (which has `restockKey` and `unsubscribeUrl`), and
 * `link`, the confirmation link, is what a click opens.
 */
export interface WebPushConfirmationPayload {
  kind: 'confirmation';
  title: string;
  body: string;
  lang: string;
  link: string;
  productId: string;
  confirmationKey: string;
}

/** The payload of one confirmation (pure). */
export function webPushConfirmationPayload(c: ConfirmationNotice): WebPushConfirmationPayload {
  const push = renderConfirmationPush(c);
  return { kind: 'confirmation', title: push.title, body: push.body, lang: push.language, link: push.link, productId: c.data.productId, confirmationKey: c.idempotencyKey };
}

/** One attempt's verdict worth retrying in-call. */
class RetryableWebPushAnswer extends Error {
  override readonly name = 'RetryableWebPushAnswer';
  constructor(readonly verdict: Extract<WebPushVerdict, { outcome: 'retry' }>) {
    super(verdict.reason);
  }
}

export class WebPushNotifier implements Notifier, Confirmer {
  private readonly fetch: typeof fetch;
  private readonly nowMs: () => number;

  constructor(private readonly options: WebPushNotifierOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.nowMs = options.nowMs ?? Date.now;
  }

  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    const limit = pLimit(this.options.concurrency);
    return Promise.all(batch.map((n) => limit(() => this.sendOne(n))));
  }

  /** A confirmation through the same endpoint checks, encryption, retries and classification as a restock message. */
  confirm(c: ConfirmationNotice): Promise<NotificationResult> {
    return this.deliver(c.idempotencyKey, c.to, () => JSON.stringify(webPushConfirmationPayload(c)));
  }

  private sendOne(n: Notification): Promise<NotificationResult> {
    if (n.userId === undefined || n.subscriptionCreatedAtMs === undefined) {
      return Promise.resolve({ idempotencyKey: n.idempotencyKey, status: 'retry', reason: 'webpush: notification without its subscription (no unsubscribe link can be made)' });
    }
    const { userId, subscriptionCreatedAtMs: generation } = n;
    return this.deliver(n.idempotencyKey, n.to, () => {
      const link = unsubscribeUrl(this.options.unsubscribeBaseUrl, { productId: n.data.productId, userId, generation, issuedAtMs: this.nowMs() }, this.options.unsubscribeKeys);
      return JSON.stringify(webPushPayload(n, link, this.options.templates));
    });
  }

  /** Checks the address, then sends `payloadOf()` to it; `idempotencyKey` names the result and its first 32 characters are the Topic. */
  private async deliver(idempotencyKey: string, address: string, payloadOf: () => string): Promise<NotificationResult> {
    const rejected = (reason: string): NotificationResult => ({ idempotencyKey, status: 'rejected', reason });
    let subscription: WebPushSubscription;
    let endpoint: URL;
    try {
      subscription = parseWebPushAddress(address);
      endpoint = new URL(subscription.endpoint);
    } catch {
      return rejected('webpush: the address is not a push subscription');
    }
    if (endpoint.protocol !== 'https:' && !(endpoint.protocol === 'http:' && this.options.allowHttp)) return rejected('webpush: the endpoint is not https');
    const payload = payloadOf();
    const { retries, maxRetryAfterMs } = this.options;
    try {
      const verdict = await withProviderRetries(() => this.attempt(idempotencyKey, subscription, payload), {
        retries,
        maxRetryAfterMs,
        retryAfterOf: (error) => (error instanceof RetryableWebPushAnswer ? error.verdict.retryAfterMs : undefined),
      });
      if (verdict.outcome === 'sent') return { idempotencyKey, status: 'sent' };
      return { idempotencyKey, status: 'rejected', reason: verdict.reason, ...(verdict.deadAddress ? { deadAddress: true as const } : {}) };
    } catch (err) {
      const reason = err instanceof RetryableWebPushAnswer ? err.verdict.reason : `webpush request failed: ${err instanceof Error ? err.name : 'error'}`;
      return { idempotencyKey, status: 'retry', reason };
    }
  }

  /** One request, encrypted afresh (a new salt and key pair each time, as RFC 8291 requires). Resolves with a final verdict; throws what may be retried. */
  private async attempt(idempotencyKey: string, subscription: WebPushSubscription, payload: string): Promise<Exclude<WebPushVerdict, { outcome: 'retry' }>> {
    const details = webpush.generateRequestDetails(subscription, payload, {
      vapidDetails: this.options.vapid,
      TTL: this.options.ttlSeconds,
      urgency: this.options.urgency,
      topic: idempotencyKey.slice(0, 32),
      contentEncoding: 'aes128gcm',
    });
    // fetch sets Content-Length from the body itself.
    const headers = Object.fromEntries(Object.entries(details.headers).filter(([k]) => k.toLowerCase() !== 'content-length').map(([k, v]) => [k, String(v)]));
    // Never followed: the endpoint is the shopper's to choose, and a redirect could lead the request past the https check
    // (to an http: or internal host). No push service redirects; a 3xx is classified as our side's problem.
    const response = await this.fetch(details.endpoint, {
      method: details.method,
      headers,
      body: new Uint8Array(details.body),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    await response.arrayBuffer();
    const verdict = classifyWebPushAnswer(response.status, response.headers.get('retry-after'), this.nowMs());
    if (verdict.outcome === 'retry') {
      if (response.status === 401 || response.status === 403) this.options.log?.warn('webpush: the push service refused our VAPID credentials: retried, subscription kept', { reason: verdict.reason, pushService: new URL(details.endpoint).origin });
      throw new RetryableWebPushAnswer(verdict);
    }
    return verdict;
  }
}
