/**
 * The channels, in one table the compiler checks ({@link CHANNEL_SPECS}).
 * `Channel` is the table's keys, so adding an entry extends it, and every
 * `Record<Channel, …>` elsewhere (the senders' builders, the renderers, the
 * sink's contract) stops compiling until the new channel has its part there.
 *
 * What derives from it: the subscription body's schema and its OpenAPI
 * document (lib/subscriptions), the stored subscription's shape and its
 * reading (lib/model, the store), the per-channel sender settings
 * (`RESTOCK_<CHANNEL>_SENDER`, lib/config), the router (lib/notify), the
 * dead-address lookup and its Firestore index (lib/delivery, terraform/
 * firestore.tf, compared by a test), the log scrubber's redacted keys
 * (lib/log), the local sink's contract, and the largest chunk
 * ({@link MAX_CHUNK_SIZE}).
 *
 * Pure data and zod only: every concern may import it, it imports none.
 */
import { z } from 'zod';

/** A sender: how a channel's message leaves. `http` is the notification service; `log` only logs (emulators only). */
export type SenderKind = 'http' | 'log' | 'smtp' | 'fcm' | 'webpush';

/** What each sender is, in one line, for the settings table and errors. */
export const SENDER_SUMMARY: Readonly<Record<SenderKind, string>> = {
  smtp: 'direct, over SMTP',
  fcm: 'direct, Firebase Cloud Messaging HTTP v1',
  webpush: 'direct, Web Push (RFC 8030, aes128gcm payloads, VAPID)',
  http: 'the notification service at RESTOCK_NOTIFIER_URL',
  log: 'only logs; refused outside the emulators',
};

/** What the table says of one channel. */
export interface ChannelSpec {
  /** One line for docs and errors: what the address is. */
  address: string;
  /**
   * The address as the subscription API accepts it, and the string it is
   * stored as (a structured address, such as a web push subscription, is
   * stored as its canonical JSON, so equal subscriptions are equal strings for
   * the ledger, the dead-address lookup and erasure): each check's message
   * names the problem (the field is named by the caller).
   */
  schema: z.ZodType<string>;
  /** Senders that may carry this channel; the first is its direct one (no notification service). */
  senders: readonly [SenderKind, ...SenderKind[]];
  /**
   * Whether a sender can find an address of this channel dead for every
   * product (an unregistered push token), so the address is looked up across
   * the shopper's other subscriptions: that lookup needs a collection-group
   * index on `channels.<channel>` (terraform/firestore.tf; a test compares).
   */
  deadAddressLookup: boolean;
  /** The process of the local stack that stands in for the direct sender's provider (emulators/). */
  standIn: string;
}

/** RFC 5321 caps a forward path at 256 octets including the angle brackets. */
const MAX_EMAIL_LENGTH = 254;
/** FCM tokens are ~160 characters, APNs tokens 64 hex digits; this leaves room for others. */
const MAX_PUSH_TOKEN_LENGTH = 4096;

/**
 * A browser's web push endpoint (RFC 8030): the push service's URL for one
 * subscription. Real ones are 150–400 characters; the cap keeps the stored
 * JSON under the 1,500 bytes Firestore indexes of a string (the dead-address
 * lookup queries it).
 */
const MAX_WEBPUSH_ENDPOINT_LENGTH = 1024;

/** Hosts an `http:` endpoint may name: only the local stand-in's (emulators/webpush); real push services are https. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Unpadded base64url decoding to exactly `bytes` bytes, as `PushSubscription.toJSON()` gives keys. */
function base64urlOf(bytes: number, what: string, check: (decoded: Buffer) => boolean = () => true) {
  return z
    .string({ error: `must be ${what} (a base64url string)` })
    .regex(/^[A-Za-z0-9_-]+$/, { error: `must be base64url (A-Z a-z 0-9 - _, no padding): ${what}` })
    .refine((s) => {
      const decoded = Buffer.from(s, 'base64url');
      return decoded.length === bytes && check(decoded);
    }, { error: `must decode to ${what}` });
}

/**
 * A browser's `PushSubscription` as its `toJSON()` gives it: the endpoint
 * (https; http only on a loopback host, for the local stand-in), the
 * subscription's P-256 public key and its 16-byte auth secret (RFC 8291).
 * Stored as its canonical JSON (key order fixed, `expirationTime` dropped).
 */
const webPushSubscriptionSchema = z
  .strictObject(
    {
      endpoint: z
        .url({ error: 'must be the push service URL of the subscription (an https: URL)' })
        .max(MAX_WEBPUSH_ENDPOINT_LENGTH, { error: `must be at most ${MAX_WEBPUSH_ENDPOINT_LENGTH} characters` })
        .refine((u) => {
          // zod runs this check even when the URL check failed: an unparsable string is that check's problem, not a throw here.
          const url = URL.canParse(u) ? new URL(u) : undefined;
          return url === undefined || url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
        }, { error: 'must be an https: URL (push services are https; http: only on a loopback host, for the local stand-in)' }),
      keys: z.strictObject(
        {
          p256dh: base64urlOf(65, 'an uncompressed P-256 public key of 65 bytes', (k) => k[0] === 0x04),
          auth: base64urlOf(16, 'an auth secret of 16 bytes'),
        },
        { error: 'must be an object with `p256dh` and `auth` (the subscription\'s keys)' },
      ),
      expirationTime: z.number({ error: 'must be a number of milliseconds or null' }).nullable().optional(),
    },
    { error: 'must be a browser PushSubscription: { endpoint, keys: { p256dh, auth } }' },
  )
  .transform(({ endpoint, keys }) => JSON.stringify({ endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } }));

