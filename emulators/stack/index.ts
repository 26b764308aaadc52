/**
 * The local stack: Firestore and Pub/Sub emulators, the Cloud Tasks emulator,
 * the notification sink, the inventory stand-in and the functions, each in its
 * own process group, wired together (topic, push subscription, dead-letter
 * topic, queue), with the outbox sweep called on an interval as Cloud
 * Scheduler calls it in production.
 *
 * `npm start`, `npm run demo` and the integration tests' global setup all go
 * through {@link startStack}; a test that needs other settings or kills
 * processes starts its own.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import {
  COMPONENT_NAMES,
  FUNCTION_NAMES,
  INVENTORY_DATABASE,
  RESOURCE_NAMES,
  type ComponentName,
  type FunctionName,
  type StackDescription,
} from './description.ts';
import { channelFunctionEnv, channelSpecs } from './channels.ts';
import { PortInUseError, UnknownComponentError } from './errors.ts';
import { firestoreCommand, pubsubCommand } from './gcloud-emulators.ts';
import { ManagedProcess, type ProcessSpec } from './managed-process.ts';
import { retryableStart } from './retry.ts';
import { freePort, httpStatus, isListening } from './ports.ts';
import {
  configureQueue,
  DEFAULT_QUEUE,
  DEFAULT_SUBSCRIPTION,
  wirePubSub,
  type QueueSettings,
  type SubscriptionSettings,
} from './resources.ts';
import { DEFAULT_FIRESTORE_DATABASE } from '../../lib/config.ts';
import { continuationQueuePath, pipelineQueues } from '../../lib/tasks/index.ts';
import { REPO_ROOT, removeStateFile, writeStateFile } from './state-file.ts';
import type { TasksEmulatorInfo } from './tasks-child.ts';

export * from './description.ts';
export * from './errors.ts';
export { DEFAULT_STATE_FILE, findRunningStack, readStateFile, REPO_ROOT } from './state-file.ts';
export { DEFAULT_QUEUE, DEFAULT_SUBSCRIPTION, type QueueSettings, type SubscriptionSettings } from './resources.ts';
export { clientsFor, emulatorEnv, shellEnv, type StackClients } from './clients.ts';
export { directChannelEnv, LOCAL_EMAIL_FROM, LOCAL_UNSUBSCRIBE_SECRET } from './channels.ts';
export * from './seed.ts';

export interface StackOptions {
  projectId?: string;
  /** Interface every component listens on. */
  host?: string;
  /** Port per component; missing or 0 = a free port. A fixed port already in use fails with {@link PortInUseError}. */
  ports?: Partial<Record<ComponentName, number>>;
  /** Port of the mail server's HTTP view (its `smtp` port is the SMTP listener); missing or 0 = a free port. */
  smtpViewPort?: number;
  /** Environment for every function process, over the stack's own (e.g. `RESTOCK_PAGE_SIZE`). */
  env?: Record<string, string>;
  /** Environment for one function process, over `env`. */
  functionEnv?: Partial<Record<FunctionName, Record<string, string>>>;
  /** Processes serving each function on its one port (default {@link DEFAULT_INSTANCES}, else 1). */
  instances?: Partial<Record<FunctionName, number>>;
  /** Where this stack keeps its logs and bookkeeping; default a fresh `.local/stacks/<id>/`. */
  dir?: string;
  /** Write the description here while running (`npm start` uses `.local/stack.json`); default none. */
  stateFile?: string;
  queue?: Partial<QueueSettings>;
  /**
   * Delivery queues the chunks are spread over (RESTOCK_TASKS_QUEUE_COUNT; default 1, or that
   * variable of `env`). Each gets the `queue` settings, as does the continuation queue.
   */
  deliveryQueueCount?: number;
  subscription?: Partial<SubscriptionSettings>;
  /** Bearer token the sink requires (and the functions send). */
  sinkToken?: string;
  /** LOG_LEVEL of the functions and the sink. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** How often `relayOutbox` is called, as Cloud Scheduler would (default 2000; 0 never). */
  sweepIntervalMs?: number;
  /** Progress lines while starting ("firestore ready in 1234 ms"). */
  onProgress?: (message: string) => void;
  /** A component exited while the stack was meant to run (crash, or a test's `kill`). */
  onComponentExit?: (name: ComponentName, code: number | null, signal: NodeJS.Signals | null, logFile: string) => void;
}

