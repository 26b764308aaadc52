/**
 * Every setting of the pipeline, its default and its validation, in one place.
 *
 * Settings come from the environment (Cloud Functions sets them from Terraform;
 * the local stack from `emulators/`). They are parsed once per process by
 * {@link loadConfig}; a bad value stops the process at start with a message
 * naming the variable, instead of failing on the first event.
 *
 * The configuration table in docs/configuration.md is generated from {@link SETTINGS}
 * (`npm run config:table`), so this file is the single source of truth.
 */
import { z } from 'zod';
import { CHANNEL_SPECS, CHANNELS, MAX_CHUNK_SIZE, SENDER_SUMMARY, senderEnv, type Channel, type SenderKind, type SenderOf } from './channels.ts';
import type { FunctionName } from './functions.ts';
import { LEDGER_SHARDS } from './model.ts';
import { isValidTimeZone, parseSendWindow, type SendWindow } from './send-window.ts';

/**
 * The pipeline's own Firestore database. Its root collections have generic names
 * (`products`, ...) that an adopter's `(default)` database may already use.
 */
export const DEFAULT_FIRESTORE_DATABASE = 'restock-fanout';

const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = z.url({ protocol: /^https?$/ });
const hostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'expected host:port');
const firestoreDatabaseId = z.string().regex(/^(\(default\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$/, 'a Firestore database id: 4-63 lowercase letters, digits and hyphens, starting with a letter, or (default)');
/** A Cloud Tasks queue id; 96 characters leave room for a delivery shard's `-<n>` suffix. */
const queueId = z.string().regex(/^[A-Za-z0-9-]{1,96}$/, 'a Cloud Tasks queue id: letters, digits and hyphens, at most 96');
/** Most delivery queues one deployment spreads chunks over (Cloud Tasks allows 1,000 queues a project). */
export const MAX_DELIVERY_QUEUES = 100;
const pubsubId = z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/, 'a Pub/Sub resource id: 3–255 characters, starting with a letter');

/** One storefront's scope: its service account and the prefix of the user ids it may act for (`*`: every id). */
export interface StorefrontTenant {
  account: string;
  prefix: string;
}

const TENANT_PREFIX = /^(\*|[^\s,=/]{1,64})$/;

/** `account=prefix,account=prefix`: each storefront service account with its tenant prefix of user ids. */
const storefrontTenants = z
  .string()
  .optional()
  .transform((raw, ctx): StorefrontTenant[] | undefined => {
    if (raw === undefined) return undefined;
    const tenants: StorefrontTenant[] = [];
    for (const [i, entry] of raw.split(',').map((e) => e.trim()).filter(Boolean).entries()) {
      const [account = '', prefix = '', ...rest] = entry.split('=').map((x) => x.trim());
      const problem = !z.email().safeParse(account).success
        ? 'does not start with a service account email'
        : rest.length > 0 || !TENANT_PREFIX.test(prefix)
          ? 'needs one prefix after "=": 1-64 characters without spaces, ",", "=" or "/", or * for every id'
          : tenants.some((t) => t.account === account.toLowerCase())
            ? 'names a service account already listed'
            : undefined;
      if (problem) {
        ctx.addIssue({ code: 'custom', message: `entry ${i + 1} ${problem}; expected account@project.iam.gserviceaccount.com=prefix,...` });
        return z.NEVER;
      }
      tenants.push({ account: account.toLowerCase(), prefix });
    }
    const overlap = overlappingPrefixes(tenants);
    if (overlap) {
      ctx.addIssue({
        code: 'custom',
        message: `prefixes ${JSON.stringify(overlap[0])} and ${JSON.stringify(overlap[1])} overlap: a user id may start with both, so one storefront could act for the other's shoppers; make neither a prefix of the other (e.g. end each with "-"), and give * only to a storefront that is alone`,
      });
      return z.NEVER;
    }
    return tenants;
  });

/**
 * Two tenant prefixes one user id can start with (one is a prefix of the
 * other, or either is `*`), or undefined when every pair is disjoint. Pure.
 */
export function overlappingPrefixes(tenants: readonly StorefrontTenant[]): [string, string] | undefined {
  for (const [i, a] of tenants.entries()) {
    for (const b of tenants.slice(i + 1)) {
      if (a.prefix === '*' || b.prefix === '*' || a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix)) {
        return a.prefix.length <= b.prefix.length ? [a.prefix, b.prefix] : [b.prefix, a.prefix];
      }
    }
  }
  return undefined;
}

/** Fewest bytes of one key of a key setting (an HMAC-SHA256 key: 256 bits). */
export const MIN_KEY_BYTES = 32;

/**
 * A comma-separated list of keys: the first signs, every one verifies
 * (rotation). Each key at least {@link MIN_KEY_BYTES} bytes; an empty key
 * (`a,,b`, a trailing comma) is refused rather than skipped, since it shows a
 * setting assembled wrongly. Messages name a key by its position, never its text.
 */
const keyList = z.string().transform((raw, ctx): string[] => {
  const keys = raw.split(',').map((k) => k.trim());
  for (const [i, key] of keys.entries()) {
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes < MIN_KEY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `key ${i + 1} of ${keys.length} is ${bytes === 0 ? 'empty' : `${bytes} bytes`}; each comma-separated key must be at least ${MIN_KEY_BYTES} bytes (generate one with \`openssl rand -base64 32\`)`,
      });
      return z.NEVER;
    }
  }
  return keys;
});