/** A stored web push address (the canonical JSON of {@link webPushSubscriptionSchema}). */
export interface WebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** The subscription a stored `webpush` address holds (what the sender needs). */
export function parseWebPushAddress(address: string): WebPushSubscription {
  return JSON.parse(address) as WebPushSubscription;
}

/**
 * The channels. The order is the ledger's (keys and claims are made in it)
 * and the API's (a subscription's channels are listed in it): new channels go
 * at the end.
 */
export const CHANNEL_SPECS = {
  email: {
    address: 'an email address',
    schema: z
      .email({ error: 'must be an email address like name@example.com' })
      .max(MAX_EMAIL_LENGTH, { error: `must be at most ${MAX_EMAIL_LENGTH} characters` }),
    senders: ['smtp', 'http', 'log'],
    // A notification service may say a mailbox no longer exists (a hard bounce).
    deadAddressLookup: true,
    standIn: 'smtp',
  },
  push: {
    address: 'a push token',
    schema: z
      .string({ error: 'must be a push token (a string)' })
      .min(1, { error: 'must not be empty' })
      .max(MAX_PUSH_TOKEN_LENGTH, { error: `must be at most ${MAX_PUSH_TOKEN_LENGTH} characters` })
      .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' }),
    senders: ['fcm', 'http', 'log'],
    deadAddressLookup: true,
    standIn: 'fcm',
  },
  webpush: {
    address: "a browser's web push subscription",
    schema: webPushSubscriptionSchema,
    senders: ['webpush', 'http', 'log'],
    // A push service answers 404/410 for a subscription that expired or was revoked.
    deadAddressLookup: true,
    standIn: 'webpush',
  },
} as const satisfies Record<string, ChannelSpec>;

/** A notification channel. A subscription holds one address per channel it uses. */
export type Channel = keyof typeof CHANNEL_SPECS;

/** Every channel, in the table's order (the order the ledger keys and claims them). */
export const CHANNELS = Object.keys(CHANNEL_SPECS) as readonly Channel[] as readonly [Channel, ...Channel[]];

/** The senders channel `C` may use. */
export type SenderOf<C extends Channel> = (typeof CHANNEL_SPECS)[C]['senders'][number];

/** One address per channel the shopper uses (at least one, which the API checks). */
export type ChannelAddresses = Partial<Record<Channel, string>>;

/** The sender setting of a channel: `email` → `RESTOCK_EMAIL_SENDER`. */
export function senderEnv(channel: Channel): string {
  return `RESTOCK_${channel.toUpperCase()}_SENDER`;
}

/** Channels whose dead addresses are looked up across subscriptions (each needs its collection-group index). */
export const DEAD_ADDRESS_CHANNELS: readonly Channel[] = CHANNELS.filter((c) => CHANNEL_SPECS[c].deadAddressLookup);

/** Firestore's limit of writes in one commit (a batch or a transaction). */
export const MAX_WRITES_PER_COMMIT = 500;

/**
 * Most recipients one delivery task may carry whatever the channels: the
 * task's body (ids of up to 1,500 bytes, JSON-escaped) stays under Cloud
 * Tasks' 1 MiB (lib/tasks).
 */
export const MAX_TASK_RECIPIENTS = 200;

/**
 * The largest chunk the commit budget allows with `channelCount` channels.
 * A chunk's claim is one commit: one ledger entry per recipient and channel
 * (claimed, or kept `soldOutBeforeSend`), plus the chunk's receipt. A
 * recipient whose subscription the claim deletes or renews claims nothing in
 * that commit, so it costs at most one write too. Pure.
 */
export function maxChunkSize(channelCount: number): number {
  return Math.min(MAX_TASK_RECIPIENTS, Math.floor((MAX_WRITES_PER_COMMIT - 1) / channelCount));
}

/** The largest `RESTOCK_CHUNK_SIZE` this table allows (166 with three channels). */
export const MAX_CHUNK_SIZE = maxChunkSize(CHANNELS.length);

/**
 * The channel table of docs/channels.md, in Markdown: each channel, what its
 * address is, its senders (direct first) and the variable that chooses one.
 * A test compares the page with it.
 */
export function channelsTable(): string {
  const rows = CHANNELS.map((c) => {
    const spec = CHANNEL_SPECS[c];
    const senders = spec.senders.map((k, i) => `\`${k}\`${i === 0 ? ' (direct)' : ''}`).join(', ');
    return `| \`${c}\` | ${spec.address} | ${senders} | \`${senderEnv(c)}\` (unset: \`RESTOCK_NOTIFIER\`) |`;
  });
  return ['| channel | address | senders | chosen by |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