/** A running stack. */
export interface Stack {
  description: StackDescription;
  /** Timings of the start, in ms (total and per component), for reports. */
  startupMs: Record<ComponentName | 'total' | 'wiring', number>;
  /** Path of a component's log file (stdout and stderr). */
  logFile(name: ComponentName): string;
  /** Sends a signal to a component's process group (e.g. SIGKILL a function mid-flight). */
  kill(name: ComponentName, signal?: NodeJS.Signals): void;
  /**
   * Stops a component if it still runs, then starts it again on the same port with the same settings;
   * with `env`, a function starts with those variables over its own from now on (`{}` drops them again).
   */
  restart(name: ComponentName, options?: { env?: Record<string, string> }): Promise<void>;
  /**
   * Exports the Firestore emulator's data now; the next `restart('firestore')`
   * starts from it instead of empty, so a test can stop the database in the
   * middle of some work and bring it back as a real outage would.
   */
  snapshotFirestore(): Promise<void>;
  /**
   * Deletes every document of the functions' database (the emulator's own
   * reset), so a measurement starts on a database holding only what it seeds:
   * the emulator's queries scan the whole database, not the one collection.
   */
  clearFirestore(): Promise<void>;
  /** Calls `relayOutbox` once now (what the interval does), resolving to its answer's status. */
  sweepNow(): Promise<number>;
  /** Whether a component's process is running. */
  isRunning(name: ComponentName): boolean;
  /** Stops every component (SIGTERM, then SIGKILL per process group) and removes the state file. */
  stop(): Promise<void>;
}

// The package's exports hide main.js (its CLI); it sits next to the exported index.js.
const require = createRequire(import.meta.url);
const FUNCTIONS_FRAMEWORK_MAIN = join(dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');
const TSX = ['--import', 'tsx'];
/** The Java emulators take about a second on a quiet machine; allow for a busy one. */
const JAVA_READY_MS = 90_000;
const NODE_READY_MS = 60_000;

/**
 * The subscription API runs as one process per core (up to 4): a storefront's
 * subscribe storm is CPU-bound in the function, and Cloud Run meets it with
 * more instances (issue 12; docs/performance.md). The pipeline's functions
 * stay single processes: their work waits on Firestore and the queue, and the
 * chaos tests kill them as one.
 */
export const DEFAULT_INSTANCES: Partial<Record<FunctionName, number>> = {
  restockSubscriptions: Math.min(4, availableParallelism()),
};
const DEFAULT_SWEEP_INTERVAL_MS = 2_000;

/** Environment variables of the parent that must not leak into the components. */
const DROPPED_ENV = /^(NODE_OPTIONS|VITEST.*|FIRESTORE_EMULATOR_HOST|PUBSUB_EMULATOR_HOST|CLOUD_TASKS_EMULATOR_HOST|RESTOCK_.*)$/;

/** Awaits every promise, then throws the first rejection (so nothing is left running unseen). */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function baseEnv(): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !DROPPED_ENV.test(k))),
    // No Compute Engine metadata server locally: without this, Google clients probe it for seconds.
    METADATA_SERVER_DETECTION: 'none',
  };
}

