/** Notifiers: the interface and its implementations, chosen by `RESTOCK_NOTIFIER`. */
import { ConfigError, SETTINGS, type Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { HttpNotifier } from './http.ts';
import { LogNotifier } from './log.ts';
import type { Notifier } from './types.ts';

export type { Notification, NotificationResult, Notifier } from './types.ts';
export { HttpNotifier, NotifierUnavailableError, NotifierRejectedError, parseRetryAfter } from './http.ts';
export { LogNotifier } from './log.ts';

/**
 * The notifier the configuration asks for.
 * @throws ConfigError when `http` is chosen without RESTOCK_NOTIFIER_URL.
 */
export function createNotifier(config: Config, log: Logger): Notifier {
  if (config.notifier === 'log') return new LogNotifier(log);
  if (!config.notifierUrl) throw new ConfigError(SETTINGS.notifierUrl.env, 'is required when RESTOCK_NOTIFIER=http');
  return new HttpNotifier({
    baseUrl: config.notifierUrl,
    timeoutMs: config.notifierTimeoutMs,
    retries: config.notifierRetries,
    maxRetryAfterMs: config.notifierMaxRetryAfterMs,
    ...(config.notifierToken ? { token: config.notifierToken } : {}),
  });
}
