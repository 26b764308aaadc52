/**
 * Confirmation messages by the channel's own sender: the per-address limit
 * (`limit.ts`) taken before anything is sent, a link sealed like the
 * unsubscribe link under its own purpose (lib/unsubscribe `confirmUrl`), and
 * the message handed to the {@link Confirmer} of the sender that carries the
 * channel's notifications (lib/notify `createConfirmers`): SMTP, the
 * notification service, FCM or web push.
 */
import { createHmac } from 'node:crypto';
import type { Channel } from '../model.ts';
import type { ConfirmationNotice, Confirmer } from '../notify/index.ts';
import { ConfirmationRejectedError, ConfirmationUnavailableError, type ConfirmationMessage, type ConfirmationOutcome, type ConfirmationSender } from '../subscriptions/index.ts';
import { confirmUrl } from '../unsubscribe/index.ts';
import type { AddressLimiter } from './limit.ts';

export interface ChannelConfirmationOptions {
  /** The sender of each channel that may be confirmed (RESTOCK_DOUBLE_OPT_IN's). */
  confirmers: Partial<Record<Channel, Confirmer>>;
  /** Base URL of the public `restockUnsubscribe` function, which serves `/v1/confirm/{token}` too. */
  baseUrl: string;
  /** Link keys (RESTOCK_UNSUBSCRIBE_SECRET); the first seals and keys the message's id. */
  keys: readonly string[];
  limiter: AddressLimiter;
  nowMs?: () => number;
}

/**
 * The key of one pending request's confirmation (pure): the same for every
 * send of it, so a resend after a lost answer is one message to the
 * notification service (its `idempotencyKey`), the mailbox (Message-ID) and
 * the device (collapse key). Keyed with the link key: it travels with the
 * message and must not be a plain hash of a guessable user id.
 */
export function confirmationKey(key: string, m: Pick<ConfirmationMessage, 'productId' | 'userId' | 'generation' | 'channel'>): string {
  return createHmac('sha256', key).update(`confirm-message:${m.productId}:${m.userId}:${m.generation}:${m.channel}`).digest('hex');
}

/** The notice a {@link Confirmer} sends for `m` with its `link` (pure). */
export function confirmationNotice(m: ConfirmationMessage, link: string, key: string): ConfirmationNotice {
  return {
    idempotencyKey: confirmationKey(key, m),
    channel: m.channel,
    to: m.to,
    userId: m.userId,
    ...(m.locale !== undefined ? { locale: m.locale } : {}),
    template: 'confirmation',
    data: {
      productId: m.productId,
      ...(m.productName !== undefined ? { productName: m.productName } : {}),
      ...(m.productUrl !== undefined ? { productUrl: m.productUrl } : {}),
      confirmUrl: link,
      expiresAtMs: m.expiresAtMs,
    },
  };
}

export class ChannelConfirmationSender implements ConfirmationSender {
  constructor(private readonly options: ChannelConfirmationOptions) {}

  async send(m: ConfirmationMessage): Promise<ConfirmationOutcome> {
    const confirmer = this.options.confirmers[m.channel];
    // The API asks only for RESTOCK_DOUBLE_OPT_IN's channels, each of which was given a sender at start.
    if (!confirmer) throw new RangeError(`no confirmation sender for ${m.channel}`);
    const nowMs = (this.options.nowMs ?? Date.now)();
    const slot = await this.options.limiter.take(m.channel, m.to, nowMs);
    if (!slot.ok) return { outcome: 'limited', retryAfterMs: slot.retryAfterMs };
    const link = confirmUrl(this.options.baseUrl, { productId: m.productId, userId: m.userId, generation: m.generation, issuedAtMs: nowMs }, this.options.keys);
    const result = await confirmer.confirm(confirmationNotice(m, link, this.options.keys[0]!));
    if (result.status === 'sent') return { outcome: 'sent' };
    if (result.status === 'rejected') throw new ConfirmationRejectedError(m.channel, result.reason ?? 'refused');
    throw new ConfirmationUnavailableError({ cause: new Error(result.reason ?? 'the sender asked to retry') });
  }
}
