/**
 * The confirmation sender as the settings describe it, for
 * `restockSubscriptions`: each channel of RESTOCK_DOUBLE_OPT_IN confirmed by
 * the sender of its notifications (lib/notify), links under
 * RESTOCK_UNSUBSCRIBE_URL sealed with RESTOCK_UNSUBSCRIBE_SECRET, the
 * per-address limit keyed with RESTOCK_PSEUDONYM_KEY.
 */
import type { Firestore } from '@google-cloud/firestore';
import { ConfigError, SETTINGS, type Config } from '../config.ts';
import { LOCAL_PSEUDONYM_KEY, type Logger } from '../log.ts';
import { checkConfirmationSettings, createConfirmers } from '../notify/index.ts';
import { FirestoreAddressLimiter } from './limit.ts';
import { ChannelConfirmationSender } from './send.ts';

const need = <T>(value: T | undefined, setting: { env: string }): T => {
  if (value === undefined) throw new ConfigError(setting.env, `is required while ${SETTINGS.doubleOptIn.env} names a channel: confirmation messages carry a link to the public function`);
  return value;
};

/**
 * Checks, without building anything, that every setting double opt-in needs
 * is there (pure): `restockSubscriptions` calls it at start, so it refuses to
 * start instead of failing the first PUT.
 * @throws ConfigError naming the first setting missing: the links' own, or a channel's sender's.
 */
export function checkConfirmationSetup(config: Config): void {
  if (config.doubleOptIn.length === 0) return;
  need(config.unsubscribeUrl, SETTINGS.unsubscribeUrl);
  need(config.unsubscribeSecret, SETTINGS.unsubscribeSecret);
  checkConfirmationSettings(config, config.doubleOptIn);
}

/** @throws ConfigError as {@link checkConfirmationSetup}. */
export function createConfirmationSender(config: Config, db: Firestore, log: Logger): ChannelConfirmationSender {
  const baseUrl = need(config.unsubscribeUrl, SETTINGS.unsubscribeUrl);
  const keys = need(config.unsubscribeSecret, SETTINGS.unsubscribeSecret);
  return new ChannelConfirmationSender({
    confirmers: createConfirmers(config, log, config.doubleOptIn),
    baseUrl,
    keys,
    limiter: new FirestoreAddressLimiter(db, { perWindow: config.confirmationsPerAddress, key: config.pseudonymKey?.[0] ?? LOCAL_PSEUDONYM_KEY }),
  });
}