/** `RESTOCK_DOUBLE_OPT_IN`: comma-separated channels of the table, or `none`. */
const doubleOptInChannels = z.string().transform((raw, ctx): Channel[] => {
  const names = raw.split(',').map((c) => c.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const out: Channel[] = [];
  for (const name of names) {
    if (!(CHANNELS as readonly string[]).includes(name)) {
      ctx.addIssue({ code: 'custom', message: `names ${JSON.stringify(name)}; expected channels among ${CHANNELS.join(', ')}, comma-separated, or none` });
      return z.NEVER;
    }
    if (!out.includes(name as Channel)) out.push(name as Channel);
  }
  return out;
});

/** One setting: the environment variable, what it means, its default, its schema. */
export interface Setting<T> {
  env: string;
  description: string;
  /** Default as the environment would spell it; undefined means "unset by default". */
  default?: string;
  schema: z.ZodType<T>;
  /**
   * Holds a secret (a key, a password, a token): a refusal says only its
   * length, never the value, since the error reaches the logs.
   */
  secret?: true;
}

function setting<T>(env: string, schema: z.ZodType<T>, description: string, def?: string): Setting<T> {
  return def === undefined ? { env, schema, description } : { env, schema, description, default: def };
}

/** A setting that holds a secret (see {@link Setting.secret}); secrets have no default. */
function secretSetting<T>(env: string, schema: z.ZodType<T>, description: string): Setting<T> {
  return { env, schema, description, secret: true };
}

/** One sender setting per channel of the table (lib/channels.ts): `emailSender` is RESTOCK_EMAIL_SENDER. */
type ChannelSenderSettings = { [C in Channel as `${C}Sender`]: Setting<SenderOf<C> | undefined> };

function channelSenderSettings(): ChannelSenderSettings {
  const entries = CHANNELS.map((c) => {
    const senders = CHANNEL_SPECS[c].senders;
    const choices = senders.map((k) => `\`${k}\` (${SENDER_SUMMARY[k]})`).join(', ');
    return [`${c}Sender`, setting(senderEnv(c), z.enum(senders).optional(), `Sender of the \`${c}\` channel: ${choices}; unset follows RESTOCK_NOTIFIER.`)];
  });
  return Object.fromEntries(entries) as ChannelSenderSettings;
}

/**
 * The table of settings. Keys are the names used in code; `env` is the variable.
 * Defaults are chosen for production; the local stack overrides what it must.
 */
export const SETTINGS = {
  projectId: setting('GOOGLE_CLOUD_PROJECT', z.string().min(1), 'Google Cloud project id (the local stack uses `restock-local`).', 'restock-local'),
  firestoreDatabase: setting(
    'RESTOCK_FIRESTORE_DATABASE',
    firestoreDatabaseId,
    "Firestore database that holds the pipeline's collections (`products`, `fanouts`, `deliveries`, `rejectedEvents`): a database of its own, so they never mix with an existing app's (Terraform creates it).",
    DEFAULT_FIRESTORE_DATABASE,
  ),

  // Cloud Tasks
  tasksLocation: setting('RESTOCK_TASKS_LOCATION', z.string().min(1), 'Region of the Cloud Tasks queue.', 'us-central1'),
  tasksQueue: setting('RESTOCK_TASKS_QUEUE', queueId, 'Delivery queue: with RESTOCK_TASKS_QUEUE_COUNT = 1 the one queue that carries delivery chunks; with more, the first of them (the others are `<name>-1` ... `<name>-<count-1>`).', 'restock-deliveries'),
  tasksQueueCount: setting('RESTOCK_TASKS_QUEUE_COUNT', positiveInt.max(MAX_DELIVERY_QUEUES), `Delivery queues the chunks are spread over (1 to ${MAX_DELIVERY_QUEUES}), each chunk's queue chosen from its task id, so one queue's 500 dispatches/s is not the ceiling. Keep equal to Terraform's \`delivery_queue_count\` (docs/queues.md).`, '1'),
  continuationQueue: setting('RESTOCK_CONTINUATION_QUEUE', queueId, 'Queue of the fan-out continuation tasks: a queue of its own, so a continuation never waits behind the delivery backlog.', 'restock-continuations'),
  tasksEmulatorHost: setting('CLOUD_TASKS_EMULATOR_HOST', hostPort.optional(), 'host:port of the Cloud Tasks emulator; unset in production.'),
  firestoreEmulatorHost: setting('FIRESTORE_EMULATOR_HOST', hostPort.optional(), 'host:port of the Firestore emulator (read by the Firestore client). Set means "on the emulators": the refusals that protect production are relaxed (see docs/faults-and-hostile-input.md).'),
  deliveryUrl: setting('RESTOCK_DELIVERY_URL', url, 'URL of the `deliverRestockBatch` function: the HTTP target of delivery tasks.', 'http://127.0.0.1:8082/'),
  fanoutUrl: setting('RESTOCK_FANOUT_URL', url, 'URL of the `fanOutRestock` function: the target of fan-out continuation tasks.', 'http://127.0.0.1:8081/'),
  tasksServiceAccount: setting('RESTOCK_TASKS_SERVICE_ACCOUNT', z.email().optional(), 'Service account whose OIDC token Cloud Tasks attaches to each task; unset sends no token.'),
  deliveryMaxAttempts: setting('RESTOCK_DELIVERY_MAX_ATTEMPTS', positiveInt, "The queue's max attempts: on the last one, deliveries still failing become `exhausted`. Keep equal to the queue's retry_config.max_attempts.", '10'),

  // Fan-out
  restockThreshold: setting('RESTOCK_THRESHOLD', nonNegativeInt, 'A restock is previous <= threshold < available.', '0'),
  maxSequenceJump: setting('RESTOCK_MAX_SEQUENCE_JUMP', positiveInt, "Largest step an event's sequence may take over the product's stored one; a larger jump is ignored (recorded, visible in `restock status`) instead of freezing the product. The default, 10^13, passes any millisecond timestamp until the year 2286 (so a product first counted from 1, then by time, still moves) and refuses a leap towards 2^53. Repair with `restock product reset-stock`.", '10000000000000'),
  pageSize: setting('RESTOCK_PAGE_SIZE', positiveInt.max(10_000), 'Subscribers read per Firestore page (fan-out memory is proportional to this).', '1000'),
  chunkSize: setting(
    'RESTOCK_CHUNK_SIZE',
    positiveInt.max(MAX_CHUNK_SIZE),
    `Recipients per delivery task (at most ${MAX_CHUNK_SIZE}: a chunk's ledger claims, one per recipient and each of the ${CHANNELS.length} channels, and its receipt fit one Firestore commit of 500 writes).`,
    '100',
  ),
  enqueueConcurrency: setting('RESTOCK_ENQUEUE_CONCURRENCY', positiveInt.max(500), 'createTask calls in flight per fan-out.', '16'),
  fanoutLeaseMs: setting('RESTOCK_FANOUT_LEASE_MS', positiveInt, 'How long a fan-out claim lasts without a checkpoint before another attempt may take over.', '60000'),
  checkpointIntervalMs: setting('RESTOCK_CHECKPOINT_INTERVAL_MS', nonNegativeInt, 'Minimum time between checkpoints of one fan-out (keeps its document under ~1 write/s).', '1000'),
  pubsubMaxDeliveryAttempts: setting(
    'RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS',
    positiveInt.min(5).max(100),
    "The push subscription's dead-letter `max_delivery_attempts` (5..100): on that delivery of an event (the push body's `deliveryAttempt`), a fan-out that cannot finish ends `failed` instead of staying `running` behind a dead letter. Keep equal to the subscription's (Terraform passes both from `pubsub_max_delivery_attempts`).",
    '10',
  ),
  fanoutTimeBudgetMs: setting('RESTOCK_FANOUT_TIME_BUDGET_MS', positiveInt, 'After this long, a fan-out hands over to a continuation task (keep below the function timeout).', '480000'),
  fanoutRangeTarget: setting('RESTOCK_FANOUT_RANGE_TARGET', positiveInt, 'Subscribers per key range: after its first chunk, a fan-out splits the rest of the audience into about audience / this ranges, each paged by its own continuation chain in parallel (docs/how-it-works.md "Key ranges").', '50000'),
  fanoutMinRanges: setting('RESTOCK_FANOUT_MIN_RANGES', positiveInt.max(64), 'Fewest key ranges a fan-out with more than one page left splits into (1: small audiences page in one chain, as before ranges).', '1'),
  fanoutMaxRanges: setting('RESTOCK_FANOUT_MAX_RANGES', positiveInt.max(64), 'Most key ranges one fan-out splits into (1 turns ranges off). Each is a chain of its own on the queue and the fan-out function.', '16'),

  // Stock-limited waves (docs/waves.md); a product's own values, set through its inventory events, win
  waveMultiplier: setting(
    'RESTOCK_WAVE_MULTIPLIER',
    z.coerce.number().nonnegative().max(1_000),
    'Shoppers told per unit in stock, oldest sign-up first, in waves (ceil(multiplier × available) per wave). 0 tells everyone at once (waves off).',
    '0',
  ),
  waveIntervalMs: setting('RESTOCK_WAVE_INTERVAL_MS', positiveInt.max(30 * 86_400_000), 'Time from the end of one wave to the start of the next (a Cloud Tasks scheduleTime; at most 30 days).', '600000'),
  minAvailableToNotify: setting('RESTOCK_MIN_AVAILABLE_TO_NOTIFY', positiveInt, 'With waves on: a wave starts only while at least this many units are in stock; below it the restock stops.', '1'),

  // Delivery
  sendConcurrency: setting('RESTOCK_SEND_CONCURRENCY', positiveInt.max(100), 'Notifier calls in flight per chunk.', '4'),
  notifyBatchSize: setting('RESTOCK_NOTIFY_BATCH_SIZE', positiveInt.max(1_000), 'Notifications per notifier call.', '100'),
  deliveryLeaseMs: setting('RESTOCK_DELIVERY_LEASE_MS', positiveInt, 'How long a claimed delivery stays `sending` before a retry may send it again.', '120000'),
  ledgerShards: setting(
    'RESTOCK_LEDGER_SHARDS',
    positiveInt.max(LEDGER_SHARDS),
    `Shards a fan-out's ledger entries spread over (1..${LEDGER_SHARDS}): the field that leads the ledger's event indexes, so one event's writes are not one new key range (Firestore's 500/50/5 ramp-up; docs/performance.md). Recorded on each fan-out, which its queries then use. Fewer shards mean fewer queries per count (one per 30 shards and state), and the Firestore emulator, which scans the collection once per value of an \`in\`, answers fast: the local stack runs with 1.`,
    String(LEDGER_SHARDS),
  ),
  // Send windows (docs/send-windows.md): nobody is told outside the hours of their own day
  sendWindow: setting(
    'RESTOCK_SEND_WINDOW',
    z
      .string()
      .optional()
      .transform((raw, ctx): SendWindow | undefined => {
        if (raw === undefined || raw.trim() === '') return undefined;
        try {
          return parseSendWindow(raw);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
    "Hours of the shopper's own day in which they may be told, `HH:MM-HH:MM` in 24-hour local time (`08:00-21:00`; may cross midnight: `21:00-08:00`). A recipient outside it is held (`held`) and told when it opens, after a fresh stock check. Unset: any hour.",
  ),
  defaultTimeZone: setting(
    'RESTOCK_DEFAULT_TIME_ZONE',
    z.string().refine(isValidTimeZone, 'must be an IANA time zone this runtime knows, e.g. Europe/Berlin or UTC'),
    "IANA time zone of a shopper whose subscription carries no `timeZone`: the send window is read on its clock.",
    'UTC',
  ),
  ledgerTtlDays: setting('RESTOCK_LEDGER_TTL_DAYS', positiveInt, 'Days a delivery ledger entry, and a rejected event, is kept (Firestore TTL on `expireAt`).', '30'),

  // Notifier
  notifier: setting(
    'RESTOCK_NOTIFIER',
    z.enum(['http', 'log']),
    "Sender of every channel whose own RESTOCK_<CHANNEL>_SENDER is unset: `http` calls the notification service; `log` only logs, and is refused outside the emulators (it would record notifications as sent that nobody received). A deployment that sets every channel's sender to a direct one never uses it, and needs no RESTOCK_NOTIFIER_URL.",
    'http',
  ),
  notifierUrl: setting('RESTOCK_NOTIFIER_URL', url.optional(), 'Base URL of the notification service, its path kept (`https://api.example.com/notify/` posts to `/notify/v1/notifications:send`); required when a channel\'s sender is `http`; https outside the emulators.'),
  notifierToken: secretSetting('RESTOCK_NOTIFIER_TOKEN', z.string().min(1).optional(), 'Bearer token for the notification service (from Secret Manager in production).'),
  notifierSendUserId: setting(
    'RESTOCK_NOTIFIER_SEND_USER_ID',
    bool,
    "Send each notification's `userId` to the notification service, so it can look up the shopper's preferences and attribute the message (docs/notification-service.md). `false` for a service that must not learn who the shopper is: it then gets only the address.",
    'true',
  ),
  notifierTimeoutMs: setting('RESTOCK_NOTIFIER_TIMEOUT_MS', positiveInt, 'Timeout of one notifier call.', '10000'),
  notifierRetries: setting('RESTOCK_NOTIFIER_RETRIES', nonNegativeInt.max(10), 'In-call retries of a notifier batch on 429/5xx/timeouts before the chunk is left to Cloud Tasks.', '2'),
  notifierMaxRetryAfterMs: setting('RESTOCK_NOTIFIER_MAX_RETRY_AFTER_MS', nonNegativeInt, 'Longest Retry-After the notifier waits in-call; longer waits are left to Cloud Tasks.', '5000'),

  // Channels: which sender carries each channel (docs/channels.md)
  ...channelSenderSettings(),
  smtpHost: setting('RESTOCK_SMTP_HOST', z.string().min(1).optional(), 'SMTP submission server (required with `smtp`).'),
  smtpPort: setting('RESTOCK_SMTP_PORT', positiveInt.max(65_535), 'SMTP port: 587 with STARTTLS, 465 with RESTOCK_SMTP_SECURE=true.', '587'),
  smtpSecure: setting('RESTOCK_SMTP_SECURE', bool, 'TLS from the first byte (port 465); false upgrades with STARTTLS.', 'false'),
  smtpRequireTls: setting('RESTOCK_SMTP_REQUIRE_TLS', bool, 'Refuse to send unless STARTTLS succeeds (never set false in production).', 'true'),
  smtpUser: setting('RESTOCK_SMTP_USER', z.string().min(1).optional(), 'SMTP AUTH user; unset sends without AUTH.'),
  smtpPassword: secretSetting('RESTOCK_SMTP_PASSWORD', z.string().min(1).optional(), 'SMTP AUTH password (from Secret Manager in production).'),
  smtpMaxConnections: setting('RESTOCK_SMTP_MAX_CONNECTIONS', positiveInt.max(100), 'Pooled SMTP connections per instance.', '5'),
  smtpTimeoutMs: setting('RESTOCK_SMTP_TIMEOUT_MS', positiveInt, 'Connection and per-command timeout of the SMTP client.', '10000'),
  emailFrom: setting('RESTOCK_EMAIL_FROM', z.string().min(3).optional(), 'From header of restock emails, e.g. `Shop <restock@mail.example.com>` (required with `smtp`).'),
  dkimDomain: setting('RESTOCK_DKIM_DOMAIN', z.string().min(1).optional(), 'DKIM signing domain (d=); signing is on when a key is set.'),
  dkimSelector: setting('RESTOCK_DKIM_SELECTOR', z.string().min(1).optional(), 'DKIM selector (s=); required with a DKIM key.'),
  dkimPrivateKey: secretSetting('RESTOCK_DKIM_PRIVATE_KEY', z.string().min(1).optional(), 'DKIM private key, PEM (from Secret Manager in production).'),
  templatesDir: setting(
    'RESTOCK_TEMPLATES_DIR',
    z.string().min(1).optional(),
    "Directory of the shop's message templates, `<channel>/<language>/<part>.liquid` (Liquid; docs/channels.md \"Templates a shop edits\"): each file replaces that part of the built-in template, a new language directory adds a language. Read and checked once when the delivery function starts, which refuses to start on a template that does not parse, names an unknown variable or filter, or misses a part, naming the file and line. A relative path is read from the function's working directory (Terraform's `templates_dir` ships the files in the function's source). Unset: the built-in templates (English, Japanese).",
  ),
  unsubscribeUrl: setting('RESTOCK_UNSUBSCRIBE_URL', url.optional(), 'Public base URL of the `restockUnsubscribe` function; emails link `<base>/v1/unsubscribe/{token}` (required with `smtp`).'),
  unsubscribeSecret: secretSetting(
    'RESTOCK_UNSUBSCRIBE_SECRET',
    keyList.optional(),
    'Keys of unsubscribe tokens, comma-separated, each at least 32 bytes (`openssl rand -base64 32`): the first seals new tokens, all open them (rotation). From Secret Manager in production.',
  ),
  unsubscribeTokenMaxAgeDays: setting(
    'RESTOCK_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS',
    positiveInt.max(3_650),
    "Days an unsubscribe link keeps working after its email was sent. 180: well past CAN-SPAM's 30 days and a shopper's habit of finding an old mail months later; a link only ever removes the subscription generation it was made for, so a long life costs little.",
    '180',
  ),
  clickTracking: setting(
    'RESTOCK_CLICK_TRACKING',
    bool,
    "Every message's product link goes through the public function's `/v1/c/{token}`, which counts the shopper's click and redirects to the product (needs RESTOCK_UNSUBSCRIBE_URL and RESTOCK_UNSUBSCRIBE_SECRET; without them links stay untracked). false links the product URL directly.",
    'true',
  ),
  clickTokenMaxAgeDays: setting(
    'RESTOCK_CLICK_TOKEN_MAX_AGE_DAYS',
    positiveInt.max(3_650),
    'Days a tracked product link keeps working after its message was sent; an older one shows a page saying so, never a redirect.',
    '90',
  ),
  clickPrefetchSeconds: setting(
    'RESTOCK_CLICK_PREFETCH_SECONDS',
    nonNegativeInt.max(3_600),
    'A GET of a tracked link this soon after its message was sent is a mail gateway scanning it, not a shopper: redirected, never counted (as are HEAD and scanner User-Agents; docs/funnel.md).',
    '5',
  ),
  clickUtmSource: setting(
    'RESTOCK_CLICK_UTM_SOURCE',
    z.string().regex(/^[\w.~-]{1,64}$/, 'letters, digits, `.`, `_`, `~` or `-`, at most 64'),
    '`utm_source` a followed link adds to the product URL, with `utm_medium` (the channel) and `utm_campaign` (the event key); `none` adds no UTM parameters.',
    'restock',
  ),
  attributionWindowDays: setting(
    'RESTOCK_ATTRIBUTION_WINDOW_DAYS',
    positiveInt.max(365),
    'An order is attributed to the latest notification of its product to its shopper sent this many days before it (direct if clicked, else assisted); older or none: unattributed. Keep it below RESTOCK_LEDGER_TTL_DAYS, the notifications it looks for live that long.',
    '7',
  ),
  shopperActionsTopic: setting(
    'RESTOCK_SHOPPER_ACTIONS_TOPIC',
    pubsubId,
    'Topic the public `restockUnsubscribe` publishes what a shopper asked for (an unsubscribe) to; `applyShopperActions` is pushed from it and applies it, so the public function needs no database access.',
    'shopper-actions',
  ),
  fcmProjectId: setting('RESTOCK_FCM_PROJECT_ID', z.string().min(1).optional(), 'Firebase project that owns the push tokens (defaults to GOOGLE_CLOUD_PROJECT).'),
  fcmEndpoint: setting('RESTOCK_FCM_ENDPOINT', url, 'Base URL of the FCM HTTP v1 API (the local stack points it at its stand-in).', 'https://fcm.googleapis.com'),
  fcmCredentials: setting('RESTOCK_FCM_CREDENTIALS', z.enum(['adc', 'none']), '`adc`: OAuth token of the function\'s service account (Application Default Credentials); `none` only for the local stand-in.', 'adc'),
  fcmConcurrency: setting('RESTOCK_FCM_CONCURRENCY', positiveInt.max(500), 'FCM v1 requests in flight per notifier call (the v1 API takes one message a request).', '20'),
  webpushVapidPublicKey: setting(
    'RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY',
    z.string().regex(/^[A-Za-z0-9_-]{87}$/, { error: 'must be a VAPID public key: 65 bytes of P-256 point, base64url (`npx web-push generate-vapid-keys`)' }).optional(),
    "The application server's VAPID public key (RFC 8292), base64url: the one the storefront's `pushManager.subscribe({ applicationServerKey })` used (required with `webpush`).",
  ),
  webpushVapidPrivateKey: secretSetting(
    'RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY',
    z.string().regex(/^[A-Za-z0-9_-]{43}$/, { error: 'must be a VAPID private key: 32 bytes, base64url' }).optional(),
    'The VAPID private key matching RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY (required with `webpush`); from Secret Manager in production.',
  ),
  webpushSubject: setting(
    'RESTOCK_WEBPUSH_SUBJECT',
    z.string().regex(/^(mailto:[^\s]+@[^\s]+|https:\/\/[^\s]+)$/, { error: 'must be a mailto: address or an https: URL (RFC 8292 `sub`)' }).optional(),
    "Who push services contact about this sender (the VAPID JWT's `sub`): a `mailto:` address or an `https:` URL (required with `webpush`).",
  ),
  webpushTtlSeconds: setting(
    'RESTOCK_WEBPUSH_TTL_SECONDS',
    nonNegativeInt.max(2_419_200),
    'How long a push service keeps a message for a browser that is offline (the `TTL` header, RFC 8030 §5.2): a day, since a restock told later may be sold out again.',
    '86400',
  ),
  webpushUrgency: setting('RESTOCK_WEBPUSH_URGENCY', z.enum(['very-low', 'low', 'normal', 'high']), 'The `Urgency` header (RFC 8030 §5.3): `high` wakes a sleeping device, `normal` waits for it to be on.', 'normal'),
  webpushConcurrency: setting('RESTOCK_WEBPUSH_CONCURRENCY', positiveInt.max(500), 'Web push requests in flight per notifier call (one request a message).', '20'),

  // Who may call fan-out and delivery
  verifyOidc: setting('RESTOCK_VERIFY_OIDC', bool, 'Verify the Cloud Tasks OIDC token on `deliverRestockBatch` and on fan-out continuations. Off is refused outside the emulators.', 'true'),
  verifyPushOidc: setting('RESTOCK_VERIFY_PUSH_OIDC', bool, "Verify the Pub/Sub push subscription's OIDC token on `fanOutRestock` events. The local stack turns it off (the Pub/Sub emulator sends no token); off is refused outside the emulators.", 'true'),
  pushServiceAccount: setting('RESTOCK_PUSH_SERVICE_ACCOUNT', z.email().optional(), "Service account of the push subscription's OIDC token: the only caller `fanOutRestock` accepts events from (required outside the emulators)."),
  oidcAudience: setting('RESTOCK_OIDC_AUDIENCE', z.string().min(1).optional(), 'Expected `aud` of the token: on `deliverRestockBatch` (defaults to RESTOCK_DELIVERY_URL) and on `restockSubscriptions` (defaults to any URL of its Cloud Run service, K_SERVICE).'),
  oidcIssuers: setting('RESTOCK_OIDC_ISSUERS', z.string().min(1), 'Comma-separated accepted issuers.', 'https://accounts.google.com,accounts.google.com'),
  oidcJwksUrl: setting('RESTOCK_OIDC_JWKS_URL', url, 'Where the token signing keys are published (https outside the emulators).', 'https://www.googleapis.com/oauth2/v3/certs'),
  behindCloudRunIam: setting(
    'RESTOCK_BEHIND_CLOUD_RUN_IAM',
    bool,
    "The function is deployed with Cloud Run's IAM check on (no `allUsers` invoker, as `terraform/` deploys it). Cloud Run verifies each caller's token and hands it on with its signature replaced by `SIGNATURE_REMOVED_BY_GOOGLE`; with this on, such a token's claims (issuer, audience, expiry, caller) are checked without the signature. Never turn it on for a function anyone may invoke.",
    'false',
  ),
  taskSigningKeys: secretSetting(
    'RESTOCK_TASK_SIGNING_KEYS',
    keyList.optional(),
    'HMAC-SHA256 keys of task bodies, comma-separated, each at least 32 bytes (`openssl rand -base64 32`): fan-out (and `restock redrive`) signs every task with the first, `deliverRestockBatch` and fan-out continuations accept a body only if one of them verifies it, so a forged token alone delivers nothing. Required outside the emulators. From Secret Manager in production; the local stack makes one per stack.',
  ),
  oidcAllowedEmails: setting('RESTOCK_OIDC_ALLOWED_EMAILS', z.string().optional(), 'Comma-separated service accounts allowed to call delivery (defaults to RESTOCK_TASKS_SERVICE_ACCOUNT).'),

  // Subscriptions API
  maxSubscriptionsPerUser: setting('RESTOCK_MAX_SUBSCRIPTIONS_PER_USER', positiveInt, 'Active subscriptions one shopper may hold; live pending requests (double opt-in) take places too.', '50'),
  storefrontTenants: setting(
    'RESTOCK_STOREFRONT_TENANTS',
    storefrontTenants,
    'Scopes each storefront to a tenant: `sa@project.iam.gserviceaccount.com=eu-,...` lets that service account act only for user ids starting with `eu-` (`*`: every id, for a storefront that is alone) and refuses unlisted callers (403). Prefixes may not overlap (`shop1` and `shop10` are refused). Required outside the emulators (deny by default); unset on the emulators, every caller may act for every shopper.',
  ),
  doubleOptIn: setting(
    'RESTOCK_DOUBLE_OPT_IN',
    doubleOptInChannels,
    "Channels whose address a shopper must confirm (double opt-in) unless the storefront vouches for it (`consent.verified` in the PUT): such a subscription is stored pending, a confirmation message with a link goes out by the channel's own sender (SMTP, the notification service, FCM, web push: the one RESTOCK_<CHANNEL>_SENDER chooses), and nobody is notified before the link is followed. Any channel may be named, comma-separated (`email,push,webpush`); `none` turns it off.",
    'email',
  ),
  confirmationTtlHours: setting(
    'RESTOCK_CONFIRMATION_TTL_HOURS',
    z.coerce.number().positive().max(720, 'must be at most 720 (30 days)'),
    'Hours a pending subscription waits for its confirmation; its link works as long. Then it is gone (reads ignore it, Firestore TTL deletes it).',
    '72',
  ),
  confirmationsPerAddress: setting(
    'RESTOCK_CONFIRMATIONS_PER_ADDRESS',
    positiveInt.max(100),
    'Confirmation messages one address (an email address, a push token, a web push subscription) may receive per UTC day, whoever asks; over it a PUT is answered 429 and nothing is sent.',
    '3',
  ),
  maxBodyBytes: setting('RESTOCK_MAX_BODY_BYTES', positiveInt, 'Largest request body any HTTP entry point accepts.', '65536'),

  // Outbox relay (the publishing side: lib/outbox, docs/outbox.md)
  outboxTopic: setting('RESTOCK_OUTBOX_TOPIC', z.string().regex(/^[A-Za-z][\w.~+%-]{2,254}$/, 'a Pub/Sub topic id'), 'Topic the outbox relay publishes `inventory.updated` to.', 'inventory-updated'),
  outboxCollection: setting('RESTOCK_OUTBOX_COLLECTION', z.string().regex(/^[^/]+$/, 'a top-level collection id'), 'Firestore collection of the outbox rows.', 'outbox'),
  outboxPublishWaitMs: setting('RESTOCK_OUTBOX_PUBLISH_WAIT_MS', positiveInt.max(10_000), 'Longest a stock update waits on the fast-path publish after its commit (promise 12); the sweep publishes what did not make it.', '250'),
  outboxPublishTimeoutMs: setting('RESTOCK_OUTBOX_PUBLISH_TIMEOUT_MS', positiveInt, 'Timeout of one publish attempt of one row (keep well below RESTOCK_OUTBOX_LEASE_MS).', '10000'),
  outboxLeaseMs: setting('RESTOCK_OUTBOX_LEASE_MS', positiveInt, 'How long a relay holds a claimed row; a relay that dies holding one delays it this long.', '60000'),
  outboxMaxAttempts: setting('RESTOCK_OUTBOX_MAX_ATTEMPTS', positiveInt.max(1_000), 'Failed publishes of a row before it becomes `failed` (redrivable with `restock outbox redrive`).', '20'),
  outboxBackoffMinMs: setting('RESTOCK_OUTBOX_BACKOFF_MIN_MS', positiveInt, 'Wait after the first failed publish of a row; doubles each time.', '1000'),
  outboxBackoffMaxMs: setting('RESTOCK_OUTBOX_BACKOFF_MAX_MS', positiveInt, 'Longest wait between publish attempts of a row.', '300000'),
  outboxBatchSize: setting('RESTOCK_OUTBOX_BATCH_SIZE', positiveInt.max(500), 'Rows a sweep claims per transaction (at most 500: one Firestore commit).', '100'),
  outboxSweepBudgetMs: setting('RESTOCK_OUTBOX_SWEEP_BUDGET_MS', positiveInt, 'How long one sweep keeps claiming batches (keep below the relay function timeout).', '45000'),
  outboxSentTtlDays: setting('RESTOCK_OUTBOX_SENT_TTL_DAYS', positiveInt, 'Days a sent outbox row is kept (Firestore TTL on `expireAt`).', '7'),
  // Where the outbox lives: the inventory service's own database (docs/outbox.md "Where the outbox lives")
  outboxBackend: setting('RESTOCK_OUTBOX_BACKEND', z.enum(['firestore', 'spanner']), "Database kind of the inventory service's outbox that `relayOutbox` and `restock outbox` read: `firestore` or `spanner`.", 'firestore'),
  outboxProjectId: setting('RESTOCK_OUTBOX_PROJECT', z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'a Google Cloud project id').optional(), "Project of the outbox's database (the inventory service's); unset: GOOGLE_CLOUD_PROJECT."),
  outboxFirestoreDatabase: setting('RESTOCK_OUTBOX_FIRESTORE_DATABASE', firestoreDatabaseId.optional(), "Firestore database of the outbox (and the inventory items) with `firestore`; unset: RESTOCK_FIRESTORE_DATABASE, the pipeline's own. The local stand-in uses `inventory`."),
  outboxSpannerInstance: setting('RESTOCK_OUTBOX_SPANNER_INSTANCE', z.string().regex(/^[a-z][a-z0-9-]{0,62}[a-z0-9]$/, 'a Spanner instance id: 2-64 lowercase letters, digits and hyphens, starting with a letter').optional(), 'Spanner instance of the outbox (required with `spanner`).'),
  outboxSpannerDatabase: setting('RESTOCK_OUTBOX_SPANNER_DATABASE', z.string().regex(/^[a-z][a-z0-9_-]{0,28}[a-z0-9]$/, 'a Spanner database id: 2-30 lowercase letters, digits, hyphens and underscores, starting with a letter').optional(), 'Spanner database of the outbox, holding the `Outbox` table of SPANNER_OUTBOX_DDL (required with `spanner`).'),
  outboxSpannerDatabaseRole: setting(
    'RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE',
    z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,127}$/, 'a Spanner database role: a letter, then letters, digits and underscores, at most 128').optional(),
    "Spanner database role the relay opens the outbox's database as (fine-grained access control: the role may only read and update the `Outbox` table, docs/outbox.md); unset opens it with the account's own database-level rights.",
  ),
  // The ops CLI (restock); no function reads these
  topic: setting('RESTOCK_TOPIC', pubsubId, 'Topic `restock publish` and `restock dead-letters replay` publish to (CLI only).', 'inventory-updated'),
  deadLetterSubscription: setting('RESTOCK_DEAD_LETTER_SUBSCRIPTION', pubsubId, 'Pull subscription on the dead-letter topic that `restock dead-letters` reads (CLI only).', 'inventory-updated-dead-letter'),

  // Metrics (lib/metrics, docs/metrics.md)
  metricsExporter: setting(
    'RESTOCK_METRICS_EXPORTER',
    z.enum(['none', 'file', 'cloud-monitoring']),
    'Where the functions export their OpenTelemetry metrics: `cloud-monitoring` (as `workload.googleapis.com/restock.*`), `file` (one JSON snapshot a line in RESTOCK_METRICS_DIR; the local stack) or `none`.',
    'cloud-monitoring',
  ),
  metricsDir: setting('RESTOCK_METRICS_DIR', z.string().min(1), 'Directory of `<function>.jsonl` with the `file` exporter.', '.local/metrics'),
  metricsExportIntervalMs: setting(
    'RESTOCK_METRICS_EXPORT_INTERVAL_MS',
    z.coerce.number().int().min(1_000, 'must be at least 1000'),
    'How often metrics are exported (and the least time between two flushes at the end of requests). Cloud Monitoring refuses points of one series less than 5 s apart; such exports are skipped.',
    '60000',
  ),

  pseudonymKey: secretSetting(
    'RESTOCK_PSEUDONYM_KEY',
    keyList.optional(),
    "Key of the keyed hash (HMAC-SHA256) that stands for a user id in logs, erasure receipts and erased ledger entries, and for an address in the confirmation limit's documents, at least 32 bytes: without it a plain hash of a guessable id (an email) could be reversed by trying candidates. Every function that logs user ids and the CLI need the same one for `restock trace` to match logs (Terraform mounts it from Secret Manager, docs/privacy.md); unset, a built-in key is used, which those functions accept only on the emulators. Only the first key is used.",
  ),
  logLevel: setting('LOG_LEVEL', z.enum(['debug', 'info', 'warn', 'error']), 'Lowest severity written.', 'info'),
} as const;

type Settings = typeof SETTINGS;
/**
 * The parsed configuration: one typed field per entry of {@link SETTINGS},
 * and what the platform says about the process (not settings: nobody sets them).
 */
export type Config = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never } & PlatformFacts;

