/**
 * The subscription API's OpenAPI 3.1 document, served at `GET /v1/openapi.json`.
 *
 * Schemas come from zod (`z.toJSONSchema`, JSON Schema 2020-12, which is
 * OpenAPI 3.1's dialect): the request body from the very schema that
 * validates it, the answers from schemas typed against the code's own
 * types. The paths are a small hand-kept table beside the router; the contract
 * test (test/integration/subscriptions/http-client.ts) checks every real
 * answer of the integration tests against this document, so a route or shape
 * the table forgets fails there.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX, type FieldProblem, type ProblemDetails } from '../http/index.ts';
import { CHANNELS, type Channel } from '../model.ts';
import { RETRY_AFTER_SECONDS } from './problems.ts';
import { conversionRequestSchema, DEFAULT_PAGE_SIZE, MAX_ID_BYTES, MAX_PAGE_SIZE, subscriptionRequestSchema } from './validation.ts';
import type { toConversionView } from './view.ts';
import type { PendingView, SubscriptionView } from './view.ts';

/** Where the document is served. */
export const OPENAPI_PATH = '/v1/openapi.json';

/** Seconds a client or proxy may reuse the document: it changes only with a deploy. */
export const OPENAPI_MAX_AGE_SECONDS = 300;

const channelEnum = z.enum(CHANNELS);
const consentMethodEnum = z.enum(['confirmed', 'storefront-verified', 'not-required']);

const consentSchema = z
  .strictObject({
    givenAtMs: z.int().nonnegative().describe('When the storefront asked (the PUT that carried the wish).'),
    storefront: z.string().describe('The caller that asked: a service account, `anonymous` on a local stack.'),
    wording: z.string().optional().describe('The version of the consent wording the shopper saw, as the storefront sent it.'),
    channels: z.strictObject(Object.fromEntries(CHANNELS.map((c) => [c, consentMethodEnum.optional()])) as Record<Channel, z.ZodOptional<typeof consentMethodEnum>>).describe('How each address is vouched for: `confirmed` (double opt-in), `storefront-verified`, `not-required`.'),
    confirmedAtMs: z.int().nonnegative().optional().describe('With double opt-in: when the shopper followed the link.'),
  })
  .describe('The consent record of a subscription.');

const subscriptionSchema = z
  .strictObject({
    productId: z.string(),
    userId: z.string(),
    channels: z.array(z.enum(CHANNELS)).describe('Channels with an address, in a fixed order; never the addresses themselves.'),
    locale: z.string().optional().describe('Canonical BCP 47 tag.'),
    timeZone: z.string().optional().describe("The shopper's IANA time zone: the send window is read on its clock."),
    createdAtMs: z.int().nonnegative().describe('Milliseconds since the epoch.'),
    updatedAtMs: z.int().nonnegative().describe('Milliseconds since the epoch; unchanged by a PUT that changes nothing.'),
    consent: consentSchema.optional().describe('Absent only on subscriptions written before consent records existed.'),
  })
  .describe('A subscription as the API shows it.');

const pendingSchema = z
  .strictObject({
    productId: z.string(),
    userId: z.string(),
    status: z.literal('pending'),
    channels: z.array(channelEnum),
    locale: z.string().optional(),
    timeZone: z.string().optional(),
    confirmChannel: channelEnum.describe('Where the confirmation message went.'),
    createdAtMs: z.int().nonnegative(),
    expiresAtMs: z.int().nonnegative().describe('When the request and its link expire unconfirmed (RESTOCK_CONFIRMATION_TTL_HOURS).'),
    consent: consentSchema,
  })
  .describe('A subscription waiting for its double opt-in confirmation: nobody is notified on it until the shopper follows the link.');

const shopperExportSchema = z
  .looseObject({
    userId: z.string(),
    exportedAtMs: z.int().nonnegative(),
    subscriptions: z.array(z.looseObject({ productId: z.string(), channels: z.looseObject({}) })).describe('Every subscription with its addresses and consent record.'),
    pendingConfirmations: z.array(z.looseObject({ productId: z.string() })),
    shopperRecord: z.looseObject({ productIds: z.array(z.string()) }).nullable(),
    notifications: z.array(z.looseObject({ eventKey: z.string(), productId: z.string(), channel: z.string(), state: z.string() })).describe('Every notification of the ledger: restock event, product, channel, state, when.'),
    rejectedEvents: z.array(z.looseObject({ eventKey: z.string() })),
  })
  .describe('Everything the pipeline holds about one shopper.');

