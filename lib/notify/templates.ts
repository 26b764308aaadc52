/**
 * What a restock message says, per locale, for the direct channels: an email
 * (subject, text and HTML) and a push notification (title, body, link). Pure:
 * the senders only carry the result.
 *
 * Locales are matched by their language (`ja-JP` → `ja`); an unknown or absent
 * locale falls back to English, so a shopper always gets a readable message.
 */
import type { ConfirmationNotice, Notification } from './types.ts';

/** Languages with a template. The first is the fallback. */
export const TEMPLATE_LANGUAGES = ['en', 'ja'] as const;
export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];

/** The parts of a restock email. */
export interface RenderedEmail {
  language: TemplateLanguage;
  subject: string;
  text: string;
  html: string;
}

/** The parts of a restock push notification. */
export interface RenderedPush {
  language: TemplateLanguage;
  title: string;
  body: string;
  /** The product page, when it is an http(s) URL. */
  link?: string;
}

interface Words {
  fallbackName: (productId: string) => string;
  subject: (name: string) => string;
  headline: (name: string) => string;
  available: (units: number) => string;
  cta: string;
  why: string;
  unsubscribe: string;
  pushTitle: string;
  pushBody: (name: string, units: number) => string;
}

const WORDS: Record<TemplateLanguage, Words> = {
  en: {
    fallbackName: (id) => `Product ${id}`,
    subject: (name) => `Back in stock: ${name}`,
    headline: (name) => `${name} is back in stock.`,
    available: (n) => (n === 1 ? '1 unit is available.' : `${n} units are available.`),
    cta: 'See the product',
    why: 'You asked to be told when this product was back. This is the only message you will get about it.',
    unsubscribe: 'Stop this notification',
    pushTitle: 'Back in stock',
    pushBody: (name, n) => `${name} is back: ${n === 1 ? '1 unit' : `${n} units`} available.`,
  },
  ja: {
    fallbackName: (id) => `商品 ${id}`,
    subject: (name) => `再入荷のお知らせ: ${name}`,
    headline: (name) => `${name}が再入荷しました。`,
    available: (n) => `在庫数: ${n}点`,
    cta: '商品を見る',
    why: 'この商品の再入荷通知をご希望いただいたため、お送りしています。この商品についてのお知らせはこの1通のみです。',
    unsubscribe: 'この通知を停止する',
    pushTitle: '再入荷のお知らせ',
    pushBody: (name, n) => `${name}が再入荷しました（在庫${n}点）。`,
  },
};

/** The template language for a BCP 47 locale: its language subtag if there is a template, else English. */
export function templateLanguage(locale: string | undefined): TemplateLanguage {
  const language = (locale ?? '').trim().toLowerCase().split(/[-_]/)[0];
  return (TEMPLATE_LANGUAGES as readonly string[]).includes(language ?? '') ? (language as TemplateLanguage) : 'en';
}

/**
 * The link a message carries: the tracked link when there is one (it
 * redirects only to the https: product URL it was made for), else the
 * product URL itself if {@link safeLink} allows it.
 */
export function messageLink(n: Pick<Notification, 'data'>): string | undefined {
  return n.data.clickUrl ?? safeLink(n.data.productUrl);
}

/** The product URL if it is an absolute https: URL (as events must carry); anything else (http:, javascript:, relative) is not linked. */
export function safeLink(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' ? parsed.toString() : undefined;
  } catch {
    return undefined;
  }
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Product names come from the inventory service: no line breaks in a subject (header injection) or a title. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').trim();
}

function productName(n: Notification, words: Words): string {
  return oneLine(n.data.productName ?? '') || words.fallbackName(n.data.productId);
}

/**
 * The email for one notification. `unsubscribeUrl` is the one-click link also
 * carried in the List-Unsubscribe header; the body repeats it for people.
 */
export function renderEmail(n: Notification, unsubscribeUrl: string): RenderedEmail {
  const language = templateLanguage(n.locale);
  const w = WORDS[language];
  const name = productName(n, w);
  const link = messageLink(n);
  const units = w.available(n.data.available);
  const text = [w.headline(name), units, ...(link ? ['', `${w.cta}: ${link}`] : []), '', w.why, `${w.unsubscribe}: ${unsubscribeUrl}`, ''].join('\n');
  const html = [
    '<!doctype html>',
    `<html lang="${language}"><head><meta charset="utf-8"><title>${escapeHtml(w.subject(name))}</title></head><body>`,
    `<p><strong>${escapeHtml(w.headline(name))}</strong></p>`,
    `<p>${escapeHtml(units)}</p>`,
    ...(link ? [`<p><a href="${escapeHtml(link)}">${escapeHtml(w.cta)}</a></p>`] : []),
    `<p style="color:#666;font-size:small">${escapeHtml(w.why)} <a href="${escapeHtml(unsubscribeUrl)}">${escapeHtml(w.unsubscribe)}</a></p>`,
    '</body></html>',
  ].join('\n');
  return { language, subject: w.subject(name), text, html };
}

/** The push notification for one notification. */
export function renderPush(n: Notification): RenderedPush {
  const language = templateLanguage(n.locale);
  const w = WORDS[language];
  const link = messageLink(n);
  return { language, title: w.pushTitle, body: w.pushBody(productName(n, w), n.data.available), ...(link ? { link } : {}) };
}

/** What a confirmation says, per language: it asks, it never tells of stock, and it says what ignoring it means. */
interface ConfirmationWords {
  subject: (name: string) => string;
  asked: (name: string) => string;
  cta: string;
  validFor: (hours: number) => string;
  ignore: string;
  pushTitle: string;
  pushBody: (name: string) => string;
}

const CONFIRMATION_WORDS: Record<TemplateLanguage, ConfirmationWords> = {
  en: {
    subject: (name) => `Confirm: tell me when ${name} is back in stock`,
    asked: (name) => `Someone asked to be told at this address when ${name} is back in stock.`,
    cta: 'Confirm',
    validFor: (h) => `If it was you, confirm (the link works for ${h} hours):`,
    ignore: 'If it was not you, ignore this message: you will get nothing else from us about it.',
    pushTitle: 'Confirm your restock alert',
    pushBody: (name) => `Tap to be told when ${name} is back in stock. Ignore this and you will hear nothing more.`,
  },
  ja: {
    subject: (name) => `ご確認ください: ${name}の再入荷通知`,
    asked: (name) => `このアドレスで${name}の再入荷通知を受け取るお申し込みがありました。`,
    cta: '確認する',
    validFor: (h) => `お申し込みがご本人の場合は、こちらから確認してください（リンクの有効期限は${h}時間です）:`,
    ignore: 'お心当たりがない場合は、このメッセージを無視してください。この件について今後ご連絡することはありません。',
    pushTitle: '再入荷通知の確認',
    pushBody: (name) => `タップすると${name}の再入荷をお知らせします。無視された場合、今後ご連絡はしません。`,
  },
};

function confirmationWords(c: ConfirmationNotice): { language: TemplateLanguage; w: ConfirmationWords; name: string } {
  const language = templateLanguage(c.locale);
  return { language, w: CONFIRMATION_WORDS[language], name: oneLine(c.data.productName ?? '') || WORDS[language].fallbackName(c.data.productId) };
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