/** What Cloud Run tells the process, read with the settings. */
export interface PlatformFacts {
  /**
   * `K_SERVICE`: the Cloud Run service that receives the requests (a gen2
   * function's service is its name in lower case). A token Cloud Run
   * stripped of its signature (RESTOCK_BEHIND_CLOUD_RUN_IAM) is accepted only
   * when its audience is a URL of this service, and none where it is unset;
   * the subscription API takes this service's URL as its audience unless
   * RESTOCK_OIDC_AUDIENCE is set. Unset off Cloud Run.
   */
  cloudRunService?: string | undefined;
}

/** A setting is missing or malformed. `variable` names it; the message says what is expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}: ${problem}`, options);
  }
}

/**
 * Parses every setting from `env`. Throws {@link ConfigError} naming the first
 * bad variable. Pure: pass an object in tests, `process.env` otherwise.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(SETTINGS) as [string, Setting<unknown>][]) {
    const given = env[s.env] === '' ? undefined : env[s.env];
    const raw = given ?? s.default;
    const parsed = s.schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      if (raw === undefined) throw new ConfigError(s.env, 'is required', { cause: parsed.error });
      // A secret's value never reaches the message, nor the cause (zod's issues may carry the input).
      if (s.secret) throw new ConfigError(s.env, `${issue?.message ?? 'invalid'} (got a value of ${raw.length} characters)`);
      throw new ConfigError(s.env, `${issue?.message ?? 'invalid'} (got ${JSON.stringify(raw)})`, { cause: parsed.error });
    }
    out[key] = parsed.data;
  }
  const service = env.K_SERVICE?.trim();
  if (service) out.cloudRunService = service;
  const config = out as unknown as Config;
  if (config.fanoutMinRanges > config.fanoutMaxRanges) {
    throw new ConfigError('RESTOCK_FANOUT_MIN_RANGES', `must be at most RESTOCK_FANOUT_MAX_RANGES (${config.fanoutMaxRanges}), got ${config.fanoutMinRanges}`);
  }
  // The notifications an order is attributed to are ledger entries: a window longer than they live would find none.
  if (config.attributionWindowDays > config.ledgerTtlDays) {
    throw new ConfigError('RESTOCK_ATTRIBUTION_WINDOW_DAYS', `must be at most RESTOCK_LEDGER_TTL_DAYS (${config.ledgerTtlDays}), got ${config.attributionWindowDays}`);
  }
  // Requirements that only one function has (the notifier URL for delivery)
  // are checked where that function builds what needs them, so the other
  // functions and the CLI start without them.
  return config;
}

let cached: Config | undefined;

/** The process's configuration, parsed from `process.env` on first use. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Forget the cached configuration (tests that change `process.env`). */
export function resetConfigForTests(): void {
  cached = undefined;
}

