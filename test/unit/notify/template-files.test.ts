/**
 * Templates a shop edits (issue 36): a directory's files replace the built-in
 * parts they name, add languages, and are refused at load, naming the file
 * and the line, when they would render something broken.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Liquid } from 'liquidjs';
import { describe, expect, test, vi } from 'vitest';
import { templatesDir } from '../../helpers/templates-dir.ts';
import type { Notification } from '../../../lib/notify/index.ts';
import { BUILTIN_TEMPLATE_LANGUAGES, builtinTemplates, loadTemplates, renderEmail, renderPush, TEMPLATE_PARTS, TEMPLATE_VARIABLE_NAMES, TemplateError } from '../../../lib/notify/templates.ts';
import { CHANNELS } from '../../../lib/channels.ts';

const UNSUBSCRIBE = 'https://unsub.example/v1/unsubscribe/u2.abc';

function notification(locale?: string, data: Partial<Notification['data']> = {}): Notification {
  return {
    idempotencyKey: 'k'.repeat(64),
    channel: 'email',
    to: 'ann@example.com',
    ...(locale ? { locale } : {}),
    template: 'restock',
    data: { eventKey: 'e1', productId: 'lamp-1', productName: 'Desk lamp', productUrl: 'https://shop.example/p/lamp-1', available: 3, ...data },
  };
}

/** A templates directory holding `files` (path → text). */
/** The TemplateError `loadTemplates(dir)` throws. */
function refusal(dir: string): TemplateError {
  try {
    loadTemplates(dir);
  } catch (err) {
    if (err instanceof TemplateError) return err;
    throw err;
  }
  throw new Error('the templates were accepted');
}

describe('a shop edits a part', () => {
  test('the file replaces that part only: the subject is the shop\'s, the body stays built-in', () => {
    // Prepare
    const dir = templatesDir({ 'email/en/subject.liquid': '{{ product.name }} is here again – {{ units }} left\n' });
    // Act
    const email = renderEmail(notification('en-US'), UNSUBSCRIBE, loadTemplates(dir));
    // Assess: one line (the file's last newline folded away), the built-in text untouched.
    expect(email.subject).toBe('Desk lamp is here again – 3 left');
    expect(email.text).toBe(renderEmail(notification('en-US'), UNSUBSCRIBE).text);
  });

  test('loading a directory parses only its own files: the built-in templates are parsed once per process, and stay built-in', () => {
    // Prepare: the built-ins parsed already (the first start of the process does it), a directory with one part.
    const builtin = builtinTemplates();
    const dir = templatesDir({ 'email/en/subject.liquid': 'Shop subject', 'push/de/title.liquid': 'Wieder da', 'push/de/body.liquid': '{{ product.name }}' });
    const parse = vi.spyOn(Liquid.prototype, 'parse');
    try {
      // Act
      const templates = loadTemplates(dir);
      // Assess: three files, three parses; the built-ins the directory overrides are untouched.
      expect(parse).toHaveBeenCalledTimes(3);
      expect(renderEmail(notification('en'), UNSUBSCRIBE, templates).subject).toBe('Shop subject');
      expect(renderEmail(notification('en'), UNSUBSCRIBE, builtin).subject).toBe('Back in stock: Desk lamp');
      expect(renderEmail(notification('en'), UNSUBSCRIBE, loadTemplates(templatesDir({}))).subject).toBe('Back in stock: Desk lamp');
    } finally {
      parse.mockRestore();
    }
  });

  test('a new language directory with every email part serves that language; its other channels fall back to English', () => {
    const dir = templatesDir({
      'email/de/subject.liquid': 'Wieder da: {{ product.name }}',
      'email/de/text.liquid': '{{ product.name }} ist wieder da.\nAbmelden: {{ unsubscribe_url }}\n',
      'email/de/html.liquid': '<p>{{ product.name }} ist wieder da.</p>',
    });
    const templates = loadTemplates(dir);
    const email = renderEmail(notification('de-AT'), UNSUBSCRIBE, templates);
    expect(email).toMatchObject({ language: 'de', subject: 'Wieder da: Desk lamp', text: `Desk lamp ist wieder da.\nAbmelden: ${UNSUBSCRIBE}\n` });
    // The push it left out is English, and says so (its payload's lang), not German words it lacks.
    expect(renderPush({ ...notification('de-AT'), channel: 'push' }, templates)).toMatchObject({ language: 'en', title: 'Back in stock' });
    expect(templates.languages).toEqual([...BUILTIN_TEMPLATE_LANGUAGES, 'de']);
  });

  test('a new language is complete per channel: push/de with a title but no body is refused, even after a complete email/de', () => {
    const dir = templatesDir({
      'email/de/subject.liquid': 'x',
      'email/de/text.liquid': 'x',
      'email/de/html.liquid': 'x',
      'push/de/title.liquid': 'Wieder da',
    });
    expect(refusal(dir).message).toBe(`RESTOCK_TEMPLATES_DIR: ${join(dir, 'push/de/body.liquid')}: is missing: de has no built-in templates, so every part of the push message must be given`);
  });

  test('HTML output is escaped: a product name cannot inject markup into the shop\'s template', () => {
    const dir = templatesDir({ 'email/en/html.liquid': '<h1>{{ product.name }}</h1><a href="{{ link }}">go</a>' });
    const email = renderEmail(notification('en', { productName: '<img src=x onerror="alert(1)">', clickUrl: 'https://c.example/v1/c/t?a=1&b=2' }), UNSUBSCRIBE, loadTemplates(dir));
    expect(email.html).toBe('<h1>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</h1><a href="https://c.example/v1/c/t?a=1&amp;b=2">go</a>');
  });

  test('a subject or title with line breaks in the template is one line, so it cannot add a header', () => {
    const dir = templatesDir({ 'email/en/subject.liquid': 'Back\r\nBcc: x@example.com', 'push/en/title.liquid': 'A\nB\n' });
    const templates = loadTemplates(dir);
    expect(renderEmail(notification(), UNSUBSCRIBE, templates).subject).toBe('Back Bcc: x@example.com');
    expect(renderPush({ ...notification(), channel: 'push' }, templates).title).toBe('A B');
  });
});

