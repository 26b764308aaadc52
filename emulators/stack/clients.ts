/**
 * Google Cloud clients pointed at one stack explicitly, whatever the
 * process's `*_EMULATOR_HOST` variables say, so a test can talk to its own
 * stack next to the shared one.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { CloudTasksClient } from '@google-cloud/tasks';
import { firestoreOptions, tasksClientOptions } from '../../lib/clients.ts';
import type { StackDescription } from './description.ts';

export interface StackClients {
  /** On the pipeline's database. */
  firestore: Firestore;
  /** On the inventory stand-in's own database (its items and its outbox). */
  inventoryFirestore: Firestore;
  pubsub: PubSub;
  /** Undefined when the stack runs no Cloud Tasks emulator. */
  tasks: CloudTasksClient | undefined;
  close(): Promise<void>;
}

/** Clients for the emulators of `description`. Close them when done (they hold gRPC channels). */
export function clientsFor(description: StackDescription): StackClients {
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  // Firestore's constructor prefers FIRESTORE_EMULATOR_HOST over `host`: hide it for the call.
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  delete process.env.FIRESTORE_EMULATOR_HOST;
  let firestore: Firestore;
  let inventoryFirestore: Firestore;
  const on = (database: string): Firestore =>
    new Firestore({ ...firestoreOptions({ projectId: description.projectId, firestoreDatabase: database }), host: description.firestore, ssl: false });
  try {
    firestore = on(description.firestoreDatabase);
    inventoryFirestore = on(description.inventoryDatabase ?? description.firestoreDatabase);
  } finally {
    if (saved !== undefined) process.env.FIRESTORE_EMULATOR_HOST = saved;
  }
  const pubsub = new PubSub({ projectId: description.projectId, apiEndpoint: description.pubsub, emulatorMode: true });
  const tasks = description.tasks ? new CloudTasksClient(tasksClientOptions(description.tasks)) : undefined;
  return {
    firestore,
    inventoryFirestore,
    pubsub,
    tasks,
    close: async () => {
      await Promise.allSettled([firestore.terminate(), inventoryFirestore.terminate(), pubsub.close(), tasks?.close()]);
    },
  };
}

/** The `*_EMULATOR_HOST` variables (and project, and databases) that point lib code and CLIs at `description`. */
export function emulatorEnv(description: StackDescription): Record<string, string> {
  return {
    GOOGLE_CLOUD_PROJECT: description.projectId,
    RESTOCK_FIRESTORE_DATABASE: description.firestoreDatabase,
    ...(description.inventoryDatabase ? { RESTOCK_OUTBOX_FIRESTORE_DATABASE: description.inventoryDatabase } : {}),
    FIRESTORE_EMULATOR_HOST: description.firestore,
    PUBSUB_EMULATOR_HOST: description.pubsub,
    ...(description.tasks ? { CLOUD_TASKS_EMULATOR_HOST: description.tasks } : {}),
  };
}

/** Settings the functions run with that only they need: the notifier and the check of incoming tokens. */
const FUNCTION_ONLY = /^RESTOCK_(NOTIFIER|VERIFY_OIDC|OIDC_)/;

/**
 * What another shell needs to use this stack as the functions do (`npm start`
 * prints it as `export` lines): the emulators and the database, the settings
 * `restock replay` and `redrive` create tasks with (function URLs, queue,
 * service account), the resource names the CLI publishes to and pulls from,
 * and `RESTOCK_SUBSCRIPTIONS_URL`, the subscription API the guides call.
 */
export function shellEnv(description: StackDescription): Record<string, string> {
  const settings = Object.fromEntries(Object.entries(description.env).filter(([k]) => k.startsWith('RESTOCK_') && !FUNCTION_ONLY.test(k)));
  return {
    ...emulatorEnv(description),
    ...settings,
    RESTOCK_TOPIC: description.topic,
    RESTOCK_DEAD_LETTER_SUBSCRIPTION: description.deadLetterSubscription,
    RESTOCK_SUBSCRIPTIONS_URL: description.functions.restockSubscriptions.replace(/\/$/, ''),
  };
}
