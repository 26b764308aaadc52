/**
 * The Google Cloud clients, built once per process from the configuration.
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

/** The process's Firestore client. */
export function firestore(config: Config): Firestore {
  firestoreClient ??= new Firestore({ projectId: config.projectId, ignoreUndefinedProperties: true });
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