const erasureReceiptSchema = z
  .looseObject({
    user: z.string().describe('The shopper as logs refer to them (a keyed hash).'),
    erasedAtMs: z.int().nonnegative(),
    counts: z.record(z.string(), z.int().nonnegative()),
    outside: z.array(z.string()).describe('Where personal data may remain outside the database until its own retention ends.'),
  })
  .describe('What an erasure removed; a second erasure answers zeros.');

const subscriptionPageSchema = z.strictObject({
  subscriptions: z.array(subscriptionSchema),
  nextPageToken: z.string().nullable().describe('Pass as `pageToken` for the next page; null on the last page.'),
});

const conversionSchema = z
  .strictObject({
    orderId: z.string(),
    userId: z.string(),
    productId: z.string(),
    valueMinor: z.int().nonnegative().describe('The amount in the currency\'s minor units.'),
    currency: z.string().describe('ISO 4217.'),
    purchasedAt: z.string().describe('RFC 3339, UTC.'),
    attribution: z.enum(['direct', 'assisted', 'unattributed']).describe('direct: the shopper followed a link of the notification credited; assisted: they were only told; unattributed: no notification of the product within RESTOCK_ATTRIBUTION_WINDOW_DAYS before the order.'),
    eventKey: z.string().optional().describe('The restock whose notification is credited.'),
    channel: channelEnum.optional(),
    wave: z.int().positive().optional(),
    notifiedAt: z.string().optional().describe('When that notification was sent, RFC 3339.'),
  })
  .describe('An order as recorded, with the notification it is attributed to.');

const productCountSchema = z.strictObject({
  productId: z.string(),
  count: z.int().nonnegative(),
});

const fieldProblemSchema = z
  .object({
    detail: z.string(),
    pointer: z.string().optional().describe('JSON Pointer into the body, as a URI fragment: `#/channels/email`.'),
    parameter: z.string().optional().describe('A path or query parameter: `userId`, `pageSize`.'),
    header: z.string().optional().describe('A request header, lower case: `content-type`.'),
  })
  .describe('One offending field.');

const problemSchema = z
  .looseObject({
    // The prefix has no regex metacharacters; escaping its ',' would be invalid in the 'u' mode validators use.
    type: z.string().regex(new RegExp(`^${PROBLEM_TYPE_PREFIX}[a-z0-9-]+$`)).describe(`A tag URI, \`${PROBLEM_TYPE_PREFIX}<name>\`; docs/api.md lists every name.`),
    title: z.string(),
    status: z.int().min(400).max(599),
    detail: z.string(),
    errors: z.array(fieldProblemSchema).optional(),
  })
  .describe('An RFC 9457 problem; extension members (`productId`, `limit`, `maxBytes`) say more where a type has them.');

// The document's schemas must describe what the code really returns: these fail to compile if a type drifts.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const viewMatches: Same<z.infer<typeof subscriptionSchema>, SubscriptionView> = true;
const pendingMatches: Same<z.infer<typeof pendingSchema>, PendingView> = true;
const conversionMatches: z.infer<typeof conversionSchema> extends ReturnType<typeof toConversionView> ? true : false = true;
const fieldProblemMatches: Same<z.infer<typeof fieldProblemSchema>, FieldProblem> = true;
const problemFits: z.infer<typeof problemSchema> extends Omit<ProblemDetails, 'errors'> ? true : false = true;
void [viewMatches, pendingMatches, conversionMatches, fieldProblemMatches, problemFits];

/**
 * The components' schemas, with a `$ref` where one uses another (the page's
 * subscriptions, the problem's fields), so generated clients name each type once.
 */