/**
 * Whether this process works on the emulators (Firestore's, which holds
 * every shopper's data): only there may the protections below be relaxed.
 */
export function onEmulators(config: Pick<Config, 'firestoreEmulatorHost'>): boolean {
  return config.firestoreEmulatorHost !== undefined;
}

/** Service accounts whose tokens delivery (and fan-out continuations) accept: the allow list, else the tasks service account. */
export function taskCallers(config: Pick<Config, 'oidcAllowedEmails' | 'tasksServiceAccount'>): string[] {
  const allowed = list(config.oidcAllowedEmails);
  return allowed.length > 0 ? allowed : list(config.tasksServiceAccount);
}

/** The functions, by the name each registers under. */
export type { FunctionName } from './functions.ts';

/**
 * The functions that refer to shoppers by {@link SETTINGS.pseudonymKey}'s keyed hash (lib/log.ts
 * `recipientRef`): Terraform mounts the key into exactly these (terraform/locals.tf).
 */
export const PSEUDONYMISING_FUNCTIONS: readonly FunctionName[] = ['restockSubscriptions', 'restockUnsubscribe', 'applyShopperActions'];

/**
 * What would leave `fn` open, or lose notifications, outside the emulators:
 * each problem names its variable. Empty on the emulators, where nothing real
 * is at stake and the local stack relaxes what it cannot provide (the Pub/Sub
 * emulator signs no push tokens). Pure.
 */
