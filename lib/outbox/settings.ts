/**
 * The relay's options and the outbox's location from the pipeline's settings
 * (lib/config.ts), for the relay function, the CLI and the stand-in.
 */
import { ConfigError, SETTINGS, type Config } from '../config.ts';
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

/**
 * Where the inventory service keeps its outbox: its own database, often in its
 * own project. Firestore: a database and the collection of the rows; Spanner:
 * an instance and a database holding the `Outbox` table.
 */
export type OutboxLocation =
  | { backend: 'firestore'; projectId: string; databaseId: string; collection: string }
  | { backend: 'spanner'; projectId: string; instanceId: string; databaseId: string; /** Fine-grained access control's role, when the relay is granted one. */ databaseRole?: string };

/**
 * The outbox's location as the settings say. Unset project and Firestore
 * database fall back to the pipeline's own (GOOGLE_CLOUD_PROJECT,
 * RESTOCK_FIRESTORE_DATABASE). Pure.
 * @throws ConfigError naming RESTOCK_OUTBOX_SPANNER_INSTANCE or RESTOCK_OUTBOX_SPANNER_DATABASE when the backend is `spanner` without them.
 */
export function outboxLocation(config: Config): OutboxLocation {
  const projectId = config.outboxProjectId ?? config.projectId;
  if (config.outboxBackend === 'firestore') {
    return { backend: 'firestore', projectId, databaseId: config.outboxFirestoreDatabase ?? config.firestoreDatabase, collection: config.outboxCollection };
  }
  const required = `is required with ${SETTINGS.outboxBackend.env}=spanner`;
  if (!config.outboxSpannerInstance) throw new ConfigError(SETTINGS.outboxSpannerInstance.env, `${required}: the Spanner instance of the inventory service's outbox`);
  if (!config.outboxSpannerDatabase) throw new ConfigError(SETTINGS.outboxSpannerDatabase.env, `${required}: the Spanner database holding its Outbox table`);
  return {
    backend: 'spanner',
    projectId,
    instanceId: config.outboxSpannerInstance,
    databaseId: config.outboxSpannerDatabase,
    ...(config.outboxSpannerDatabaseRole ? { databaseRole: config.outboxSpannerDatabaseRole } : {}),
  };
}

/** One line naming the location, for logs and the CLI (`firestore projects/p/databases/d/outbox`). */
export function describeOutboxLocation(l: OutboxLocation): string {
  return l.backend === 'firestore'
    ? `firestore projects/${l.projectId}/databases/${l.databaseId}/${l.collection}`
    : `spanner projects/${l.projectId}/instances/${l.instanceId}/databases/${l.databaseId}`;
}