function componentSchemas(): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  registry.add(subscriptionRequestSchema, { id: 'SubscriptionRequest' });
  registry.add(subscriptionSchema, { id: 'Subscription' });
  registry.add(subscriptionPageSchema, { id: 'SubscriptionPage' });
  registry.add(consentSchema, { id: 'Consent' });
  registry.add(pendingSchema, { id: 'PendingSubscription' });
  registry.add(z.union([subscriptionSchema, pendingSchema]).describe('A subscription, or a request waiting for its confirmation (`status: pending`).'), { id: 'SubscriptionOrPending' });
  registry.add(shopperExportSchema, { id: 'ShopperExport' });
  registry.add(erasureReceiptSchema, { id: 'ErasureReceipt' });
  registry.add(productCountSchema, { id: 'ProductCount' });
  registry.add(conversionRequestSchema, { id: 'ConversionRequest' });
  registry.add(conversionSchema, { id: 'Conversion' });
  registry.add(fieldProblemSchema, { id: 'FieldProblem' });
  registry.add(problemSchema, { id: 'Problem' });
  const { schemas } = z.toJSONSchema(registry, { io: 'input', target: 'draft-2020-12', uri: (id) => `#/components/schemas/${id}` });
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
    out[id] = rest;
  }
  return out;
}

const ref = (kind: 'schemas' | 'responses' | 'parameters', name: string) => ({ $ref: `#/components/${kind}/${name}` });

const json = (schema: string) => ({ content: { 'application/json': { schema: ref('schemas', schema) } } });

/** The problems an operation may answer, besides the `default` every operation has. */
function problems(statuses: Record<number, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, description] of Object.entries(statuses)) {
    out[status] = { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('schemas', 'Problem') } } };
  }
  // Who may act for whom (docs/api.md): where storefront tenants are configured, every route checks the caller.
  out['401'] ??= { description: 'The caller is not identified (`caller-not-identified`).', content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('schemas', 'Problem') } } };
  out['403'] ??= { description: 'The caller may not act for this shopper (`caller-not-allowed`).', content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('schemas', 'Problem') } } };
  out['503'] = ref('responses', 'Unavailable');
  out.default = ref('responses', 'Problem');
  return out;
}

const idParameter = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  description: `${description} A Firestore document id: not empty, no '/', not '.' or '..', not \`__…__\`, at most ${MAX_ID_BYTES} bytes of UTF-8, no control characters; percent-encoded.`,
  schema: { type: 'string', minLength: 1, maxLength: MAX_ID_BYTES },
});

const INVALID = 'Invalid ids or query parameters (`invalid-request`).';
const BODY_PROBLEMS = {
  400: 'Invalid or unknown body fields, ids or parameters (`invalid-request`), a body that is not a JSON object (`malformed-json`), or one that does not match its encoding (`unreadable-body`).',
  409: 'The product is in stock (`product-in-stock`), or the shopper is at the cap (`subscription-limit-reached`, with `limit`).',
  413: 'The body is over the limit (`body-too-large`, with `maxBytes`).',
  415: '`Content-Type` is not `application/json` in UTF-8 (`unsupported-media-type`), or the `Content-Encoding` is unknown (`unsupported-encoding`).',
};

function buildDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.1',
    info: {
      title: 'Restock subscriptions',
      version: '1.0.0',
      summary: 'Puts shoppers on (and off) the waiting list of a sold-out product.',
      description:
        'Every error is an RFC 9457 `application/problem+json` answer naming the field at fault. ' +
        'In production only the storefront backends\' service accounts may call the API: send a Google-signed ID token whose audience is the function\'s URL.',
      // The package's licence (package.json, LICENSE): test/unit/docs/facts.test.ts compares them.
      license: { name: 'Apache License 2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'The host that serves this document.' }],
    security: [{ googleIdToken: [] }],
    tags: [
      { name: 'subscriptions', description: 'A shopper\'s subscriptions to sold-out products.' },
      { name: 'shoppers', description: 'A shopper\'s data, exported or erased on request.' },
      { name: 'conversions', description: 'Orders the storefront reports, attributed to the restock notifications that led to them.' },
      { name: 'meta', description: 'This document.' },
    ],
    paths: {
      '/v1/products/{productId}/subscriptions/{userId}': {
        parameters: [ref('parameters', 'productId'), ref('parameters', 'userId')],
        put: {
          operationId: 'putSubscription',
          tags: ['subscriptions'],
          summary: 'Subscribe a shopper to a sold-out product, or change the subscription',
          description:
            'Idempotent: the same PUT again changes nothing (not even `updatedAtMs`); a different one replaces channels and locale and keeps `createdAtMs`. ' +
            'Creating is refused while the product is in stock; a shopper holds a capped number of subscriptions. Bodies may be gzip, deflate or br encoded.',
          requestBody: { required: true, ...json('SubscriptionRequest') },
          responses: {
            201: {
              description: 'Created.',
              headers: { Location: { description: 'Path of the new subscription.', schema: { type: 'string' } } },
              ...json('Subscription'),
            },
            200: { description: 'Updated, or unchanged.', ...json('Subscription') },
            202: {
              description:
                'Pending its double opt-in confirmation (RESTOCK_DOUBLE_OPT_IN): a link went to the address on `confirmChannel`, by that channel\'s sender (an email, a push or web push notification that opens it), and nobody is notified until it is followed. The same PUT again sends nothing more.',
              ...json('PendingSubscription'),
            },
            ...problems({
              ...BODY_PROBLEMS,
              400: `${BODY_PROBLEMS[400]} Also a request with unvouched addresses on two double opt-in channels (\`invalid-request\` naming the second: one address is confirmed at a time), and a confirmation whose sender refused the address for good (\`confirmation-address-refused\`: a mail server's 5xx at RCPT TO, an unregistered push token, a gone web push subscription).`,
              429: 'The address was sent as many confirmation messages as it may receive today (`confirmation-rate-limited`, with `Retry-After`); nothing was kept.',
            }),
          },
        },
        get: {
          operationId: 'getSubscription',
          tags: ['subscriptions'],
          summary: 'Read one subscription',
          responses: {
            200: {
              description: 'The subscription, or the request waiting for its confirmation (`status: pending`).',
              ...json('SubscriptionOrPending'),
            },
            ...problems({ 400: INVALID, 404: 'No such subscription (`subscription-not-found`).' }),
          },
        },
        delete: {
          operationId: 'deleteSubscription',
          tags: ['subscriptions'],
          summary: 'Unsubscribe a shopper from a product',
          description: 'Idempotent: 204 whether or not the subscription existed. A request waiting for its confirmation is withdrawn too.',
          responses: { 204: { description: 'Gone.' }, ...problems({ 400: INVALID }) },
        },
      },
      '/v1/users/{userId}/subscriptions': {
        parameters: [ref('parameters', 'userId')],
        get: {
          operationId: 'listSubscriptionsOfUser',
          tags: ['subscriptions'],
          summary: 'List a shopper\'s subscriptions, by product id, a page at a time',
          parameters: [
            { name: 'pageSize', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE } },
            { name: 'pageToken', in: 'query', description: '`nextPageToken` of the previous page.', schema: { type: 'string' } },
          ],
          responses: {
            200: { description: 'One page.', ...json('SubscriptionPage') },
            ...problems({ 400: `${INVALID} Includes a page token of another user or a tampered one.` }),
          },
        },
      },
      '/v1/shoppers/{userId}': {
        parameters: [ref('parameters', 'userId')],
        get: {
          operationId: 'exportShopper',
          tags: ['shoppers'],
          summary: 'Export everything held about a shopper',
          description: 'Subscriptions with their addresses and consent records, pending confirmations, every notification of the ledger, rejected events that mention the shopper.',
          responses: { 200: { description: 'The export.', ...json('ShopperExport') }, ...problems({ 400: INVALID }) },
        },
        delete: {
          operationId: 'eraseShopper',
          tags: ['shoppers'],
          summary: 'Erase a shopper',
          description:
            'Removes every subscription and pending confirmation, the shopper record, and the user id and addresses everywhere else; keeps what deduplication needs (ledger keys and states), so a task retried afterwards sends nothing. Idempotent.',
          responses: { 200: { description: 'The receipt.', ...json('ErasureReceipt') }, ...problems({ 400: INVALID }) },
        },
      },
      '/v1/products/{productId}/subscriptions': {
        parameters: [ref('parameters', 'productId')],
        get: {
          operationId: 'countSubscriptionsOfProduct',
          tags: ['subscriptions'],
          summary: 'Count the shoppers waiting for a product',
          description: 'Only counts: a product\'s waiting shoppers are listed for fan-out, never for clients.',
          parameters: [{ name: 'count', in: 'query', required: true, schema: { const: 'true' } }],
          responses: {
            200: { description: 'The count.', ...json('ProductCount') },
            ...problems({ 400: `${INVALID} \`count\` must be \`true\`.` }),
          },
        },
      },
      '/v1/conversions': {
        post: {
          operationId: 'reportConversion',
          tags: ['conversions'],
          summary: 'Report an order, attributed to the latest notification of its product to its shopper',
          description:
            'Idempotent by `orderId`: the same order again answers 200 with what was recorded, changing nothing; the same id with other facts is a conflict. ' +
            'The order is credited to the latest notification of the product to the shopper sent within RESTOCK_ATTRIBUTION_WINDOW_DAYS before `purchasedAt`: `direct` if the shopper followed its link, else `assisted`; otherwise `unattributed` (recorded all the same).',
          requestBody: { required: true, ...json('ConversionRequest') },
          responses: {
            200: { description: 'The order had been reported with the same facts.', ...json('Conversion') },
            201: { description: 'Recorded.', ...json('Conversion') },
            ...problems({
              ...BODY_PROBLEMS,
              409: 'The order id was reported before with other facts (`conversion-conflict`, naming the field).',
            }),
          },
        },
      },
      [OPENAPI_PATH]: {
        get: {
          operationId: 'getOpenApiDocument',
          tags: ['meta'],
          summary: 'This document',
          description: `Cacheable for ${OPENAPI_MAX_AGE_SECONDS} s, with an \`ETag\`: send \`If-None-Match\` to get 304.`,
          responses: {
            200: {
              description: 'The OpenAPI 3.1 document.',
              headers: { ETag: { description: 'Changes whenever the document does.', schema: { type: 'string' } } },
              content: { 'application/json': { schema: { type: 'object' } } },
            },
            304: { description: 'Not modified since the `If-None-Match` ETag.' },
            ...problems({ 400: 'Query parameters given (`invalid-request`); this route takes none.' }),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        googleIdToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'A Google-signed ID token for the function\'s URL, checked by Cloud Run before the request arrives (local stacks take none).',
        },
      },
      parameters: {
        productId: idParameter('productId', 'The product.'),
        userId: idParameter('userId', 'The shopper.'),
      },
      schemas: (() => {
        const schemas = componentSchemas();
        schemas.SubscriptionRequest!.description =
          'At least one channel; `locale` is a BCP 47 tag, stored canonical (`en-us` becomes `en-US`); `timeZone` is the shopper\'s IANA time zone, stored in the runtime\'s spelling (`europe/berlin` becomes `Europe/Berlin`), whose clock the send window (RESTOCK_SEND_WINDOW) is read on. Unknown fields are refused.';
        return schemas;
      })(),
      responses: {
        Problem: {
          description: 'Any other error: no such route (`not-found`), a wrong method (`method-not-allowed`, with `Allow`), or an unexpected failure (`internal`).',
          content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('schemas', 'Problem') } },
        },
        Unavailable: {
          description: 'Firestore is unavailable or contended (`unavailable`); retry after `Retry-After` seconds.',
          headers: { 'Retry-After': { description: `Seconds to wait; ${RETRY_AFTER_SECONDS}.`, schema: { type: 'integer' } } },
          content: { [PROBLEM_CONTENT_TYPE]: { schema: ref('schemas', 'Problem') } },
        },
      },
    },
  };
}

/** The document, its serialised form and its ETag, built once. */
export interface OpenApiDocument {
  document: Record<string, unknown>;
  json: string;
  etag: string;
}

let built: OpenApiDocument | undefined;

/**
 * The subscription API's OpenAPI 3.1 document. Pure and cached: built from
 * the zod schemas on first use.
 */
export function openApiDocument(): OpenApiDocument {
  if (!built) {
    const document = buildDocument();
    const json = JSON.stringify(document);
    built = { document, json, etag: `"${createHash('sha256').update(json).digest('base64url').slice(0, 27)}"` };
  }
  return built;
}
