/**
 * The `smtp` sender: one email per notification through a pooled nodemailer
 * SMTP transport (a few long-lived connections per instance, messages queued
 * on them), rendered in the shopper's locale (`templates.ts`).
 *
 * Every message carries RFC 8058 one-click unsubscribe: `List-Unsubscribe`
 * with the subscription's signed link and `List-Unsubscribe-Post:
 * List-Unsubscribe=One-Click` (Gmail's and Yahoo's bulk-sender rules require
 * both, covered by a DKIM signature, which the transport adds when a key is
 * configured).
 *
 * SMTP has no idempotency key. The dedup key is the `Message-ID`
 * (`<key@sender-domain>`) and an `X-Restock-Key` header: a message sent again
 * after a lost answer is the same message, which mailbox providers collapse.
 *
 * Outcomes: a permanent answer (5xx) to RCPT TO or DATA, or an address the
 * client cannot even send to, is `rejected`; 4xx, timeouts and connection
 * failures are `retry` (Cloud Tasks retries the chunk). A 5xx before the
 * recipient is named (AUTH, MAIL FROM) is our configuration failing for
 * everyone alike, so it is `retry` too: shoppers are never rejected for it.
 */
import { createTransport, type Transporter } from 'nodemailer';
import { unsubscribeUrl } from '../unsubscribe/index.ts';
import { renderConfirmationEmail } from './confirmation-messages.ts';
import { renderEmail, type MessageTemplates, type RenderedEmail } from './templates.ts';
import type { Config } from '../config.ts';
import type { ConfirmationNotice, Confirmer, Notification, NotificationResult, Notifier } from './types.ts';

interface SmtpTransportOptions {
  host: string;
  port: number;
  /** TLS from the first byte (465); else STARTTLS when offered. */
  secure: boolean;
  /** Refuse to send without STARTTLS. */
  requireTls: boolean;
  auth?: { user: string; pass: string };
  maxConnections: number;
  timeoutMs: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
}

export interface SmtpNotifierOptions {
  /** A nodemailer transporter: {@link createSmtpTransport} in production, any transporter in tests. */
  transport: Pick<Transporter, 'sendMail'>;
  /** The From header, e.g. `Shop <restock@mail.example.com>`. */
  from: string;
  /** Base URL of the public unsubscribe function. */
  unsubscribeBaseUrl: string;
  /** Unsubscribe token keys; the first signs. */
  unsubscribeKeys: readonly string[];
  /** Clock of the links' issue time; replaceable in tests. */
  nowMs?: () => number;
  /** The templates loaded at start (`loadTemplates`); the built-in ones when absent. */
  templates?: MessageTemplates;
}

/** What an SMTP failure means for one message. */
export type SmtpVerdict = { outcome: 'rejected' | 'retry'; reason: string };

interface NodemailerError {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
}

const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;

/**
 * Classifies a nodemailer failure (pure). Reasons keep the server's words
 * (they say why) with any address masked: they reach the ledger and the logs.
 */
export function classifySmtpError(err: unknown): SmtpVerdict {
  const e = (err ?? {}) as NodemailerError;
  const said = e.response ? `: ${e.response.replace(EMAIL, '[email]').slice(0, 200)}` : '';
  if (e.responseCode !== undefined) {
    const reason = `smtp ${e.responseCode} at ${e.command ?? 'unknown command'}${said}`;
    const aboutRecipient = e.command === 'RCPT TO' || e.command === 'DATA';
    return { outcome: e.responseCode >= 500 && aboutRecipient ? 'rejected' : 'retry', reason };
  }
  // nodemailer refuses an address it cannot put in an envelope before talking to the server.
  if (e.code === 'EENVELOPE' && e.command === 'API') return { outcome: 'rejected', reason: 'smtp: not a deliverable address' };
  return { outcome: 'retry', reason: `smtp ${e.code ?? 'error'}${e.command ? ` at ${e.command}` : ''}` };
}

/** The domain of a From header, for Message-IDs. */
function senderDomain(from: string): string {
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  return address.split('@')[1]?.trim() || 'restock.invalid';
}

/**
 * The pooled transport the settings describe (RESTOCK_SMTP_*, DKIM): one for
 * the restock emails and one for double opt-in's confirmations, built alike.
 */
