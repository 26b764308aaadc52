/**
 * Opens the outbox store a location names, with a client of its own: the
 * relay function and the CLI read the inventory service's database, which is
 * not the pipeline's (another database, often another project).
 */
import { createRequire } from 'node:module';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreOutbox } from './firestore.ts';
import type { OutboxStore } from './model.ts';
import type { OutboxLocation } from './settings.ts';
import { SpannerOutbox } from './spanner.ts';

/** A store and the client behind it. */
export interface OpenedOutbox {
  location: OutboxLocation;
  store: OutboxStore;
  /** Closes the client (its gRPC channels). */
  close(): Promise<void>;
}

/**
 * Opens `location`. Firestore and Spanner find their emulators through
 * FIRESTORE_EMULATOR_HOST / SPANNER_EMULATOR_HOST as usual. Nothing is read
 * until the store is used, so a wrong name shows at the first call.
 *
 * `@google-cloud/spanner` is loaded only for a Spanner location: it is an
 * optional peer dependency of the kit, which a Firestore adopter need not install.
 */
export function openOutboxStore(location: OutboxLocation): OpenedOutbox {
  if (location.backend === 'firestore') {
    const db = new Firestore({ projectId: location.projectId, databaseId: location.databaseId, ignoreUndefinedProperties: true });
    return { location, store: new FirestoreOutbox(db, { outboxCollection: location.collection }), close: () => db.terminate() };
  }
  if (process.env.SPANNER_EMULATOR_HOST) {
    // The emulator returns multiplexed sessions without their flag, and every read-write transaction
    // then fails with "Unable to release unknown resource" (docs/outbox.md); read when the database is built.
    process.env.GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS ??= 'false';
  }
  const { Spanner } = createRequire(import.meta.url)('@google-cloud/spanner') as typeof import('@google-cloud/spanner');
  const spanner = new Spanner({ projectId: location.projectId });
  // Under fine-grained access control every session carries the role, so the relay can do no more than it grants.
  const database = spanner.instance(location.instanceId).database(location.databaseId, undefined, undefined, location.databaseRole ?? null);
  return {
    location,
    store: new SpannerOutbox(database),
    close: async () => {
      await database.close();
      spanner.close();
    },
  };
}
