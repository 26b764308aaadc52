/**
 * The `http` notifier: one POST per batch to the notification service's
 * `/v1/notifications:send` (contract in docs/notification-service.md). 429 with Retry-After,
 * 5xx, timeouts and connection failures are retried in-call a few times with
 * backoff (honouring Retry-After up to a bound); whatever is still unsettled
 * comes back as `retry`, for Cloud Tasks to retry the chunk later.
 *
 * The service's answer is trusted no further than the contract: a redirect is
 * refused (following one would re-post every address and push token to
 * another origin), the body is read up to {@link MAX_RESPONSE_BYTES}, and no
 * text of the service reaches the ledger — only its status, a fixed reason,
 * or a per-notification reason code of the contract's shape.
 */
import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';
import type { ConfirmationNotice, Confirmer, Notification, NotificationResult, Notifier } from './types.ts';

export interface HttpNotifierOptions {
  baseUrl: string;
  token?: string;
  timeoutMs: number;
  retries: number;
  maxRetryAfterMs: number;
  /** Injected for tests. */
  fetch?: typeof fetch;
}

const responseSchema = z.object({
  results: z.array(
    z.object({
      idempotencyKey: z.string(),
      status: z.enum(['sent', 'retry', 'rejected']),
      reason: z.string().optional(),
      deadAddress: z.boolean().optional(),
    }),
  ),
});

/** The service could not take the batch now; `retryAfterMs` when it said how long to wait. */
export class NotifierUnavailableError extends Error {
  override readonly name = 'NotifierUnavailableError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The service refused the batch as malformed (4xx other than 429): retrying
 * the same request is pointless. Its answer's text is not kept: it may echo
 * addresses, and it ends up in the ledger and the CLI.
 */
export class NotifierRejectedError extends Error {
  override readonly name = 'NotifierRejectedError';
  constructor(readonly status: number) {
    super(`notification service refused the batch with ${status}`);
  }
}

/** The service answered with a redirect, which is never followed (the batch holds every address and token). */
export class NotifierRedirectError extends Error {
  override readonly name = 'NotifierRedirectError';
  constructor(readonly status: number) {
    super(`notification service answered ${status} (a redirect); redirects are refused, check RESTOCK_NOTIFIER_URL`);
  }
}

/** Largest answer read from the service; a batch of 1,000 results is about 150 KB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** A per-notification reason of the contract's shape (a code such as `invalid_address`), kept; anything else is replaced. */
const REASON_CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The reason the ledger keeps for a result: the service's code when it is one, else a fixed text. */
function keptReason(status: 'sent' | 'retry' | 'rejected', reason: string | undefined): string | undefined {
  if (reason === undefined || status === 'sent') return undefined;
  if (REASON_CODE.test(reason)) return `notification service: ${reason}`;
  return status === 'rejected' ? 'rejected by the notification service' : 'the notification service asked to retry';
}

/** Reads at most `maxBytes` of a body. @throws NotifierUnavailableError when it is longer. */
async function boundedText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await response.body.cancel().catch(() => undefined);
      throw new NotifierUnavailableError(`notification service answered more than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses a Retry-After header (seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * The send endpoint under a base URL, its path kept: `https://api.example.com/notify`
 * and `.../notify/` both give `https://api.example.com/notify/v1/notifications:send`
 * (resolving an absolute path would drop `/notify`). Pure.
 */
export function sendUrl(baseUrl: string): string {
  const base = new URL(baseUrl);
  base.search = '';
  base.hash = '';
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  return new URL('v1/notifications:send', base).toString();
}

export class HttpNotifier implements Notifier, Confirmer {
  private readonly url: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly options: HttpNotifierOptions) {
    this.url = sendUrl(options.baseUrl);
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    return this.sendItems(batch);
  }

  /**
   * A confirmation as one item of the same endpoint, retries and answer
   * handling: `template: "confirmation"` tells the service it from a restock
   * (docs/notification-service.md).
   */
  async confirm(c: ConfirmationNotice): Promise<NotificationResult> {
    const [result] = await this.sendItems([c]);
    return result!;
  }

  private async sendItems(batch: readonly (Notification | ConfirmationNotice)[]): Promise<NotificationResult[]> {
    if (batch.length === 0) return [];
    try {
      const results = await pRetry(() => this.post(batch), {
        retries: this.options.retries,
        minTimeout: 200,
        maxTimeout: 2000,
        randomize: true,
        shouldRetry: ({ error }) => {
          if (!(error instanceof NotifierUnavailableError)) return true;
          return error.retryAfterMs === undefined || error.retryAfterMs <= this.options.maxRetryAfterMs;
        },
        onFailedAttempt: async ({ error, retriesLeft }) => {
          // p-retry's backoff is the floor; the service's Retry-After, when given, is the wait.
          const after = error instanceof NotifierUnavailableError ? error.retryAfterMs : undefined;
          if (retriesLeft > 0 && after !== undefined && after <= this.options.maxRetryAfterMs) {
            await new Promise((r) => setTimeout(r, after));
          }
        },
      });
      const byKey = new Map(results.map((r) => [r.idempotencyKey, r]));
      return batch.map(
        (n) => byKey.get(n.idempotencyKey) ?? { idempotencyKey: n.idempotencyKey, status: 'retry', reason: 'no result for this key in the response' },
      );
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      return batch.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'retry' as const, reason }));
    }
  }

  private async post(batch: readonly (Notification | ConfirmationNotice)[]): Promise<NotificationResult[]> {
    let response: Response;
    try {
      response = await this.fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
        },
        body: JSON.stringify({ notifications: batch }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as Error)?.name === 'TimeoutError';
      throw new NotifierUnavailableError(timedOut ? `no answer within ${this.options.timeoutMs} ms` : `request failed: ${(err as Error)?.message}`, undefined, { cause: err });
    }
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      throw new NotifierUnavailableError(`notification service answered ${response.status}`, parseRetryAfter(response.headers.get('retry-after'), Date.now()));
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new AbortError(new NotifierRedirectError(response.status));
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new AbortError(new NotifierRejectedError(response.status));
    }
    const text = await boundedText(response, MAX_RESPONSE_BYTES);
    let parsed: z.infer<typeof responseSchema>;
    try {
      parsed = responseSchema.parse(JSON.parse(text));
    } catch (err) {
      throw new NotifierUnavailableError('notification service answered with a body that is not the contract', undefined, { cause: err });
    }
    return parsed.results.map(({ idempotencyKey, status, reason, deadAddress }): NotificationResult => {
      const kept = keptReason(status, reason);
      // A dead address only means something with a rejection: the cleanup then removes it everywhere.
      const dead = status === 'rejected' && deadAddress === true ? { deadAddress: true as const } : {};
      return kept === undefined ? { idempotencyKey, status, ...dead } : { idempotencyKey, status, reason: kept, ...dead };
    });
  }
}