export function smtpTransportOf(config: Config, host: string): Transporter {
  return createSmtpTransport({
    host,
    port: config.smtpPort,
    secure: config.smtpSecure,
    requireTls: config.smtpRequireTls,
    maxConnections: config.smtpMaxConnections,
    timeoutMs: config.smtpTimeoutMs,
    ...(config.smtpUser ? { auth: { user: config.smtpUser, pass: config.smtpPassword ?? '' } } : {}),
    ...(config.dkimPrivateKey ? { dkim: { domainName: config.dkimDomain!, keySelector: config.dkimSelector!, privateKey: config.dkimPrivateKey } } : {}),
  });
}

/** A pooled SMTP transport for the settings. Nothing connects until the first message. */
function createSmtpTransport(o: SmtpTransportOptions): Transporter {
  return createTransport({
    pool: true,
    host: o.host,
    port: o.port,
    secure: o.secure,
    requireTLS: o.requireTls,
    ignoreTLS: false,
    maxConnections: o.maxConnections,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    ...(o.auth ? { auth: o.auth } : {}),
    ...(o.dkim ? { dkim: o.dkim } : {}),
    // nodemailer's own logger prints envelopes (addresses): off.
    logger: false,
    debug: false,
  });
}

/** The header every confirmation email carries (its key): how a mailbox, the demo and tests tell them from restock emails. */
export const CONFIRMATION_HEADER = 'X-Restock-Confirmation';

export class SmtpNotifier implements Notifier, Confirmer {
  private readonly domain: string;

  constructor(private readonly options: SmtpNotifierOptions) {
    this.domain = senderDomain(options.from);
  }

  /** Sends every message of the batch at once; the pool queues them on its connections. */
  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    return Promise.all(batch.map((n) => this.sendOne(n)));
  }

  /**
   * A confirmation email through the same transport, From and classification:
   * no List-Unsubscribe (nothing is subscribed yet); its Message-ID is the
   * request's, so a resend after a lost answer is the same message.
   */
  async confirm(c: ConfirmationNotice): Promise<NotificationResult> {
    const email = renderConfirmationEmail(c, (this.options.nowMs ?? Date.now)());
    return this.mail(c.idempotencyKey, c.to, email, `<confirm-${c.idempotencyKey}@${this.domain}>`, { [CONFIRMATION_HEADER]: c.idempotencyKey });
  }

  /**
   * Hands one rendered email to the transport, From, Content-Language and
   * Auto-Submitted being every email's; answers as its notification would.
   * Never throws: the transport's failure is classified ({@link classifySmtpError}).
   */
  private async mail(idempotencyKey: string, to: string, email: RenderedEmail, messageId: string, headers: Record<string, string>): Promise<NotificationResult> {
    try {
      await this.options.transport.sendMail({
        from: this.options.from,
        to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId,
        headers: {
          ...headers,
          'Content-Language': email.language,
          // Automated, not a reply to anything: auto-responders stay quiet (RFC 3834).
          'Auto-Submitted': 'auto-generated',
        },
      });
      return { idempotencyKey, status: 'sent' };
    } catch (err) {
      const verdict = classifySmtpError(err);
      return { idempotencyKey, status: verdict.outcome, reason: verdict.reason };
    }
  }

  private async sendOne(n: Notification): Promise<NotificationResult> {
    if (n.userId === undefined || n.subscriptionCreatedAtMs === undefined) {
      return { idempotencyKey: n.idempotencyKey, status: 'retry', reason: 'smtp: notification without its subscription (no unsubscribe link can be made)' };
    }
    const link = unsubscribeUrl(
      this.options.unsubscribeBaseUrl,
      { productId: n.data.productId, userId: n.userId, generation: n.subscriptionCreatedAtMs, issuedAtMs: (this.options.nowMs ?? Date.now)() },
      this.options.unsubscribeKeys,
    );
    const email = renderEmail(n, link, this.options.templates);
    return this.mail(n.idempotencyKey, n.to, email, `<${n.idempotencyKey}@${this.domain}>`, {
      'List-Unsubscribe': `<${link}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'X-Restock-Key': n.idempotencyKey,
    });
  }
}
