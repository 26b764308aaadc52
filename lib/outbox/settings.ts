/** The relay's options from the pipeline's settings (lib/config.ts), for the relay function and the stand-in. */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { RelayOptions } from './relay.ts';

const DAY_MS = 86_400_000;

/** Relay options as the settings say; `log` and `owner` are the caller's. */
export function relayOptionsFrom(config: Config, log: Logger, owner?: string): RelayOptions {
  return {
    leaseMs: config.outboxLeaseMs,
    maxAttempts: config.outboxMaxAttempts,
    backoffMinMs: config.outboxBackoffMinMs,
    backoffMaxMs: config.outboxBackoffMaxMs,
    batchSize: config.outboxBatchSize,
    sentTtlMs: config.outboxSentTtlDays * DAY_MS,
    log,
    ...(owner ? { owner } : {}),
  };
}
