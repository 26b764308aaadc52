/**
 * The built-in templates: what every channel says in English and Japanese
 * when the shop has not edited a part. Liquid sources, parsed like a shop's
 * own (same engine, same variables, same refusals), so a built-in template
 * that names an unknown variable fails the unit tests as a shop's would fail
 * the function's start.
 *
 * They render byte for byte what the code rendered before templates could be
 * edited (test/unit/notify/builtin-templates.test.ts pins it), except that
 * the unit count is optional: with `units` nil a message says the product is
 * back and nothing about how many.
 */
import type { Channel } from '../channels.ts';

/** The parts of each channel's message, each one Liquid file `<channel>/<language>/<part>.liquid`. */
export const TEMPLATE_PARTS = {
  email: ['subject', 'text', 'html'],
  push: ['title', 'body'],
  webpush: ['title', 'body'],
} as const satisfies Record<Channel, readonly string[]>;

/** A part of channel `C`'s message. */
export type TemplatePart<C extends Channel> = (typeof TEMPLATE_PARTS)[C][number];

/** Languages with built-in templates. The first is the fallback of a locale no template speaks. */
export const BUILTIN_TEMPLATE_LANGUAGES = ['en', 'ja'] as const;
export type BuiltinTemplateLanguage = (typeof BUILTIN_TEMPLATE_LANGUAGES)[number];

/** Every part of every channel in one language. */
export type ChannelSources = { [C in Channel]: Record<TemplatePart<C>, string> };

/**
 * `name`: the product's name, else the language's words for "product <id>".
 * Assigned (not captured), so the HTML part escapes it once, where it is output.
 */
const nameAs = (fallback: string) =>
  `{%- if product.name -%}{%- assign name = product.name -%}{%- else -%}{%- assign name = "${fallback}" | append: product.id -%}{%- endif -%}`;

interface Words {
  fallback: string;
  subject: string;
  headline: string;
  /** The units sentence, `units` known. */
  available: string;
  cta: string;
  why: string;
  unsubscribe: string;
  pushTitle: string;
  pushBody: string;
}

const WORDS: Record<BuiltinTemplateLanguage, Words> = {
  en: {
    fallback: 'Product ',
    subject: 'Back in stock: {{ name }}',
    headline: '{{ name }} is back in stock.',
    available: '{% if units == 1 %}1 unit is available.{% else %}{{ units }} units are available.{% endif %}',
    cta: 'See the product',
    why: 'You asked to be told when this product was back. This is the only message you will get about it.',
    unsubscribe: 'Stop this notification',
    pushTitle: 'Back in stock',
    pushBody: '{{ name }} is back{% if units != nil %}: {% if units == 1 %}1 unit{% else %}{{ units }} units{% endif %} available{% endif %}.',
  },
  ja: {
    fallback: '商品 ',
    subject: '再入荷のお知らせ: {{ name }}',
    headline: '{{ name }}が再入荷しました。',
    available: '在庫数: {{ units }}点',
    cta: '商品を見る',
    why: 'この商品の再入荷通知をご希望いただいたため、お送りしています。この商品についてのお知らせはこの1通のみです。',
    unsubscribe: 'この通知を停止する',
    pushTitle: '再入荷のお知らせ',
    pushBody: '{{ name }}が再入荷しました{% if units != nil %}（在庫{{ units }}点）{% endif %}。',
  },
};

function sources(w: Words): ChannelSources {
  const name = nameAs(w.fallback);
  const push = { title: w.pushTitle, body: `${name}${w.pushBody}` };
  return {
    email: {
      subject: `${name}${w.subject}`,
      text: [
        name,
        `${w.headline}\n`,
        `{% if units != nil %}${w.available}\n{% endif %}`,
        `{% if link %}\n${w.cta}: {{ link }}\n{% endif %}`,
        `\n${w.why}\n`,
        `${w.unsubscribe}: {{ unsubscribe_url }}\n`,
      ].join(''),
      html: [
        name,
        '<!doctype html>\n',
        `<html lang="{{ language }}"><head><meta charset="utf-8"><title>${w.subject}</title></head><body>\n`,
        `<p><strong>${w.headline}</strong></p>\n`,
        `{% if units != nil %}<p>${w.available}</p>\n{% endif %}`,
        `{% if link %}<p><a href="{{ link }}">${w.cta}</a></p>\n{% endif %}`,
        `<p style="color:#666;font-size:small">${w.why} <a href="{{ unsubscribe_url }}">${w.unsubscribe}</a></p>\n`,
        '</body></html>',
      ].join(''),
    },
    push,
    // A browser shows the same notification an app does.
    webpush: push,
  };
}

/** The built-in sources, by language. */
export const BUILTIN_TEMPLATES: Readonly<Record<BuiltinTemplateLanguage, ChannelSources>> = {
  en: sources(WORDS.en),
  ja: sources(WORDS.ja),
};
