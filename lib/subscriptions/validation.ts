/**
 * Validation of what a client sends: path ids, the PUT body, query parameters.
 * Each function returns clean values or throws one {@link InvalidRequestError}
 * listing every offending field, so a client fixes all of them in one round.
 */
import { z } from 'zod';
import { CHANNEL_SPECS, CHANNELS, isValidDocumentId, type Channel, type ChannelAddresses } from '../model.ts';
import { InvalidRequestError, type FieldProblem } from '../http/index.ts';
import { allProblems } from '../validation.ts';
import { canonicalTimeZone } from '../send-window.ts';

/**
 * Longest id accepted, in UTF-8 bytes. Firestore allows 1,500; ids end up in
 * index entries of the collection-group index on `userId` and in every
 * ledger key, so a short cap keeps those small and rules out abuse.
 */
export const MAX_ID_BYTES = 256;

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** The problem with an id, or undefined when it is fine. */
export function idProblem(id: string): string | undefined {
  if (!isValidDocumentId(id)) {
    return "must be a Firestore document id: not empty, no '/', not '.' or '..', not of the form __name__";
  }
  if (Buffer.byteLength(id, 'utf8') > MAX_ID_BYTES) return `must be at most ${MAX_ID_BYTES} bytes of UTF-8`;
  if (CONTROL_CHARACTERS.test(id)) return 'must not contain control characters';
  return undefined;
}

/** Checks path ids by parameter name; throws {@link InvalidRequestError} naming each bad one. */
export function requireValidIds(ids: Record<string, string>): void {
  const problems: FieldProblem[] = [];
  for (const [parameter, id] of Object.entries(ids)) {
    const detail = idProblem(id);
    if (detail) problems.push({ parameter, detail });
  }
  if (problems.length > 0) throw new InvalidRequestError(problems);
}

/** What a PUT asks for, validated. `locale` is canonical BCP 47 (`en-us` becomes `en-US`). */
export interface SubscriptionRequest {
  channels: ChannelAddresses;
  locale?: string;
  /** The shopper's IANA time zone: their send window (RESTOCK_SEND_WINDOW) is read on its clock. */
  timeZone?: string;
  /** What the storefront says about the shopper's consent (lib/subscriptions/consent.ts). */
  consent?: ConsentClaim;
}

/** The `consent` of a PUT: the wording's version the shopper saw, and the channels whose address the storefront verified itself. */
export interface ConsentClaim {
  wording?: string;
  verified?: Channel[];
}

/** Longest wording version kept: a version string, not the wording itself. */
export const MAX_WORDING_LENGTH = 100;

const consentSchema = z.strictObject(
  {
    wording: z
      .string({ error: 'must be the version of the consent wording the shopper saw (a string)' })
      .min(1, { error: 'must not be empty' })
      .max(MAX_WORDING_LENGTH, { error: `must be at most ${MAX_WORDING_LENGTH} characters` })
      .regex(/^[\x20-\x7e]+$/, { error: 'must be printable ASCII' })
      .optional(),
    verified: z
      .array(z.enum(CHANNELS as [Channel, ...Channel[]], { error: `must name channels: ${CHANNELS.join(', ')}` }), { error: `must be a list of channels whose address the storefront verified: ${CHANNELS.join(', ')}` })
      .max(CHANNELS.length, { error: `must name each channel at most once` })
      .refine((list) => new Set(list).size === list.length, { error: 'must name each channel at most once' })
      .optional(),
  },
  { error: 'must be an object with `wording` and/or `verified`' },
);

/** Longest locale tag kept (RFC 5646 §4.4.1 recommends supporting at least 35). */
const MAX_LOCALE_LENGTH = 35;