export function deploymentProblems(config: Config, fn: FunctionName): ConfigError[] {
  if (onEmulators(config)) return [];
  const problems: ConfigError[] = [];
  const refuse = (s: Setting<unknown>, problem: string) => problems.push(new ConfigError(s.env, problem));
  const httpsOnly = (value: string | undefined) => value === undefined || value.startsWith('https:');
  if (fn === 'fanOutRestock' || fn === 'deliverRestockBatch') {
    if (!config.verifyOidc) refuse(SETTINGS.verifyOidc, 'must be true outside the emulators: without it anyone allowed to invoke the function can forge tasks');
    if (taskCallers(config).length === 0) {
      refuse(SETTINGS.oidcAllowedEmails, `names no service account and ${SETTINGS.tasksServiceAccount.env} is unset: any Google-signed token for the audience would be accepted`);
    }
    if (!httpsOnly(config.oidcJwksUrl)) refuse(SETTINGS.oidcJwksUrl, 'must be an https: URL outside the emulators (keys fetched in clear can be replaced)');
    if (!config.taskSigningKeys?.length) {
      refuse(SETTINGS.taskSigningKeys, 'is required outside the emulators: task bodies are signed and verified with it, so a forged caller token alone cannot deliver anything');
    }
  }
  if (fn === 'fanOutRestock') {
    if (!config.verifyPushOidc) refuse(SETTINGS.verifyPushOidc, 'must be true outside the emulators: without it any invoker can forge restock events');
    if (!config.pushServiceAccount) refuse(SETTINGS.pushServiceAccount, "is required outside the emulators: the push subscription's service account, the only caller accepted for events");
  }
  if (fn === 'applyShopperActions') {
    if (!config.verifyPushOidc) refuse(SETTINGS.verifyPushOidc, 'must be true outside the emulators: without it any invoker can forge unsubscribe requests');
    if (!config.pushServiceAccount) refuse(SETTINGS.pushServiceAccount, "is required outside the emulators: the push subscription's service account, the only caller accepted");
  }
  if (PSEUDONYMISING_FUNCTIONS.includes(fn) && !config.pseudonymKey?.length) {
    refuse(SETTINGS.pseudonymKey, 'is required outside the emulators: this function refers to shoppers by a keyed hash (logs, erasure receipts), and the built-in key is public, so anyone could match a guessed user id against its lines');
  }
  if (fn === 'restockSubscriptions') {
    // Confirmations go the way of the channel's notifications; `log` would answer "sent" for a message nobody received.
    const plan = channelPlan(config);
    for (const channel of config.doubleOptIn.filter((c) => plan[c] === 'log')) {
      refuse(SETTINGS.doubleOptIn, `names ${channel}, whose sender is \`log\` (${senderChooser(config, channel)}): a confirmation would be logged, never received; choose a real sender for ${channel} or leave it out of ${SETTINGS.doubleOptIn.env}`);
    }
    // The API sends the confirmations itself: their senders travel under the same rules as delivery's.
    transportProblems(config, new Set(config.doubleOptIn.map((c) => plan[c])), refuse);
    if (!config.storefrontTenants || config.storefrontTenants.length === 0) {
      refuse(
        SETTINGS.storefrontTenants,
        "is required outside the emulators: name each storefront's service account with the prefix of the user ids it acts for (`sa@project.iam.gserviceaccount.com=*` for a storefront that is alone); unset would let every invoker, project Owners and Editors included, act for every shopper",
      );
    }
    if (!config.behindCloudRunIam) refuse(SETTINGS.behindCloudRunIam, "must be true outside the emulators: Cloud Run's IAM check hands on each caller's token without its signature, and only this setting lets such a token name the caller");
    if (!httpsOnly(config.oidcJwksUrl)) refuse(SETTINGS.oidcJwksUrl, 'must be an https: URL outside the emulators (keys fetched in clear can be replaced)');
  }
  if (fn === 'deliverRestockBatch') {
    // Only the senders some channel uses: a deployment sending every channel directly needs no notification service.
    const plan = channelPlan(config);
    for (const chooser of new Set(CHANNELS.filter((c) => plan[c] === 'log').map((c) => senderChooser(config, c)))) {
      problems.push(new ConfigError(chooser, '`log` is refused outside the emulators: it records notifications as sent that nobody received'));
    }
    transportProblems(config, sendersInUse(config), refuse);
  }
  return problems;
}

