/**
 * The Google Cloud clients, built once per process from the configuration.
 * Firestore opens the pipeline's own database (`RESTOCK_FIRESTORE_DATABASE`).
 * Firestore and Pub/Sub find their emulators through the standard
 * `FIRESTORE_EMULATOR_HOST` / `PUBSUB_EMULATOR_HOST`; Cloud Tasks has no such
 * convention in its client, so `CLOUD_TASKS_EMULATOR_HOST` is honoured here.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { CloudTasksClient } from '@google-cloud/tasks';
import { credentials } from '@grpc/grpc-js';
import type { Config } from './config.ts';

let firestoreClient: Firestore | undefined;
let pubsubClient: PubSub | undefined;
let tasksClientInstance: CloudTasksClient | undefined;

/**
 * Options of every Firestore client of the project: the pipeline's own
 * database (`RESTOCK_FIRESTORE_DATABASE`), never the project's `(default)` one
 * unless configured so. Shared with the local stack's clients, so tests, the
 * demo and the bench read the same database the functions write.
 */
export function firestoreOptions(config: Pick<Config, 'projectId' | 'firestoreDatabase'>): { projectId: string; databaseId: string; ignoreUndefinedProperties: true } {
  return { projectId: config.projectId, databaseId: config.firestoreDatabase, ignoreUndefinedProperties: true };
}

/** The process's Firestore client, on the pipeline's database. */
export function firestore(config: Config): Firestore {
  firestoreClient ??= new Firestore(firestoreOptions(config));
  return firestoreClient;
}

/** The process's Pub/Sub client. */
export function pubsub(config: Config): PubSub {
  pubsubClient ??= new PubSub({ projectId: config.projectId });
  return pubsubClient;
}

/** Options that point a Cloud Tasks client at the emulator over gRPC (or nothing in production). */
export function tasksClientOptions(emulatorHost: string | undefined): ConstructorParameters<typeof CloudTasksClient>[0] {
  if (!emulatorHost) return {};
  const i = emulatorHost.lastIndexOf(':');
  return {
    servicePath: emulatorHost.slice(0, i),
    port: Number(emulatorHost.slice(i + 1)),
    sslCreds: credentials.createInsecure(),
    // Stated, so the client does not probe the GCE metadata server for it (a warning, and seconds off-GCP).
    universeDomain: 'googleapis.com',
  };
}

/** The process's Cloud Tasks client. */
export function tasks(config: Config): CloudTasksClient {
  tasksClientInstance ??= new CloudTasksClient(tasksClientOptions(config.tasksEmulatorHost));
  return tasksClientInstance;
}