function canonicalLocale(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

/** `a, b or c`: the table's channels in a sentence. */
const CHANNEL_CHOICE = CHANNELS.length === 1 ? CHANNELS[0] : `${CHANNELS.slice(0, -1).join(', ')} or ${CHANNELS.at(-1)}`;

/** Each channel's address as the channel table checks it (lib/channels.ts). */
const channelsSchema = z
  .strictObject(Object.fromEntries(CHANNELS.map((c) => [c, CHANNEL_SPECS[c].schema.optional()])) as unknown as Record<Channel, z.ZodOptional<z.ZodType<string>>>, {
    error: `must be an object with ${CHANNELS.map((c) => CHANNEL_SPECS[c].address).join(' and/or ')}`,
  })
  .refine((c) => CHANNELS.some((channel) => c[channel] !== undefined), {
    error: `must name at least one channel: ${CHANNEL_CHOICE}`,
  });

/**
 * The PUT body as zod checks it; also the source of the OpenAPI document's
 * `SubscriptionRequest` schema (`openapi.ts`), so the two cannot drift.
 */
export const subscriptionRequestSchema = z.strictObject({
  channels: channelsSchema,
  locale: z
    .string({ error: 'must be a BCP 47 language tag like en-US' })
    .max(MAX_LOCALE_LENGTH, { error: `must be at most ${MAX_LOCALE_LENGTH} characters` })
    .transform((tag, ctx) => {
      const canonical = canonicalLocale(tag);
      if (canonical === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be a BCP 47 language tag like en-US' });
        return z.NEVER;
      }
      return canonical;
    })
    .optional(),
  timeZone: z
    .string({ error: 'must be an IANA time zone like Europe/Berlin' })
    .transform((zone, ctx) => {
      const canonical = canonicalTimeZone(zone);
      if (canonical === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone like Europe/Berlin, America/New_York or UTC' });
        return z.NEVER;
      }
      return canonical;
    })
    .optional(),
  consent: consentSchema.optional(),
});

function pointer(path: readonly PropertyKey[]): string {
  return '#' + path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/**
 * The field problems of a failed zod parse, as JSON pointers: one per
 * offending field (the first check that failed, so an empty token is "must not
 * be empty" alone), and each unknown key named. The wording is lib/validation's.
 */
export function fieldProblems(error: z.ZodError, input: unknown): FieldProblem[] {
  const problems = allProblems(error, input).map((p) => ({ pointer: pointer(p.path), detail: p.problem }));
  return problems.filter((p, i) => problems.findIndex((q) => q.pointer === p.pointer) === i);
}

/**
 * Validates a PUT body (already parsed JSON). Unknown fields are refused so a
 * typo (`"emial"`) is not silently dropped. Throws {@link InvalidRequestError}.
 */
export function parseSubscriptionRequest(body: unknown): SubscriptionRequest {
  const parsed = subscriptionRequestSchema.safeParse(body);
  if (!parsed.success) throw new InvalidRequestError(fieldProblems(parsed.error, body));
  const { channels, locale, timeZone, consent } = parsed.data;
  return {
    channels: Object.fromEntries(CHANNELS.flatMap((c) => (channels[c] !== undefined ? [[c, channels[c]]] : []))) as ChannelAddresses,
    ...(locale !== undefined ? { locale } : {}),
    ...(timeZone !== undefined ? { timeZone } : {}),
    ...(consent !== undefined
      ? { consent: { ...(consent.wording !== undefined ? { wording: consent.wording } : {}), ...(consent.verified !== undefined ? { verified: consent.verified } : {}) } }
      : {}),
  };
}

/** ISO 4217 codes this runtime knows (Intl's list, current codes). */
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/** Largest order value accepted, in minor units: exact in a double and in Firestore's sums. */
export const MAX_VALUE_MINOR = Number.MAX_SAFE_INTEGER;

/** How far ahead of the server's clock an order's time may be (clock skew). */
export const MAX_PURCHASE_SKEW_MS = 5 * 60_000;

const apiId = (what: string) =>
  z.string({ error: `must be the ${what} (a string)` }).superRefine((id, ctx) => {
    const problem = idProblem(id);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * The body of `POST /v1/conversions`: one order of one product by one
 * shopper; also the source of the OpenAPI document's `ConversionRequest`.
 * The value is in the currency's minor units (an integer: 1999 is 19.99 USD,
 * 1999 JPY is ¥1,999), so sums are exact.
 */
export const conversionRequestSchema = z.strictObject({
  orderId: z
    .string({ error: 'must be the order id (a string)' })
    .min(1, { error: 'must not be empty' })
    .max(MAX_ID_BYTES, { error: `must be at most ${MAX_ID_BYTES} characters` })
    .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must not contain control characters' }),
  userId: apiId('shopper the subscription API knows'),
  productId: apiId('product the order is for'),
  valueMinor: z
    .number({ error: 'must be the amount in minor units (an integer, e.g. 1999 for 19.99 USD)' })
    .int({ error: 'must be a whole number of minor units (e.g. 1999 for 19.99 USD)' })
    .nonnegative({ error: 'must not be negative' })
    .max(MAX_VALUE_MINOR, { error: `must be at most ${MAX_VALUE_MINOR}` }),
  currency: z
    .string({ error: 'must be an ISO 4217 currency code like EUR' })
    .refine((c) => /^[A-Z]{3}$/.test(c) && CURRENCIES.has(c), { error: 'must be an ISO 4217 currency code in upper case, like EUR' }),
  purchasedAt: z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time with a time zone, like 2026-12-07T19:30:00Z' }),
});

/**
 * Validates a `POST /v1/conversions` body (already parsed JSON); an order
 * dated more than a few minutes ahead of the clock is refused.
 * @throws InvalidRequestError naming every bad field.
 */
export function parseConversionRequest(body: unknown, nowMs: number): { orderId: string; userId: string; productId: string; valueMinor: number; currency: string; purchasedAtMs: number } {
  const parsed = conversionRequestSchema.safeParse(body);
  if (!parsed.success) throw new InvalidRequestError(fieldProblems(parsed.error, body));
  const { purchasedAt, ...rest } = parsed.data;
  const purchasedAtMs = Date.parse(purchasedAt);
  if (purchasedAtMs > nowMs + MAX_PURCHASE_SKEW_MS) throw new InvalidRequestError([{ pointer: '#/purchasedAt', detail: 'must not be in the future' }]);
  return { ...rest, purchasedAtMs };
}

/** Query parameters as received: each name with all its values. */
export type QueryParams = ReadonlyMap<string, readonly string[]>;

/**
 * Refuses query parameters the route does not know, and repeated ones, so a
 * misspelt `page_size` is an error rather than a silently ignored option.
 * Returns each allowed parameter's single value.
 */
export function onlyKnownParams<K extends string>(query: QueryParams, allowed: readonly K[]): Partial<Record<K, string>> {
  const problems: FieldProblem[] = [];
  const out: Partial<Record<K, string>> = {};
  for (const [name, values] of query) {
    if (!(allowed as readonly string[]).includes(name)) {
      problems.push({
        parameter: name,
        detail: allowed.length > 0 ? `is not a known parameter; known: ${allowed.join(', ')}` : 'is not a known parameter; this route takes none',
      });
    } else if (values.length > 1) {
      problems.push({ parameter: name, detail: 'must be given once' });
    } else {
      out[name as K] = values[0];
    }
  }
  if (problems.length > 0) throw new InvalidRequestError(problems);
  return out;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `pageSize`: an integer 1–{@link MAX_PAGE_SIZE}, default {@link DEFAULT_PAGE_SIZE}. Throws {@link InvalidRequestError}. */
export function parsePageSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const n = /^\d{1,6}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PAGE_SIZE)) {
    throw new InvalidRequestError([{ parameter: 'pageSize', detail: `must be an integer from 1 to ${MAX_PAGE_SIZE}` }]);
  }
  return n;
}
