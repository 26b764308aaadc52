/**
 * Confirmation messages over SMTP: the same transport and From as the `smtp`
 * sender of restock emails (lib/notify), a link sealed like the unsubscribe
 * link under its own purpose (lib/unsubscribe `confirmUrl`), and the
 * per-address limit (`limit.ts`) taken before anything is sent.
 */
import { createHmac } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import { classifySmtpError } from '../notify/index.ts';
import { ConfirmationRejectedError, ConfirmationUnavailableError, type ConfirmationMessage, type ConfirmationOutcome, type ConfirmationSender } from '../subscriptions/index.ts';
import { confirmUrl } from '../unsubscribe/index.ts';
import type { AddressLimiter } from './limit.ts';
import { renderConfirmation } from './message.ts';

export interface SmtpConfirmationOptions {
  transport: Pick<Transporter, 'sendMail'>;
  from: string;
  /** Base URL of the public `restockUnsubscribe` function, which serves `/v1/confirm/{token}` too. */
  baseUrl: string;
  /** Link keys (RESTOCK_UNSUBSCRIBE_SECRET); the first seals. */
  keys: readonly string[];
  limiter: AddressLimiter;
  nowMs?: () => number;
}

/** The `X-Restock-Confirmation` header of every confirmation email: how a mailbox (or the demo) tells them from restock emails. */
export const CONFIRMATION_HEADER = 'X-Restock-Confirmation';

export class SmtpConfirmationSender implements ConfirmationSender {
  private readonly domain: string;

  constructor(private readonly options: SmtpConfirmationOptions) {
    const address = /<([^>]+)>/.exec(options.from)?.[1] ?? options.from;
    this.domain = address.split('@')[1]?.trim() || 'restock.invalid';
  }

  async send(m: ConfirmationMessage): Promise<ConfirmationOutcome> {
    if (m.channel !== 'email') throw new RangeError(`confirmations go by email only, not ${m.channel}`);
    const nowMs = (this.options.nowMs ?? Date.now)();
    const slot = await this.options.limiter.take(m.channel, m.to, nowMs);
    if (!slot.ok) return { outcome: 'limited', retryAfterMs: slot.retryAfterMs };
    const link = confirmUrl(this.options.baseUrl, { productId: m.productId, userId: m.userId, generation: m.generation, issuedAtMs: nowMs }, this.options.keys);
    const mail = renderConfirmation(m, link);
    // One request, one Message-ID: a resend after a lost answer is the same message to the mailbox.
    // Keyed (the link key): a header that travels with the mail must not be a plain hash of a guessable user id.
    const id = createHmac('sha256', this.options.keys[0]!).update(`confirm-message:${m.productId}:${m.userId}:${m.generation}`).digest('hex').slice(0, 32);
    try {
      await this.options.transport.sendMail({
        from: this.options.from,
        to: m.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: `<confirm-${id}@${this.domain}>`,
        headers: { [CONFIRMATION_HEADER]: id, 'Auto-Submitted': 'auto-generated' },
      });
      return { outcome: 'sent' };
    } catch (err) {
      const verdict = classifySmtpError(err);
      if (verdict.outcome === 'rejected') throw new ConfirmationRejectedError(m.channel, verdict.reason);
      throw new ConfirmationUnavailableError({ cause: err });
    }
  }
}