describe('the unit count is optional in every built-in message', () => {
  const cases = BUILTIN_TEMPLATE_LANGUAGES.flatMap((language) => CHANNELS.map((channel) => [language, channel] as const));
  test.each(cases)('%s %s without units says the product is back and nothing about units', (language, channel) => {
    const parts = builtinTemplates().render(channel, language, {
      product: { id: 'lamp-1', name: 'Desk lamp', url: 'https://shop.example/p/lamp-1' },
      link: 'https://shop.example/p/lamp-1',
      units: null,
      unsubscribe_url: UNSUBSCRIBE,
      locale: language,
      language,
    });
    for (const [part, text] of Object.entries(parts)) {
      expect(text, part).not.toMatch(/undefined|null|NaN|units?\b|在庫/);
      expect(text.length, part).toBeGreaterThan(0);
    }
    expect(Object.values(parts).join('\n')).toContain('Desk lamp');
  });

  test('with units known the same templates say how many', () => {
    const email = renderEmail(notification('en', { available: 5 }), UNSUBSCRIBE);
    expect(email.text).toContain('5 units are available.');
  });
});

describe('a template that would render something broken is refused at load, naming the file and the line', () => {
  test.each([
    ['a syntax error', 'Hello\n{% if product.name %}\nno end', 'email/en/text.liquid', /line \d+: .*(if|endif)/i],
    ['an unknown variable', 'Hi\n\n{{ prodct.name }}', 'email/en/subject.liquid', /line 3: unknown variable "prodct\.name"/],
    ['an unknown field of a known object', '{{ product.price }}', 'push/en/body.liquid', /line 1: unknown variable "product\.price"/],
    ['an unknown filter', 'x\n{{ product.name | shout }}', 'webpush/ja/title.liquid', /line 2: undefined filter: shout/],
    ['a file read by include', '{% include "secret" %}', 'email/en/html.liquid', /line 1: the include tag is not allowed/],
    ['a file read by render', 'a\nb\n{% render "x" %}', 'email/en/html.liquid', /line 3: the render tag is not allowed/],
  ])('%s', (_what, source, file, problem) => {
    const dir = templatesDir({ [file]: source });
    const err = refusal(dir);
    expect(err.message).toContain(`RESTOCK_TEMPLATES_DIR: ${join(dir, file)}`);
    expect(err.message).toMatch(problem);
    expect(err.file).toBe(join(dir, file));
  });

  test('a new language missing a part names the missing file', () => {
    const dir = templatesDir({ 'email/de/subject.liquid': 'x', 'email/de/text.liquid': 'x' });
    expect(refusal(dir).message).toBe(`RESTOCK_TEMPLATES_DIR: ${join(dir, 'email/de/html.liquid')}: is missing: de has no built-in templates, so every part of the email message must be given`);
  });

  test('a file that is no part of its channel, a directory that is no channel or language, and a missing directory', () => {
    expect(refusal(templatesDir({ 'email/en/subjct.liquid': 'x' })).message).toMatch(/subjct\.liquid: is not a part of the email message; its parts are subject\.liquid, text\.liquid, html\.liquid/);
    expect(refusal(templatesDir({ 'push/en/subject.liquid': 'x' })).message).toMatch(/is not a part of the push message/);
    expect(refusal(templatesDir({ 'sms/en/body.liquid': 'x' })).message).toMatch(/sms: is not a channel; the channels are email, push, webpush/);
    expect(refusal(templatesDir({ 'email/english/subject.liquid': 'x' })).message).toMatch(/english: is not a language directory/);
    expect(refusal('/nonexistent/restock-templates').message).toMatch(/^RESTOCK_TEMPLATES_DIR: \/nonexistent\/restock-templates: cannot be read as a directory \(ENOENT\)$/);
  });

  test('every built-in part is given for every channel and language (a shop directory may leave any out)', () => {
    for (const language of BUILTIN_TEMPLATE_LANGUAGES) {
      for (const channel of CHANNELS) expect(Object.keys(builtinTemplates().render(channel, language, { product: { id: 'p', name: null, url: null }, link: null, units: 1, unsubscribe_url: null, locale: null, language })).sort()).toEqual([...TEMPLATE_PARTS[channel]].sort());
    }
  });
});

describe('docs/channels.md', () => {
  const doc = readFileSync(new URL('../../../docs/channels.md', import.meta.url), 'utf8');
  /** The first backticked word of each row of the table after `heading`. */
  const tableAfter = (heading: string): string[][] => {
    const rows: string[][] = [];
    for (const line of doc.slice(doc.indexOf(heading)).split('\n').slice(1)) {
      if (rows.length > 0 && !line.startsWith('|')) break;
      if (line.startsWith('| `')) rows.push(line.split('|').slice(1, -1).map((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).join(' ')));
    }
    return rows;
  };

  test('tabulates every variable a template may use, and no other', () => {
    expect(tableAfter('**The variables**').map(([name]) => name)).toEqual([...TEMPLATE_VARIABLE_NAMES]);
  });

  test('tabulates every part of every channel, as the code has them', () => {
    expect(tableAfter('| channel | parts |').map(([channel, parts]) => [channel, parts])).toEqual(CHANNELS.map((c) => [c, TEMPLATE_PARTS[c].join(' ')]));
  });
});