/** What would carry addresses, tokens or credentials in clear through the senders `used` (pure). */
function transportProblems(config: Config, used: ReadonlySet<SenderKind>, refuse: (s: Setting<unknown>, problem: string) => void): void {
  const httpsOnly = (value: string | undefined) => value === undefined || value.startsWith('https:');
  if (used.has('http') && !httpsOnly(config.notifierUrl)) refuse(SETTINGS.notifierUrl, 'must be an https: URL outside the emulators (addresses and push tokens travel in it)');
  if (used.has('smtp') && !config.smtpRequireTls) refuse(SETTINGS.smtpRequireTls, 'must be true outside the emulators: without STARTTLS, addresses, messages and the SMTP password travel in clear');
  if (used.has('fcm') && !httpsOnly(config.fcmEndpoint)) refuse(SETTINGS.fcmEndpoint, "must be an https: URL outside the emulators (the function's OAuth token and the push tokens travel in it)");
}

/** Which sender carries each channel. */
export type ChannelPlan = { [C in Channel]: SenderOf<C> | 'http' | 'log' };

/** The sender of each channel as configured: its own RESTOCK_<CHANNEL>_SENDER, else RESTOCK_NOTIFIER (pure). */
export function channelPlan(config: Config): ChannelPlan {
  return Object.fromEntries(CHANNELS.map((c) => [c, config[`${c}Sender`] ?? config.notifier])) as ChannelPlan;
}

