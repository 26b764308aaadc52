/**
 * The confirmation sender as the settings describe it, for
 * `restockSubscriptions`: SMTP with the restock emails' transport settings,
 * links under RESTOCK_UNSUBSCRIBE_URL sealed with RESTOCK_UNSUBSCRIBE_SECRET,
 * the per-address limit keyed with RESTOCK_PSEUDONYM_KEY.
 */
import type { Firestore } from '@google-cloud/firestore';
import { ConfigError, SETTINGS, type Config } from '../config.ts';
import { LOCAL_PSEUDONYM_KEY } from '../log.ts';
import { smtpTransportOf } from '../notify/index.ts';
import { FirestoreAddressLimiter } from './limit.ts';
import { SmtpConfirmationSender } from './smtp.ts';

/**
 * @throws ConfigError naming the first setting double opt-in needs and lacks,
 *   so the function refuses to start instead of failing the first PUT.
 */
export function createConfirmationSender(config: Config, db: Firestore): SmtpConfirmationSender {
  const need = <T>(value: T | undefined, setting: { env: string }): T => {
    if (value === undefined) throw new ConfigError(setting.env, `is required while ${SETTINGS.doubleOptIn.env} names email: confirmations are emailed over SMTP`);
    return value;
  };
  const host = need(config.smtpHost, SETTINGS.smtpHost);
  const from = need(config.emailFrom, SETTINGS.emailFrom);
  const baseUrl = need(config.unsubscribeUrl, SETTINGS.unsubscribeUrl);
  const keys = need(config.unsubscribeSecret, SETTINGS.unsubscribeSecret);
  return new SmtpConfirmationSender({
    transport: smtpTransportOf(config, host),
    from,
    baseUrl,
    keys,
    limiter: new FirestoreAddressLimiter(db, { perWindow: config.confirmationsPerAddress, key: config.pseudonymKey?.[0] ?? LOCAL_PSEUDONYM_KEY }),
  });
}
