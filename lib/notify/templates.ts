/**
 * What a restock message says, per channel and language: Liquid templates
 * (LiquidJS), the built-in ones (`template-defaults.ts`) unless the shop's
 * directory (RESTOCK_TEMPLATES_DIR) has its own file for a part.
 *
 * Templates are parsed and checked once, when the delivery function starts
 * ({@link loadTemplates}); a template that does not parse, names a variable
 * or filter that does not exist, includes a file or misses a part is refused
 * there, naming the file and the line, so a broken template stops the
 * function instead of reaching shoppers. Rendering is then pure and
 * synchronous: no file is read, no code runs (Liquid has no way to run any).
 *
 * Locales are matched by their language (`ja-JP` → `ja`); a language no
 * template speaks falls back to English, so a shopper always gets a readable message.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Liquid, Tag, type Template, type TagToken, type TopLevelToken } from 'liquidjs';
import type { Channel } from '../channels.ts';
import { CHANNELS } from '../channels.ts';
import { BUILTIN_TEMPLATE_LANGUAGES, BUILTIN_TEMPLATES, TEMPLATE_PARTS, type BuiltinTemplateLanguage, type TemplatePart } from './template-defaults.ts';
import type { Notification } from './types.ts';

export { BUILTIN_TEMPLATE_LANGUAGES, TEMPLATE_PARTS, type TemplatePart } from './template-defaults.ts';

/** The setting that names the shop's templates directory, for errors. */
const TEMPLATES_DIR_ENV = 'RESTOCK_TEMPLATES_DIR';

/**
 * What every template is given, the same on every channel. Names are Liquid's
 * usual snake_case. Anything else a template names is refused at start.
 */
export interface TemplateVariables {
  product: {
    id: string;
    /** The name the inventory service gave, on one line; nil when it gave none. */
    name: string | null;
    /** The product page, when it is an https: URL; nil otherwise. */
    url: string | null;
  };
  /** The link the message should carry: the tracked link when clicks are tracked, else `product.url`; nil when there is neither. */
  link: string | null;
  /** Units in stock when the message was made; nil when unknown (every built-in message reads well without it). */
  units: number | null;
  /** The one-click unsubscribe link (email, webpush); nil on `push`, whose app offers its own. */
  unsubscribe_url: string | null;
  /** The shopper's locale as subscribed (`de-AT`), nil when none. */
  locale: string | null;
  /** The language of the template rendering (`de`), as `Content-Language` and `lang` say it. */
  language: string;
}

/** Every name a template may use, with the fields of the objects among them. */
const VARIABLES: Readonly<Record<keyof TemplateVariables, readonly string[] | null>> = {
  product: ['id', 'name', 'url'],
  link: null,
  units: null,
  unsubscribe_url: null,
  locale: null,
  language: null,
};

/** Every name a template may use, fields spelled out (`product.id`): what a refusal lists and docs/channels.md tabulates. */
export const TEMPLATE_VARIABLE_NAMES: readonly string[] = Object.entries(VARIABLES).flatMap(([k, fields]) => (fields ? fields.map((f) => `${k}.${f}`) : [k]));

/** Parts that are one line where they end up (a mail header, a notification's title): line breaks are folded into spaces. */
const ONE_LINE: ReadonlySet<string> = new Set(['subject', 'title']);
/** Parts shown as a whole document: kept exactly as rendered. Others (a push body) are trimmed, so a file's last newline never reaches a device. */
const DOCUMENTS: ReadonlySet<string> = new Set(['text', 'html']);