/** The variable that chose a channel's sender: its own, or RESTOCK_NOTIFIER when it follows that (pure). */
export function senderChooser(config: Config, channel: Channel): string {
  return config[`${channel}Sender`] !== undefined ? senderEnv(channel) : SETTINGS.notifier.env;
}

/** The senders a deployment needs: each distinct sender of {@link channelPlan} (pure). */
export function sendersInUse(config: Config): Set<SenderKind> {
  return new Set(Object.values(channelPlan(config)));
}

/** Audience expected on delivery tokens. */
export function deliveryAudience(config: Config): string {
  return config.oidcAudience ?? config.deliveryUrl;
}

/** Full resource name of queue `queueId` (the first delivery queue when omitted). */
export function queuePath(config: Pick<Config, 'projectId' | 'tasksLocation' | 'tasksQueue'>, queueId: string = config.tasksQueue): string {
  return `projects/${config.projectId}/locations/${config.tasksLocation}/queues/${queueId}`;
}

/** Splits a comma-separated setting into trimmed non-empty items. */
export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The table of settings in docs/configuration.md, in Markdown: variable, default, meaning. */
export function settingsTable(): string {
  const rows = Object.values(SETTINGS as Record<string, Setting<unknown>>).map(
    (s) => `| \`${s.env}\` | ${s.default === undefined ? '(unset)' : `\`${s.default}\``} | ${s.description}${s.secret ? ' Secret: a refused value is described only by its length.' : ''} |`,
  );
  return ['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
