/**
 * What a double opt-in confirmation says, per language, on each channel: an
 * email (subject, text, HTML) and a push (title, body, the link it opens).
 * Built in code, not from the shop's Liquid templates (`./templates.ts`): a
 * confirmation's wording is part of the consent record (the storefront sends
 * its version), so it changes with a release, not with a file a shop drops in.
 * Pure: the senders only carry the result.
 */
import { BUILTIN_TEMPLATE_LANGUAGES, type BuiltinTemplateLanguage } from './template-defaults.ts';
import { escapeHtml, languageOf, productNameOf, type RenderedEmail, type RenderedPush } from './templates.ts';
import type { ConfirmationNotice } from './types.ts';

/**
 * A confirmation speaks the built-in templates' languages, with the same
 * fallback: a built-in language without its confirmation words does not compile.
 */
type ConfirmationLanguage = BuiltinTemplateLanguage;

/** What a confirmation says, per language: it asks, it never tells of stock, and it says what ignoring it means. */
interface ConfirmationWords {
  fallbackName: (productId: string) => string;
  subject: (name: string) => string;
  asked: (name: string) => string;
  cta: string;
  validFor: (hours: number) => string;
  ignore: string;
  pushTitle: string;
  pushBody: (name: string) => string;
}

const CONFIRMATION_WORDS: Record<ConfirmationLanguage, ConfirmationWords> = {
  en: {
    fallbackName: (id) => `Product ${id}`,
    subject: (name) => `Confirm: tell me when ${name} is back in stock`,
    asked: (name) => `Someone asked to be told at this address when ${name} is back in stock.`,
    cta: 'Confirm',
    validFor: (h) => `If it was you, confirm (the link works for ${h} hours):`,
    ignore: 'If it was not you, ignore this message: you will get nothing else from us about it.',
    pushTitle: 'Confirm your restock alert',
    pushBody: (name) => `Tap to be told when ${name} is back in stock. Ignore this and you will hear nothing more.`,
  },
  ja: {
    fallbackName: (id) => `商品 ${id}`,
    subject: (name) => `ご確認ください: ${name}の再入荷通知`,
    asked: (name) => `このアドレスで${name}の再入荷通知を受け取るお申し込みがありました。`,
    cta: '確認する',
    validFor: (h) => `お申し込みがご本人の場合は、こちらから確認してください（リンクの有効期限は${h}時間です）:`,
    ignore: 'お心当たりがない場合は、このメッセージを無視してください。この件について今後ご連絡することはありません。',
    pushTitle: '再入荷通知の確認',
    pushBody: (name) => `タップすると${name}の再入荷をお知らせします。無視された場合、今後ご連絡はしません。`,
  },
};

function confirmationWords(c: ConfirmationNotice): { language: ConfirmationLanguage; w: ConfirmationWords; name: string } {
  const tag = languageOf(c.locale);
  const language = Object.hasOwn(CONFIRMATION_WORDS, tag) ? (tag as ConfirmationLanguage) : BUILTIN_TEMPLATE_LANGUAGES[0];
  const w = CONFIRMATION_WORDS[language];
  return { language, w, name: productNameOf(c.data.productName) ?? w.fallbackName(c.data.productId) };
}

/** Whole hours a confirmation link works from `nowMs`, at least 1 (a link never reads "0 hours"). */
function hoursLeft(c: ConfirmationNotice, nowMs: number): number {
  return Math.max(1, Math.round((c.data.expiresAtMs - nowMs) / 3_600_000));
}

/** The confirmation email of double opt-in: its one link is the confirmation link; no unsubscribe, nothing is subscribed (pure). */
export function renderConfirmationEmail(c: ConfirmationNotice, nowMs: number): RenderedEmail {
  const { language, w, name } = confirmationWords(c);
  const hours = hoursLeft(c, nowMs);
  const link = c.data.confirmUrl;
  const text = [w.asked(name), '', w.validFor(hours), link, '', w.ignore, ''].join('\n');
  const html = [
    '<!doctype html>',
    `<html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(w.subject(name))}</title></head><body>`,
    `<p>${escapeHtml(w.asked(name))}</p>`,
    `<p>${escapeHtml(w.validFor(hours))} <a href="${escapeHtml(link)}">${escapeHtml(w.cta)}</a></p>`,
    `<p style="color:#666;font-size:small">${escapeHtml(w.ignore)}</p>`,
    '</body></html>',
  ].join('\n');
  return { language, subject: w.subject(name), text, html };
}

/** The confirmation push (FCM, web push): tapping it opens the confirmation link, its only link (pure). */
export function renderConfirmationPush(c: ConfirmationNotice): Required<RenderedPush> {
  const { language, w, name } = confirmationWords(c);
  return { language, title: w.pushTitle, body: w.pushBody(name), link: c.data.confirmUrl };
}
