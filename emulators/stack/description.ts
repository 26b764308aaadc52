/**
 * What a running local stack looks like from outside: the shape of
 * `.local/stack.json`, the component names and the default ports.
 */

import { FUNCTION_NAMES, type FunctionName } from '../../lib/functions.ts';

/** The functions (lib/functions.ts), each served by its own functions-framework process. */
export { FUNCTION_NAMES, type FunctionName } from '../../lib/functions.ts';

/** Every process of the stack. */
export const COMPONENT_NAMES = ['firestore', 'pubsub', 'tasks', 'sink', 'smtp', 'fcm', 'webpush', 'inventory', 'console', ...FUNCTION_NAMES] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

/** Ports of `npm start` (docs/local-stack.md, `firebase.json`). */
export const DEFAULT_PORTS: Readonly<Record<ComponentName, number>> = {
  firestore: 8086,
  pubsub: 8085,
  tasks: 9499,
  fanOutRestock: 8081,
  deliverRestockBatch: 8082,
  restockSubscriptions: 8083,
  restockUnsubscribe: 8084,
  relayOutbox: 8087,
  applyShopperActions: 8088,
  sink: 8090,
  /** The SMTP listener; its HTTP view is on {@link DEFAULT_SMTP_VIEW_PORT}. */
  smtp: 2525,
  fcm: 8092,
  inventory: 8093,
  webpush: 8094,
  /** The web console (console/), reading through the CLI's queries. */
  console: 8095,
};

/** Port of the local mail server's HTTP view of received messages under `npm start`. */
export const DEFAULT_SMTP_VIEW_PORT = 8091;

/** The Firestore database of the inventory stand-in (emulators/inventory). */
export const INVENTORY_DATABASE = 'inventory';

/** Names of the Pub/Sub and Cloud Tasks resources the stack creates. */
export const RESOURCE_NAMES = {
  topic: 'inventory-updated',
  deadLetterTopic: 'inventory-updated-dead-letter',
  subscription: 'fan-out-restock',
  deadLetterSubscription: 'inventory-updated-dead-letter',
  location: 'us-central1',
  queue: 'restock-deliveries',
  continuationQueue: 'restock-continuations',
  serviceAccount: 'restock-tasks@restock-local.iam.gserviceaccount.com',
  /** What shoppers ask for through public links, pushed to `applyShopperActions`. */
  shopperActionsTopic: 'shopper-actions',
  shopperActionsSubscription: 'apply-shopper-actions',
} as const;

/** A running stack, as written to `.local/stack.json` and provided to tests. */
export interface StackDescription {
  projectId: string;
  /** The Firestore database the functions use (`RESTOCK_FIRESTORE_DATABASE`); clients of the stack open the same. */
  firestoreDatabase: string;
  /**
   * The inventory stand-in's own Firestore database (its `inventoryItems` and `outbox`), which the
   * relay and the CLI read as RESTOCK_OUTBOX_FIRESTORE_DATABASE: an inventory service's data is
   * not the pipeline's. Absent in descriptions written before it existed: the pipeline's database.
   */
  inventoryDatabase?: string;
  /** host:port of each emulator (the `*_EMULATOR_HOST` values). */
  firestore: string;
  pubsub: string;
  tasks: string;
  /** URL of each function. */
  functions: Record<FunctionName, string>;
  /** Base URL of the notification sink. */
  sink: string;
  /** The local mail server: `host:port` of its SMTP listener and the base URL of its HTTP view (emulators/smtp). */
  smtp: { smtp: string; url: string };
  /** Base URL of the local FCM v1 stand-in (emulators/fcm): RESTOCK_FCM_ENDPOINT, and its `/messages` view. */
  fcm: string;
  /** Base URL of the local web push service stand-in (emulators/webpush): `POST /subscriptions` for a browser's subscription, `/messages` for what it decrypted. */
  webpush: string;
  /** Base URL of the inventory service stand-in (`PUT /v1/products/{productId}/stock`). */
  inventory: string;
  /** Base URL of the web console (console/: overview, restock and shopper pages). */
  console: string;
  /** How often the stack calls `relayOutbox` as Cloud Scheduler would (0: never). */
  sweepIntervalMs: number;
  /** Short names of the Pub/Sub resources. */
  topic: string;
  deadLetterTopic: string;
  subscription: string;
  deadLetterSubscription: string;
  /** Full resource name of the first delivery queue. */
  queue: string;
  /** Full resource names of every delivery queue, in shard order (the first is `queue`). */
  deliveryQueues: string[];
  /** Full resource name of the fan-out continuation queue. */
  continuationQueue: string;
  /** Issuer and key set of the OIDC tokens the Cloud Tasks emulator signs. */
  oidcIssuer: string;
  jwksUrl: string;
  /** Directory of `<component>.log`, one JSON line per log entry for the functions and the sink. */
  logsDir: string;
  /** Directory of `<function>.jsonl`: the metrics each function (and the inventory stand-in) exported, one snapshot a line (lib/metrics). */
  metricsDir: string;
  /** Process id of each component (each leads its own process group). */
  pids: Record<ComponentName, number>;
  /** Process that started the stack; the stack dies with it. */
  launcherPid: number;
  startedAtMs: number;
  /** Settings given to every function process (the env that `npm start` prints). */
  env: Record<string, string>;
}