/**
 * A template was refused at start: `file` and `line` say where, the message
 * what, after the setting that chose the directory (as a {@link ConfigError} names its variable).
 */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly variable = TEMPLATES_DIR_ENV;
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${TEMPLATES_DIR_ENV}: ${file}${line === undefined ? '' : ` line ${line}`}: ${problem}`, options);
  }
}

/**
 * Tags that read other files (`include`, `render`, `layout`): refused, so a
 * template is the whole of what it renders and nothing is read after start.
 */
class FileTagRefused extends Tag {
  constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid) {
    super(token, remainTokens, liquid);
    throw new Error(`the ${token.name} tag is not allowed: a template cannot read other files`);
  }
  *render(): Generator<unknown, void, unknown> {}
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** HTML-escapes a value (Liquid's output escape for the html part; the confirmation email's too). */
export const escapeHtml = (value: unknown): string => String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

function engine(html: boolean): Liquid {
  const liquid = new Liquid({
    strictFilters: true,
    strictVariables: true,
    ownPropertyOnly: true,
    // A template that loops for ever or builds a huge string stops instead of holding the chunk.
    renderLimit: 1_000,
    memoryLimit: 10_000_000,
    // Everything a template outputs in HTML is escaped unless it asks for `| raw`: a product name cannot inject markup.
    ...(html ? { outputEscape: escapeHtml } : {}),
  });
  for (const tag of ['include', 'render', 'layout']) liquid.registerTag(tag, FileTagRefused);
  return liquid;
}

const TEXT_ENGINE = engine(false);
const HTML_ENGINE = engine(true);
const engineFor = (part: string) => (part === 'html' ? HTML_ENGINE : TEXT_ENGINE);

/** LiquidJS's error without its own ", file:…, line:…, col:…" suffix (the file and line are said once, ours). */
function problemOf(err: unknown): { line?: number; problem: string } {
  const e = err as { message?: string; originalError?: { message?: string }; token?: { getPosition?: () => [number, number] } };
  const line = e.token?.getPosition?.()[0];
  const problem = (e.originalError?.message ?? e.message ?? String(err)).replace(/, (file:[^,]*, )?line:\d+, col:\d+$/, '');
  return line === undefined ? { problem } : { line, problem };
}

/** Variables a template names that {@link TemplateVariables} does not have: the first, with its line. */
function unknownVariable(liquid: Liquid, parsed: Template[]): { line: number; name: string } | undefined {
  for (const found of Object.values(liquid.analyzeSync(parsed, { partials: false }).globals).flat()) {
    const [root, field] = found.toArray();
    const fields = VARIABLES[root as keyof TemplateVariables];
    const known = root !== undefined && Object.hasOwn(VARIABLES, String(root)) && (field === undefined || (fields !== null && typeof field === 'string' && fields.includes(field)));
    if (!known) return { line: found.location.row, name: found.toString() };
  }
  return undefined;
}

/**
 * Parses and checks one template (pure but for the parse).
 * @throws TemplateError naming `file` and the line of the first problem.
 */
function compileTemplate(part: string, source: string, file: string): Template[] {
  const liquid = engineFor(part);
  let parsed: Template[];
  try {
    parsed = liquid.parse(source, file);
  } catch (err) {
    const { line, problem } = problemOf(err);
    throw new TemplateError(file, line, problem, { cause: err });
  }
  const unknown = unknownVariable(liquid, parsed);
  if (unknown) {
    throw new TemplateError(file, unknown.line, `unknown variable "${unknown.name}"; a template may use ${TEMPLATE_VARIABLE_NAMES.join(', ')}`);
  }
  return parsed;
}

type Compiled = { [C in Channel]: Record<TemplatePart<C>, Template[]> };

/** One language's templates, and the channels that speak it (a shop's new language may give only some). */
interface LanguageTemplates {
  compiled: Compiled;
  channels: ReadonlySet<Channel>;
}

/** The parts of channel `C`'s message as rendered. */
export type RenderedParts<C extends Channel> = Record<TemplatePart<C>, string>;

/** Every channel's templates in every language there is one for, parsed and checked. */
export class MessageTemplates {
  /** Languages with templates, the fallback first. */
  readonly languages: readonly string[];

  constructor(
    private readonly compiled: ReadonlyMap<string, LanguageTemplates>,
    /** The file of the shop's directory each part it replaced came from, by `<channel>/<language>/<part>`; a part not here is built in. */
    readonly origins: ReadonlyMap<string, string>,
  ) {
    this.languages = [...compiled.keys()];
  }

  /**
   * The template language for a BCP 47 locale on `channel`: its language
   * subtag if that channel's templates speak it, else the fallback (English).
   */
  language(locale: string | undefined, channel: Channel): string {
    const language = languageOf(locale);
    return this.compiled.get(language)?.channels.has(channel) ? language : this.languages[0]!;
  }

  /**
   * Renders every part of `channel`'s message in `language` (pure).
   * @throws when a template exceeds its render limits (a loop that does not end).
   */
  render<C extends Channel>(channel: C, language: string, variables: TemplateVariables): RenderedParts<C> {
    const own = this.compiled.get(language);
    const templates = (own?.channels.has(channel) ? own : this.compiled.get(this.languages[0]!)!).compiled[channel] as Record<string, Template[]>;
    const out: Record<string, string> = {};
    for (const part of TEMPLATE_PARTS[channel]) {
      const rendered = String(engineFor(part).renderSync(templates[part]!, { ...variables }));
      out[part] = DOCUMENTS.has(part) ? rendered : ONE_LINE.has(part) ? oneLine(rendered) : rendered.trim();
    }
    return out as RenderedParts<C>;
  }
}

/** The primary language subtag of a BCP 47 locale (`ja-JP`, `ja_JP` → `ja`), lower-cased; `''` for none (pure). */
export function languageOf(locale: string | undefined): string {
  return (locale ?? '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
}

/** Product names come from the inventory service: no line breaks in a subject (header injection) or a title. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, ' ').trim();
}

/** The product's name as a message shows it: on one line, null when the inventory service gave none or only blanks (pure). */
export function productNameOf(name: string | undefined): string | null {
  return oneLine(name ?? '') || null;
}

let builtinCompiled: ReadonlyMap<BuiltinTemplateLanguage, Compiled> | undefined;

/**
 * A fresh copy of the built-in templates of `language`, parsed once per
 * process: the parsed templates are shared (rendering never changes them),
 * the per-channel tables are the caller's to override.
 */
function builtinOf(language: BuiltinTemplateLanguage): Compiled {
  builtinCompiled ??= new Map(
    BUILTIN_TEMPLATE_LANGUAGES.map((l) => {
      const sources = BUILTIN_TEMPLATES[l];
      const out = {} as Record<Channel, Record<string, Template[]>>;
      for (const channel of CHANNELS) {
        out[channel] = {};
        for (const part of TEMPLATE_PARTS[channel]) out[channel][part] = compileTemplate(part, (sources[channel] as Record<string, string>)[part]!, `built-in ${channel}/${l}/${part}.liquid`);
      }
      return [l, out as Compiled] as const;
    }),
  );
  const parsed = builtinCompiled.get(language)!;
  return Object.fromEntries(CHANNELS.map((c) => [c, { ...parsed[c] }])) as Compiled;
}

let builtin: MessageTemplates | undefined;

/** The built-in templates alone (parsed once per process). */
export function builtinTemplates(): MessageTemplates {
  if (!builtin) {
    const compiled = new Map(BUILTIN_TEMPLATE_LANGUAGES.map((l) => [l as string, { compiled: builtinOf(l), channels: new Set(CHANNELS) }]));
    builtin = new MessageTemplates(compiled, new Map());
  }
  return builtin;
}

/** A language directory's name: a BCP 47 primary language subtag, as locales are matched by it. */
const LANGUAGE = /^[a-z]{2,3}$/;

function entries(dir: string, shown: string): string[] {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith('.'));
  } catch (err) {
    throw new TemplateError(shown, undefined, `cannot be read as a directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
}