/**
 * Starts a stack and resolves once every component answers and the Pub/Sub
 * and Cloud Tasks resources exist. Every component starts at once (the Java
 * emulators dominate); the Pub/Sub resources are created as soon as Pub/Sub
 * answers, the queue as soon as the Cloud Tasks emulator does. On failure,
 * whatever started is stopped and the error (a
 * `ComponentStartError` with the component's log tail, `PortInUseError`,
 * `ToolMissingError`) is rethrown.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // Free ports are picked before the components bind them, so another process
  // (a parallel test file's stack) can take one in between. Such a start is
  // retried on fresh ports, as is one whose component ran but never answered:
  // a CI run once lost the whole Node 24 suite to a Pub/Sub emulator that
  // answered no probe for 90 s after starting. A port the caller fixed is
  // never silently changed, and a component that exits or is misconfigured
  // fails at once (retrying would only repeat it).
  const attempts = options.ports && Object.values(options.ports).some(Boolean) ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(options);
    } catch (err) {
      const retry = attempt < attempts ? retryableStart(err) : undefined;
      if (!retry) throw err;
      options.onProgress?.(`${retry} (${(err as Error).message}); retrying on fresh ports`);
    }
  }
}

async function startStackOnce(options: StackOptions): Promise<Stack> {
  const t0 = Date.now();
  // No Compute Engine metadata server locally: without this the Google clients probe for one first.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const projectId = options.projectId ?? 'restock-local';
  // The functions, the stack's clients and the CLI must open the same database: one value, recorded in the description.
  const firestoreDatabase = options.env?.RESTOCK_FIRESTORE_DATABASE ?? DEFAULT_FIRESTORE_DATABASE;
  // The inventory stand-in keeps its data in a database of its own, as an inventory service does; the relay reads it there.
  const inventoryDatabase = options.env?.RESTOCK_OUTBOX_FIRESTORE_DATABASE ?? INVENTORY_DATABASE;
  const host = options.host ?? '127.0.0.1';
  const progress = options.onProgress ?? (() => {});
  const dir = resolve(options.dir ?? join(REPO_ROOT, '.local', 'stacks', `${process.pid}-${t0.toString(36)}`));
  const logsDir = join(dir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const metricsDir = join(dir, 'metrics');
  const launcherPid = process.pid;

  const ports = {} as Record<ComponentName, number>;
  const taken = new Set<number>();
  for (const name of COMPONENT_NAMES) {
    const fixed = options.ports?.[name];
    if (fixed) {
      if (taken.has(fixed) || (await isListening(host, fixed))) throw new PortInUseError(name, fixed);
      ports[name] = fixed;
    } else {
      // The OS may hand back a port it just gave us (it was closed again): ask until it is a new one.
      do ports[name] = await freePort(host);
      while (taken.has(ports[name]) || Object.values(options.ports ?? {}).includes(ports[name]));
    }
    taken.add(ports[name]);
  }
  let smtpViewPort = options.smtpViewPort ?? 0;
  if (smtpViewPort && (taken.has(smtpViewPort) || (await isListening(host, smtpViewPort)))) throw new PortInUseError('smtp', smtpViewPort);
  while (!smtpViewPort || taken.has(smtpViewPort)) smtpViewPort = await freePort(host);
  taken.add(smtpViewPort);
  const channelPorts = { host, smtp: ports.smtp, smtpView: smtpViewPort, fcm: ports.fcm, webpush: ports.webpush };

  const queueSettings: QueueSettings = { ...DEFAULT_QUEUE, ...options.queue };
  const maxAttemptsOverride = options.env?.RESTOCK_DELIVERY_MAX_ATTEMPTS;
  if (maxAttemptsOverride && options.queue?.maxAttempts === undefined) queueSettings.maxAttempts = Number(maxAttemptsOverride);
  const subscriptionSettings: SubscriptionSettings = { ...DEFAULT_SUBSCRIPTION, ...options.subscription };
  const queueNaming = {
    projectId,
    tasksLocation: RESOURCE_NAMES.location,
    tasksQueue: RESOURCE_NAMES.queue,
    tasksQueueCount: options.deliveryQueueCount ?? Number(options.env?.RESTOCK_TASKS_QUEUE_COUNT ?? 1),
    continuationQueue: RESOURCE_NAMES.continuationQueue,
  };
  const queues = pipelineQueues(queueNaming);
  const queueName = queues[0]!.name;
  const addr = (name: ComponentName): string => `${host}:${ports[name]}`;
  const functionUrl = (name: FunctionName): string => `http://${addr(name)}/`;
  const sinkUrl = `http://${addr('sink')}`;
  const logLevel = options.logLevel ?? 'info';

  const processes = new Map<ComponentName, ManagedProcess>();
  const startupMs = { total: 0, wiring: 0 } as Record<ComponentName | 'total' | 'wiring', number>;
  const pidsFile = join(dir, 'pids.json');
  const recordPids = (): void => {
    const pids: Record<string, number> = {};
    for (const [name, p] of processes) if (p.pid !== undefined) pids[name] = p.pid;
    writeFileSync(pidsFile, JSON.stringify(pids));
  };

  const launch = async (name: ComponentName, spec: Omit<ProcessSpec, 'name' | 'logFile' | 'cwd'>): Promise<void> => {
    const started = Date.now();
    const logFile = join(logsDir, `${name}.log`);
    const p = new ManagedProcess({
      ...spec,
      name,
      cwd: REPO_ROOT,
      logFile,
      onUnexpectedExit: (code, signal) => options.onComponentExit?.(name, code, signal, logFile),
    });
    processes.set(name, p);
    try {
      await p.start();
    } finally {
      recordPids();
    }
    startupMs[name] = Date.now() - started;
    progress(`${name} ready on ${addr(name)} in ${startupMs[name]} ms`);
  };

  const httpOk = (url: string) => async (): Promise<boolean> => (await httpStatus(url)) === 200;
  const tasksInfoFile = join(dir, 'tasks-emulator.json');
  rmSync(tasksInfoFile, { force: true });

  // The watchdog stops the groups if this process dies without calling stop().
  writeFileSync(pidsFile, '{}');
  const watchdog = spawn(
    process.execPath,
    [...TSX, join(REPO_ROOT, 'emulators/stack/watchdog.ts'), String(launcherPid), pidsFile, ...(options.stateFile ? [options.stateFile] : [])],
    { cwd: REPO_ROOT, detached: true, stdio: 'ignore', env: baseEnv() },
  );
  watchdog.unref();

  let functionEnv: Record<string, string> = {};
  /** Variables a function was restarted with (`restart(name, { env })`), over everything else. */
  const restartEnv = new Map<ComponentName, Record<string, string>>();
  const instancesOf = (name: FunctionName): number => options.instances?.[name] ?? DEFAULT_INSTANCES[name] ?? 1;
  const functionSpec = (name: FunctionName): Omit<ProcessSpec, 'name' | 'logFile' | 'cwd'> => ({
    command: process.execPath,
    args: [
      ...TSX,
      // Several instances go through node:cluster (./instances.ts); one is the plain functions-framework process.
      ...(instancesOf(name) > 1 ? [join(REPO_ROOT, 'emulators/stack/instances.ts'), String(instancesOf(name))] : []),
      FUNCTIONS_FRAMEWORK_MAIN,
      `--target=${name}`,
      `--source=functions/${name}.ts`,
      `--port=${ports[name]}`,
    ],
    env: { ...baseEnv(), ...functionEnv, ...options.functionEnv?.[name], ...restartEnv.get(name) },
    ready: () => isListening(host, ports[name]),
    readyTimeoutMs: NODE_READY_MS,
  });
  const specs = new Map<ComponentName, () => Omit<ProcessSpec, 'name' | 'logFile' | 'cwd'>>();
  let firestoreImport: string | undefined;
  specs.set('firestore', () => ({
    ...firestoreCommand(host, ports.firestore, firestoreImport),
    env: baseEnv(),
    ready: httpOk(`http://${addr('firestore')}/`),
    readyTimeoutMs: JAVA_READY_MS,
  }));
  specs.set('pubsub', () => ({
    ...pubsubCommand(host, ports.pubsub, join(dir, 'pubsub-data')),
    env: baseEnv(),
    ready: httpOk(`http://${addr('pubsub')}/`),
    readyTimeoutMs: JAVA_READY_MS,
  }));
  specs.set('tasks', () => ({
    command: process.execPath,
    args: [
      ...TSX,
      join(REPO_ROOT, 'emulators/stack/tasks-child.ts'),
      `--host=${host}`,
      `--port=${ports.tasks}`,
      ...queues.map((q) => `--queue=${q.name}`),
      `--info-file=${tasksInfoFile}`,
    ],
    env: { ...baseEnv(), LOG_LEVEL: logLevel },
    ready: async () => existsSync(tasksInfoFile),
    readyTimeoutMs: NODE_READY_MS,
  }));
  specs.set('inventory', () => ({
    command: process.execPath,
    args: [...TSX, join(REPO_ROOT, 'emulators/inventory/main.ts'), `--host=${host}`, `--port=${ports.inventory}`],
    env: { ...baseEnv(), ...functionEnv, K_SERVICE: 'inventory' },
    ready: httpOk(`http://${addr('inventory')}/healthz`),
    readyTimeoutMs: NODE_READY_MS,
  }));
  specs.set('sink', () => ({
    command: process.execPath,
    args: [
      ...TSX,
      join(REPO_ROOT, 'emulators/sink/main.ts'),
      `--host=${host}`,
      `--port=${ports.sink}`,
      ...(options.sinkToken ? [`--token=${options.sinkToken}`] : []),
    ],
    env: { ...baseEnv(), LOG_LEVEL: logLevel, K_SERVICE: 'sink' },
    ready: httpOk(`${sinkUrl}/healthz`),
    readyTimeoutMs: NODE_READY_MS,
  }));
  // The console reads the pipeline as the CLI does, from the functions' environment (emulator hosts, project, queues).
  specs.set('console', () => ({
    command: process.execPath,
    args: [...TSX, join(REPO_ROOT, 'console/main.ts'), `--host=${host}`, `--port=${ports.console}`],
    env: { ...baseEnv(), ...functionEnv, K_SERVICE: 'console' },
    ready: httpOk(`http://${addr('console')}/healthz`),
    readyTimeoutMs: NODE_READY_MS,
  }));
  const channelServers = channelSpecs(channelPorts, { ...baseEnv(), LOG_LEVEL: logLevel }, TSX, NODE_READY_MS);
  specs.set('smtp', () => channelServers.smtp);
  specs.set('fcm', () => channelServers.fcm);
  specs.set('webpush', () => channelServers.webpush);
  for (const name of FUNCTION_NAMES) specs.set(name, () => functionSpec(name));

  /** Stops a component and starts it again with its current spec (same port, fresh environment). */
  const relaunch = async (name: ComponentName): Promise<void> => {
    const p = processes.get(name)!;
    // A restarted Pub/Sub emulator starts empty and its topic exists a moment before its
    // subscription: a sweep publishing in that moment would be acked and its message dropped, a
    // loss real Pub/Sub (whose subscription outlives an outage) never causes. The sweep is held
    // until the topic and subscriptions are back.
    const release = name === 'pubsub' ? await holdSweep() : () => undefined;
    try {
      await p.stop();
      if (name === 'tasks') rmSync(tasksInfoFile, { force: true });
      p.spec = { ...p.spec, ...specs.get(name)!() };
      await p.start();
      recordPids();
      if (name === 'pubsub') await wirePubSub(pubsubWiring);
    } finally {
      release();
    }
  };

  const stopAll = async (): Promise<void> => {
    // Functions first so nothing talks to an emulator that is going away.
    if (sweepTimer) clearInterval(sweepTimer);
    const order: ComponentName[] = ['inventory', 'console', ...FUNCTION_NAMES, 'tasks', 'sink', 'smtp', 'fcm', 'webpush', 'pubsub', 'firestore'];
    for (const group of [order.slice(0, FUNCTION_NAMES.length + 2), order.slice(FUNCTION_NAMES.length + 2)]) {
      await Promise.all(group.map((name) => processes.get(name)?.stop()));
    }
    rmSync(pidsFile, { force: true });
    rmSync(tasksInfoFile, { force: true });
  };

  let sweepTimer: NodeJS.Timeout | undefined;
  const pubsubWiring = {
    projectId,
    pubsub: addr('pubsub'),
    topic: RESOURCE_NAMES.topic,
    deadLetterTopic: RESOURCE_NAMES.deadLetterTopic,
    subscription: RESOURCE_NAMES.subscription,
    deadLetterSubscription: RESOURCE_NAMES.deadLetterSubscription,
    pushEndpoint: functionUrl('fanOutRestock'),
    settings: subscriptionSettings,
    shopperActions: { topic: RESOURCE_NAMES.shopperActionsTopic, subscription: RESOURCE_NAMES.shopperActionsSubscription, pushEndpoint: functionUrl('applyShopperActions') },
  };
  let tasksInfo: TasksEmulatorInfo;
  // A key of this stack's own signs and verifies task bodies (RESTOCK_TASK_SIGNING_KEYS), as Secret Manager's does in production.
  const taskSigningKey = randomBytes(32).toString('base64url');
  const functionEnvFor = (oidc: { oidcIssuer: string; jwksUrl: string }): Record<string, string> => ({
    GOOGLE_CLOUD_PROJECT: projectId,
    RESTOCK_FIRESTORE_DATABASE: firestoreDatabase,
    FIRESTORE_EMULATOR_HOST: addr('firestore'),
    PUBSUB_EMULATOR_HOST: addr('pubsub'),
    CLOUD_TASKS_EMULATOR_HOST: addr('tasks'),
    RESTOCK_DELIVERY_URL: functionUrl('deliverRestockBatch'),
    RESTOCK_FANOUT_URL: functionUrl('fanOutRestock'),
    RESTOCK_TASKS_QUEUE: RESOURCE_NAMES.queue,
    RESTOCK_TASKS_QUEUE_COUNT: String(queueNaming.tasksQueueCount),
    RESTOCK_CONTINUATION_QUEUE: RESOURCE_NAMES.continuationQueue,
    RESTOCK_TASKS_LOCATION: RESOURCE_NAMES.location,
    RESTOCK_TASKS_SERVICE_ACCOUNT: RESOURCE_NAMES.serviceAccount.replace('restock-local', projectId),
    RESTOCK_NOTIFIER: 'http',
    RESTOCK_NOTIFIER_URL: sinkUrl,
    ...(options.sinkToken ? { RESTOCK_NOTIFIER_TOKEN: options.sinkToken } : {}),
    RESTOCK_VERIFY_OIDC: 'true',
    RESTOCK_TASK_SIGNING_KEYS: taskSigningKey,
    // The Pub/Sub emulator's push subscriptions carry no OIDC token; continuations (signed by the
    // Cloud Tasks emulator) are still verified. Allowed only because FIRESTORE_EMULATOR_HOST is set.
    RESTOCK_VERIFY_PUSH_OIDC: 'false',
    RESTOCK_OIDC_ISSUERS: oidc.oidcIssuer,
    RESTOCK_OIDC_JWKS_URL: oidc.jwksUrl,
    RESTOCK_DELIVERY_MAX_ATTEMPTS: String(queueSettings.maxAttempts),
    RESTOCK_PUBSUB_MAX_DELIVERY_ATTEMPTS: String(subscriptionSettings.maxDeliveryAttempts),
    ...channelFunctionEnv(channelPorts, projectId, functionUrl('restockUnsubscribe').replace(/\/$/, '')),
    RESTOCK_OUTBOX_TOPIC: RESOURCE_NAMES.topic,
    RESTOCK_SHOPPER_ACTIONS_TOPIC: RESOURCE_NAMES.shopperActionsTopic,
    // Double opt-in is production's default (email); a local stack asks for it (`npm run demo -- --double-opt-in`, a test's env).
    RESTOCK_DOUBLE_OPT_IN: 'none',
    // One ledger shard: the emulator runs each value of an `in` as a scan of the whole collection, so a count over
    // 256 shards (9 queries of 30 values per state) would take minutes on a stack that has sent a few thousand.
    RESTOCK_LEDGER_SHARDS: '1',
    RESTOCK_OUTBOX_FIRESTORE_DATABASE: inventoryDatabase,
    // Locally an outage is seconds long: short timeouts, leases and back-off so rows catch up quickly after it.
    RESTOCK_OUTBOX_PUBLISH_TIMEOUT_MS: '3000',
    RESTOCK_OUTBOX_LEASE_MS: '10000',
    RESTOCK_OUTBOX_BACKOFF_MIN_MS: '500',
    RESTOCK_OUTBOX_BACKOFF_MAX_MS: '4000',
    LOG_LEVEL: logLevel,
    // Metrics to files of this stack's own (lib/metrics): one snapshot a second, read back by tests and the demo.
    RESTOCK_METRICS_EXPORTER: 'file',
    RESTOCK_METRICS_DIR: metricsDir,
    RESTOCK_METRICS_EXPORT_INTERVAL_MS: '1000',
    // As deployed: no functions-framework default ignored routes (/favicon.ico,
    // /robots.txt answer an empty 404 of their own otherwise, not a problem+json).
    IGNORED_ROUTES: '',
    ...options.env,
  });
  try {
    const firestore = launch('firestore', specs.get('firestore')!());
    // Topic and subscriptions as soon as Pub/Sub answers: a push endpoint that is not up yet is simply retried.
    const pubsub = launch('pubsub', specs.get('pubsub')!()).then(async () => {
      const wiringStarted = Date.now();
      await wirePubSub(pubsubWiring);
      startupMs.wiring = Date.now() - wiringStarted;
    });
    const sink = launch('sink', specs.get('sink')!());
    const channels = settleAll([launch('smtp', specs.get('smtp')!()), launch('fcm', specs.get('fcm')!()), launch('webpush', specs.get('webpush')!())]);
    // The functions need the OIDC issuer of the Cloud Tasks emulator in their environment. Waiting for
    // it would put two Node starts end to end on the critical path, so they start with the issuer the
    // emulator is expected to have (its REST base URL, keys at Google's JWKS path) and are restarted
    // in the rare case it says otherwise.
    const predicted = { oidcIssuer: `http://${addr('tasks')}`, jwksUrl: `http://${addr('tasks')}/oauth2/v3/certs` };
    functionEnv = functionEnvFor(predicted);
    const tasksAndFunctions = (async () => {
      await settleAll([
        launch('tasks', specs.get('tasks')!()).then(async () => {
          tasksInfo = JSON.parse(readFileSync(tasksInfoFile, 'utf8')) as TasksEmulatorInfo;
          await settleAll(queues.map((q) => configureQueue(addr('tasks'), q.name, queueSettings)));
        }),
        ...FUNCTION_NAMES.map((name) => launch(name, functionSpec(name))),
        launch('inventory', specs.get('inventory')!()),
        launch('console', specs.get('console')!()),
      ]);
      if (tasksInfo!.oidcIssuer !== predicted.oidcIssuer || tasksInfo!.jwksUrl !== predicted.jwksUrl) {
        progress(`the Cloud Tasks OIDC issuer is ${tasksInfo!.oidcIssuer}: restarting the functions with it`);
        functionEnv = functionEnvFor(tasksInfo!);
        await settleAll(FUNCTION_NAMES.map((name) => relaunch(name)));
      }
    })();
    // Settle everything: a failure must not leave a sibling still starting (it would outlive the cleanup below).
    await settleAll([firestore, pubsub, sink, channels, tasksAndFunctions]);
  } catch (err) {
    // Every launch has settled (settleAll), so nothing is left starting behind this.
    await stopAll();
    throw err;
  }
  startupMs.total = Date.now() - t0;

  const pids = (): Record<ComponentName, number> =>
    Object.fromEntries(COMPONENT_NAMES.map((n) => [n, processes.get(n)?.pid ?? 0])) as Record<ComponentName, number>;
  const description: StackDescription = {
    projectId,
    firestoreDatabase,
    inventoryDatabase,
    firestore: addr('firestore'),
    pubsub: addr('pubsub'),
    tasks: addr('tasks'),
    functions: Object.fromEntries(FUNCTION_NAMES.map((n) => [n, functionUrl(n)])) as Record<FunctionName, string>,
    sink: sinkUrl,
    smtp: { smtp: addr('smtp'), url: `http://${host}:${smtpViewPort}` },
    fcm: `http://${addr('fcm')}`,
    webpush: `http://${addr('webpush')}`,
    inventory: `http://${addr('inventory')}`,
    console: `http://${addr('console')}`,
    sweepIntervalMs: options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
    topic: RESOURCE_NAMES.topic,
    deadLetterTopic: RESOURCE_NAMES.deadLetterTopic,
    subscription: RESOURCE_NAMES.subscription,
    deadLetterSubscription: RESOURCE_NAMES.deadLetterSubscription,
    queue: queueName,
    deliveryQueues: queues.filter((q) => q.role === 'delivery').map((q) => q.name),
    continuationQueue: continuationQueuePath(queueNaming),
    oidcIssuer: tasksInfo!.oidcIssuer,
    jwksUrl: tasksInfo!.jwksUrl,
    logsDir,
    metricsDir,
    pids: pids(),
    launcherPid,
    startedAtMs: t0,
    env: functionEnv,
  };
  const publish = (): void => {
    description.pids = pids();
    if (options.stateFile) writeStateFile(options.stateFile, description);
  };
  publish();

  // Last resort on an ordinary exit without stop(): kill the groups synchronously.
  const onExit = (): void => {
    for (const p of processes.values()) p.killNow();
    rmSync(pidsFile, { force: true });
    if (options.stateFile) removeStateFile(options.stateFile, launcherPid);
  };
  process.once('exit', onExit);

  // Cloud Scheduler's part: call the sweep on an interval, never two at once, ignoring failures (the next call retries).
  let sweeping: Promise<void> | undefined;
  let sweepHolds = 0;
  const sweepNow = async (): Promise<number> => {
    const res = await fetch(functionUrl('relayOutbox'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await res.arrayBuffer();
    return res.status;
  };
  /** Stops the interval's calls and waits out the one under way; the returned function resumes them. */
  async function holdSweep(): Promise<() => void> {
    sweepHolds++;
    await sweeping;
    return () => {
      sweepHolds--;
    };
  }
  if (description.sweepIntervalMs > 0) {
    sweepTimer = setInterval(() => {
      if (sweeping || sweepHolds > 0) return;
      sweeping = sweepNow()
        .then(() => undefined, () => undefined)
        .finally(() => {
          sweeping = undefined;
        });
    }, description.sweepIntervalMs);
    sweepTimer.unref();
  }

  const get = (name: ComponentName): ManagedProcess => {
    const p = processes.get(name);
    if (!p) throw new UnknownComponentError(name);
    return p;
  };
  let stopping: Promise<void> | undefined;

  return {
    description,
    startupMs,
    logFile: (name) => join(logsDir, `${name}.log`),
    kill: (name, signal = 'SIGTERM') => get(name).kill(signal),
    isRunning: (name) => get(name).alive,
    sweepNow,
    restart: async (name, restartOptions) => {
      if (!processes.has(name)) throw new UnknownComponentError(name);
      if (restartOptions?.env !== undefined) restartEnv.set(name, restartOptions.env);
      await relaunch(name);
      publish();
    },
    clearFirestore: async () => {
      const res = await fetch(`http://${addr('firestore')}/emulator/v1/projects/${projectId}/databases/${firestoreDatabase}/documents`, { method: 'DELETE' });
      if (!res.ok) throw new Error(`Firestore emulator reset failed with ${res.status}: ${await res.text()}`);
    },
    snapshotFirestore: async () => {
      const exportDir = join(dir, 'firestore-export');
      rmSync(exportDir, { recursive: true, force: true });
      mkdirSync(exportDir, { recursive: true });
      const res = await fetch(`http://${addr('firestore')}/emulator/v1/projects/${projectId}:export`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ database: `projects/${projectId}/databases/${firestoreDatabase}`, export_directory: exportDir }),
      });
      if (!res.ok) throw new Error(`Firestore emulator export failed with ${res.status}: ${await res.text()}`);
      const metadata = (readdirSync(exportDir, { recursive: true }) as string[]).find((f) => f.endsWith('.overall_export_metadata'));
      if (!metadata) throw new Error(`Firestore emulator export wrote no metadata file under ${exportDir}`);
      firestoreImport = join(exportDir, metadata);
    },
    stop: () => {
      stopping ??= (async () => {
        process.off('exit', onExit);
        await stopAll();
        if (options.stateFile) removeStateFile(options.stateFile, launcherPid);
      })();
      return stopping;
    },
  };
}
