/**
 * Per-channel routing: each channel of the table (lib/channels.ts) has its own
 * sender, chosen by its RESTOCK_<CHANNEL>_SENDER (unset: RESTOCK_NOTIFIER)
 * among the senders its entry allows. The router splits a batch by channel,
 * sends the parts in parallel and answers one result per notification. Each
 * sender kind in use is built once and shared by the channels that use it.
 *
 * {@link checkChannelSettings} is pure and runs when the delivery function
 * starts, so a sender chosen without its settings stops the function at start
 * naming the missing variable, not at the first restock.
 */
import { GoogleAuth } from 'google-auth-library';
import { CHANNELS, type Channel, type SenderKind, type SenderOf } from '../channels.ts';
import { ConfigError, channelPlan, onEmulators, senderChooser, sendersInUse, SETTINGS, type ChannelPlan, type Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { FcmNotifier } from './fcm.ts';
import { HttpNotifier } from './http.ts';
import { LogNotifier } from './log.ts';
import { SmtpNotifier, smtpTransportOf } from './smtp.ts';
import { builtinTemplates, loadTemplates, type MessageTemplates } from './templates.ts';
import { WebPushNotifier } from './webpush.ts';
import type { Confirmer, Notification, NotificationResult, Notifier } from './types.ts';

/** The scope FCM v1 requires of an access token. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

type SettingKey = keyof typeof SETTINGS;

/** Settings each sender cannot work without. */
const REQUIRED: Record<SenderKind, readonly SettingKey[]> = {
  http: ['notifierUrl'],
  log: [],
  smtp: ['smtpHost', 'emailFrom', 'unsubscribeUrl', 'unsubscribeSecret'],
  fcm: [],
  // Every web push message carries the one-click unsubscribe link, as every email does.
  webpush: ['webpushVapidPublicKey', 'webpushVapidPrivateKey', 'webpushSubject', 'unsubscribeUrl', 'unsubscribeSecret'],
};

/** @throws ConfigError naming the first of `keys` unset, and why it is needed. */
function requireSettings(config: Config, keys: readonly SettingKey[], when: string): void {
  for (const key of keys) {
    if (config[key] === undefined) throw new ConfigError(SETTINGS[key].env, `is required when ${when}`);
  }
}

/**
 * Checks that every chosen sender has its settings (pure). Only the senders
 * some channel uses are checked: a deployment that sends every channel
 * directly needs no RESTOCK_NOTIFIER_URL.
 * @throws ConfigError naming the first missing setting and the variable that chose the sender.
 */
export function checkChannelSettings(config: Config): ChannelPlan {
  const plan = channelPlan(config);
  for (const channel of CHANNELS) {
    const kind = plan[channel];
    const chooser = senderChooser(config, channel);
    requireSettings(config, REQUIRED[kind], `${chooser}=${kind}`);
    // Outside the emulators: `log` answers "sent" (the ledger records it, the subscription is
    // deleted, nobody is told), and an http: service would carry addresses and tokens in clear.
    if (!onEmulators(config) && kind === 'log') throw new ConfigError(chooser, '`log` is refused outside the emulators: it records notifications as sent that nobody received');
    if (!onEmulators(config) && kind === 'http' && !config.notifierUrl!.startsWith('https:')) {
      throw new ConfigError(SETTINGS.notifierUrl.env, 'must be an https: URL outside the emulators (addresses and push tokens travel in it)');
    }
  }
  if (sendersInUse(config).has('smtp')) {
    const dkim = [config.dkimPrivateKey, config.dkimDomain, config.dkimSelector];
    if (dkim.some((v) => v !== undefined) && dkim.some((v) => v === undefined)) {
      const missing = (['dkimPrivateKey', 'dkimDomain', 'dkimSelector'] as const).find((k) => config[k] === undefined)!;
      throw new ConfigError(SETTINGS[missing].env, 'is required with the other DKIM settings (key, domain and selector go together)');
    }
    if (config.smtpPassword !== undefined && config.smtpUser === undefined) throw new ConfigError(SETTINGS.smtpUser.env, `is required with ${SETTINGS.smtpPassword.env}`);
  }
  return plan;
}

/**
 * What the `http` contract carries of the shopper: the user id unless the
 * deployment turned it off (RESTOCK_NOTIFIER_SEND_USER_ID=false); never the
 * subscription's generation, which only the unsubscribe links of direct emails need.
 */
function asContract(sender: Sender, sendUserId: boolean): Sender {
  return {
    send: (batch) =>
      sender.send(batch.map(({ userId, subscriptionCreatedAtMs: _generation, ...n }) => (sendUserId && userId !== undefined ? { ...n, userId } : n))),
    confirm: ({ userId, ...c }) => sender.confirm(sendUserId && userId !== undefined ? { ...c, userId } : c),
  };
}

/** Every sender notifies and confirms: a sender kind without a way to send a confirmation does not compile. */
type Sender = Notifier & Confirmer;

/** Sends each channel's part of a batch through that channel's sender. */
export class ChannelRouter implements Notifier {
  constructor(private readonly senders: Readonly<Record<Channel, Notifier>>) {}

  async send(batch: readonly Notification[]): Promise<NotificationResult[]> {
    const parts = new Map<Channel, Notification[]>();
    for (const n of batch) parts.set(n.channel, [...(parts.get(n.channel) ?? []), n]);
    const results = new Map<string, NotificationResult>();
    await Promise.all(
      [...parts].map(async ([channel, part]) => {
        for (const r of await this.senders[channel].send(part)) results.set(r.idempotencyKey, r);
      }),
    );
    return batch.map((n) => results.get(n.idempotencyKey) ?? { idempotencyKey: n.idempotencyKey, status: 'retry', reason: `no result from the ${n.channel} sender` });
  }
}

/**
 * How each sender is built from the settings. A `Record` over every sender
 * kind: a sender named in the channel table without its builder does not compile.
 */
const BUILDERS: { readonly [K in SenderKind]: (config: Config, log: Logger, templates: MessageTemplates) => Sender } = {
  log: (_config, log) => new LogNotifier(log),
  http: (config) =>
    asContract(
      new HttpNotifier({
        baseUrl: config.notifierUrl!,
        timeoutMs: config.notifierTimeoutMs,
        retries: config.notifierRetries,
        maxRetryAfterMs: config.notifierMaxRetryAfterMs,
        ...(config.notifierToken ? { token: config.notifierToken } : {}),
      }),
      config.notifierSendUserId,
    ),
  smtp: (config, _log, templates) =>
    new SmtpNotifier({
      transport: smtpTransportOf(config, config.smtpHost!),
      from: config.emailFrom!,
      unsubscribeBaseUrl: config.unsubscribeUrl!,
      unsubscribeKeys: config.unsubscribeSecret!,
      templates,
    }),
  fcm: (config, log, templates) => {
    const auth = config.fcmCredentials === 'adc' ? new GoogleAuth({ scopes: [FCM_SCOPE] }) : undefined;
    return new FcmNotifier({
      projectId: config.fcmProjectId ?? config.projectId,
      endpoint: config.fcmEndpoint,
      // google-auth-library caches the token and refreshes it before it expires.
      accessToken: async () => (auth ? ((await auth.getAccessToken()) ?? undefined) : undefined),
      timeoutMs: config.notifierTimeoutMs,
      retries: config.notifierRetries,
      maxRetryAfterMs: config.notifierMaxRetryAfterMs,
      concurrency: config.fcmConcurrency,
      log,
      templates,
    });
  },
  webpush: (config, log, templates) =>
    new WebPushNotifier({
      vapid: { subject: config.webpushSubject!, publicKey: config.webpushVapidPublicKey!, privateKey: config.webpushVapidPrivateKey! },
      ttlSeconds: config.webpushTtlSeconds,
      urgency: config.webpushUrgency,
      unsubscribeBaseUrl: config.unsubscribeUrl!,
      unsubscribeKeys: config.unsubscribeSecret!,
      timeoutMs: config.notifierTimeoutMs,
      retries: config.notifierRetries,
      maxRetryAfterMs: config.notifierMaxRetryAfterMs,
      concurrency: config.webpushConcurrency,
      allowHttp: onEmulators(config),
      log,
      templates,
    }),
};

/**
 * The notifier the configuration asks for: one sender when every channel uses
 * the same kind, else a {@link ChannelRouter} over one sender per kind in use.
 * The message templates are loaded and checked here, once, whichever senders
 * use them: a broken template in RESTOCK_TEMPLATES_DIR stops the start even
 * while the notification service sends, before a switch to a direct sender
 * would reveal it.
 * @throws ConfigError when a chosen sender lacks a setting ({@link checkChannelSettings}).
 * @throws TemplateError naming the file and line of a template refused.
 */
export function createNotifier(config: Config, log: Logger): Notifier {
  const plan = checkChannelSettings(config);
  const templates = loadTemplates(config.templatesDir);
  const built = new Map<SenderKind, Notifier>([...new Set(Object.values(plan))].map((kind) => [kind, BUILDERS[kind](config, log, templates)] as const));
  if (built.size === 1) return [...built.values()][0]!;
  return new ChannelRouter(Object.fromEntries(CHANNELS.map((c) => [c, built.get(plan[c])!])) as Record<Channel, Notifier>);
}

/**
 * The confirmation sender of each (channel, sender) pair the channel table
 * allows: a channel, or a sender of a channel, added to lib/channels.ts
 * without its entry here does not compile. Each is the notifier of that
 * sender, so a confirmation travels by the transport, retries and error
 * classification of the channel's notifications.
 */
export const CONFIRMERS: { readonly [C in Channel]: { readonly [K in SenderOf<C>]: (config: Config, log: Logger, templates: MessageTemplates) => Confirmer } } = {
  email: { smtp: BUILDERS.smtp, http: BUILDERS.http, log: BUILDERS.log },
  push: { fcm: BUILDERS.fcm, http: BUILDERS.http, log: BUILDERS.log },
  webpush: { webpush: BUILDERS.webpush, http: BUILDERS.http, log: BUILDERS.log },
};

/** The confirmation builder of `channel` sent by `kind` (the plan only ever pairs a channel with a sender its entry allows). */
function confirmerOf(channel: Channel, kind: SenderKind): (config: Config, log: Logger, templates: MessageTemplates) => Confirmer {
  const builder = (CONFIRMERS[channel] as Partial<Record<SenderKind, (config: Config, log: Logger, templates: MessageTemplates) => Confirmer>>)[kind];
  if (!builder) throw new RangeError(`${kind} is not a sender of ${channel}`);
  return builder;
}

/**
 * Checks that each channel to confirm has its sender's settings (pure), as
 * {@link checkChannelSettings} does for delivery: the subscription API sends
 * confirmations itself, so it needs them too.
 * @throws ConfigError naming the first missing setting, the channel and the variable that chose its sender.
 */
export function checkConfirmationSettings(config: Config, channels: readonly Channel[]): void {
  const plan = channelPlan(config);
  for (const channel of channels) {
    const kind = plan[channel];
    requireSettings(config, REQUIRED[kind], `${SETTINGS.doubleOptIn.env} names ${channel}, whose confirmations go the way of its notifications (${senderChooser(config, channel)}=${kind})`);
  }
}

/**
 * The confirmation sender of each channel in `channels`, by the sender its
 * notifications use; each sender kind is built once.
 * @throws ConfigError when a sender lacks a setting ({@link checkConfirmationSettings}).
 */
export function createConfirmers(config: Config, log: Logger, channels: readonly Channel[]): Partial<Record<Channel, Confirmer>> {
  checkConfirmationSettings(config, channels);
  const plan = channelPlan(config);
  const built = new Map<SenderKind, Confirmer>();
  const out: Partial<Record<Channel, Confirmer>> = {};
  for (const channel of channels) {
    const kind = plan[channel];
    // A confirmation's words are built in (confirmation-messages.ts): the shop's restock templates are not read here.
    if (!built.has(kind)) built.set(kind, confirmerOf(channel, kind)(config, log, builtinTemplates()));
    out[channel] = built.get(kind)!;
  }
  return out;
}