const isDirectory = (path: string) => statSync(path).isDirectory();

/**
 * The templates for a deployment: the built-in ones, each part overridden by
 * `<dir>/<channel>/<language>/<part>.liquid` when the shop's directory has
 * it. A language the built-ins lack must have every part of each channel its
 * directory names; a channel left out falls back to English. Read and
 * checked once, at start.
 * @throws TemplateError naming the file (and line) of the first problem: an
 * unreadable directory, an unknown channel, language or part, a missing part,
 * a template that does not parse or names an unknown variable or filter.
 */
export function loadTemplates(dir: string | undefined): MessageTemplates {
  if (dir === undefined) return builtinTemplates();
  const compiled = new Map<string, { compiled: Compiled; channels: Set<Channel> }>(BUILTIN_TEMPLATE_LANGUAGES.map((l) => [l, { compiled: builtinOf(l), channels: new Set(CHANNELS) }]));
  const builtinLanguages: readonly string[] = BUILTIN_TEMPLATE_LANGUAGES;
  const origins = new Map<string, string>();
  const channels = new Set<string>(CHANNELS);
  for (const channel of entries(dir, dir)) {
    const channelDir = join(dir, channel);
    if (!isDirectory(channelDir)) continue; // a README beside the channels is the shop's business
    if (!channels.has(channel)) throw new TemplateError(channelDir, undefined, `is not a channel; the channels are ${CHANNELS.join(', ')}`);
    const c = channel as Channel;
    const parts: readonly string[] = TEMPLATE_PARTS[c];
    for (const language of entries(channelDir, channelDir)) {
      const languageDir = join(channelDir, language);
      if (!isDirectory(languageDir) || !LANGUAGE.test(language)) {
        throw new TemplateError(languageDir, undefined, 'is not a language directory: name it by the language subtag of the locales it serves (de, fr, ja: two or three lower-case letters)');
      }
      const files = entries(languageDir, languageDir);
      for (const file of files) {
        if (!parts.includes(file.replace(/\.liquid$/, '')) || !file.endsWith('.liquid')) {
          throw new TemplateError(join(languageDir, file), undefined, `is not a part of the ${c} message; its parts are ${parts.map((p) => `${p}.liquid`).join(', ')}`);
        }
      }
      if (!builtinLanguages.includes(language)) {
        const missing = parts.find((p) => !files.includes(`${p}.liquid`));
        if (missing) throw new TemplateError(join(languageDir, `${missing}.liquid`), undefined, `is missing: ${language} has no built-in templates, so every part of the ${c} message must be given`);
      }
      // A new language's channels the shop leaves out speak the fallback's (language() says so, too).
      if (!compiled.has(language)) compiled.set(language, { compiled: builtinOf(BUILTIN_TEMPLATE_LANGUAGES[0]), channels: new Set() });
      const entry = compiled.get(language)!;
      entry.channels.add(c);
      const target = entry.compiled as Record<Channel, Record<string, Template[]>>;
      for (const file of files) {
        const path = join(languageDir, file);
        const part = file.replace(/\.liquid$/, '');
        target[c][part] = compileTemplate(part, readFileSync(path, 'utf8'), path);
        origins.set(`${c}/${language}/${part}`, path);
      }
    }
  }
  return new MessageTemplates(compiled, origins);
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

/** What the templates of `n` are given (pure). */
export function templateVariables(n: Notification, language: string, unsubscribeUrl: string | undefined): TemplateVariables {
  const available = n.data.available as number | undefined;
  return {
    product: { id: n.data.productId, name: productNameOf(n.data.productName), url: safeLink(n.data.productUrl) ?? null },
    link: messageLink(n) ?? null,
    units: typeof available === 'number' && Number.isFinite(available) ? available : null,
    unsubscribe_url: unsubscribeUrl ?? null,
    locale: n.locale ?? null,
    language,
  };
}

/** The parts of a restock email. */
export interface RenderedEmail {
  language: string;
  subject: string;
  text: string;
  html: string;
}

/** The parts of a restock push notification (`push` or `webpush`). */
export interface RenderedPush {
  language: string;
  title: string;
  body: string;
  /** The product page, when it is an http(s) URL. */
  link?: string;
}

/**
 * The email for one notification. `unsubscribeUrl` is the one-click link also
 * carried in the List-Unsubscribe header; the body repeats it for people.
 */
export function renderEmail(n: Notification, unsubscribeUrl: string, templates: MessageTemplates = builtinTemplates()): RenderedEmail {
  const language = templates.language(n.locale, 'email');
  return { language, ...templates.render('email', language, templateVariables(n, language, unsubscribeUrl)) };
}

/** The push notification for one notification, by its channel's templates (`webpush`'s for a browser, else `push`'s). */
export function renderPush(n: Notification, templates: MessageTemplates = builtinTemplates(), unsubscribeUrl?: string): RenderedPush {
  const channel = n.channel === 'webpush' ? 'webpush' : 'push';
  const language = templates.language(n.locale, channel);
  const link = messageLink(n);
  const { title, body } = templates.render(channel, language, templateVariables(n, language, unsubscribeUrl));
  return { language, title, body, ...(link ? { link } : {}) };
}

/** The template language for a locale among `templates`' languages on `channel` (the built-in ones unless given). */
export function templateLanguage(locale: string | undefined, templates: MessageTemplates = builtinTemplates(), channel: Channel = 'email'): string {
  return templates.language(locale, channel);
}
