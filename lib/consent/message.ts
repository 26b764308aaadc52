/**
 * The confirmation email of double opt-in, rendered here (not in
 * lib/notify's restock templates: it is not a notification of a restock and
 * carries no unsubscribe link, since nothing is subscribed yet).
 */
import type { ConfirmationMessage } from '../subscriptions/index.ts';

export interface RenderedConfirmation {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The message for `m` with its confirmation `link` (pure). */
export function renderConfirmation(m: ConfirmationMessage, link: string): RenderedConfirmation {
  const product = m.productName ?? 'a product';
  const hours = Math.max(1, Math.round((m.expiresAtMs - m.generation) / 3_600_000));
  const subject = `Confirm: tell me when ${product} is back in stock`;
  const text = [
    `Someone asked to be told at this address when ${product} is back in stock.`,
    '',
    `If it was you, confirm here (the link works for ${hours} hours):`,
    link,
    '',
    'If it was not you, ignore this message: you will get nothing else from us about it.',
  ].join('\n');
  const html = [
    `<p>Someone asked to be told at this address when <strong>${escapeHtml(product)}</strong> is back in stock.</p>`,
    `<p><a href="${escapeHtml(link)}">Confirm</a> (the link works for ${hours} hours).</p>`,
    '<p>If it was not you, ignore this message: you will get nothing else from us about it.</p>',
  ].join('\n');
  return { subject, text, html };
}
