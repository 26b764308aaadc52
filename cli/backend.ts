/**
 * The CLI's connection to the pipeline: the same Firestore, Pub/Sub and Cloud
 * Tasks clients the functions use (lib/clients.ts), pointed at the resolved
 * {@link Target}, plus a guard that turns slow or failed calls into one
 * readable {@link BackendError}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Firestore } from '@google-cloud/firestore';
import { v1, type PubSub } from '@google-cloud/pubsub';
import type { CloudTasksClient } from '@google-cloud/tasks';
import * as clients from '../lib/clients.ts';
import type { Config } from '../lib/config.ts';
import { Logger } from '../lib/log.ts';
import { openOutboxStore, outboxLocation, type OpenedOutbox } from '../lib/outbox/index.ts';
import type { Io } from './output.ts';
import { parseLocalStack, resolveTarget, type CliSettings, type Target } from './target.ts';

/** Where `npm start` describes the running local stack, relative to the checkout. */
export const LOCAL_STACK_FILE = fileURLToPath(new URL('../.local/stack.json', import.meta.url));

/** Everything a command's operations need to talk to the pipeline. */
export interface Backend {
  target: Target;
  config: Config;
  settings: CliSettings;
  db: Firestore;
  pubsub: PubSub;
  /** The Cloud Tasks client (emulator-aware, lib/clients.ts), built on first use. */
  tasks(): CloudTasksClient;
  /**
   * The inventory service's outbox where the settings say it lives
   * (RESTOCK_OUTBOX_BACKEND, RESTOCK_OUTBOX_PROJECT, ...), opened on first use.
   * @throws ConfigError naming the setting when the location is incomplete.
   */
  outbox(): OpenedOutbox;
  /** The low-level subscriber, for synchronous pull / ack / modifyAckDeadline. */
  subscriber(): Promise<v1.SubscriberClient>;
  /** Logger for the library code the CLI calls (replay, redrive): to stderr, so stdout stays clean. */
  log: Logger;
  /** Closes every client that was opened (best effort: a CLI is about to exit anyway). */
  close(): Promise<void>;
}

/**
 * Resolves the target (flags, environment, `.local/stack.json`), applies it to
 * `process.env` (the Google clients read their emulator hosts from there when
 * they are built) and builds the clients. Prints on stderr which pipeline it is.
 * @throws UsageError when there is no target or a setting is malformed.
 */
export function connect(io: Io, options: { project?: string | undefined; verbose?: boolean }): Backend {
  const stackPath = io.env.RESTOCK_STACK_FILE || LOCAL_STACK_FILE;
  let stack = existsSync(stackPath) ? { path: stackPath, value: parseLocalStack(readFileSync(stackPath, 'utf8'), stackPath) } : undefined;
  if (stack?.value.launcherPid !== undefined && !processAlive(stack.value.launcherPid)) {
    io.stderr.write(`restock: ignoring ${stackPath}: its launcher (pid ${stack.value.launcherPid}) is gone\n`);
    stack = undefined;
  }
  const target = resolveTarget({ env: io.env, project: options.project, stack });
  Object.assign(process.env, target.overrides);
  io.stderr.write(`restock: ${target.description}\n`);
  const { config } = target;
  let subscriberClient: v1.SubscriberClient | undefined;
  let tasksClient: CloudTasksClient | undefined;
  let outbox: OpenedOutbox | undefined;
  const pubsub = clients.pubsub(config);
  const db = clients.firestore(config);
  return {
    target,
    config,
    settings: target.settings,
    db,
    pubsub,
    tasks() {
      tasksClient ??= clients.tasks(config);
      return tasksClient;
    },
    outbox() {
      outbox ??= openOutboxStore(outboxLocation(config));
      return outbox;
    },
    async subscriber() {
      // getClientConfig carries the emulator endpoint (or the real one) and the project.
      const { port, ...rest } = await pubsub.getClientConfig();
      subscriberClient ??= new v1.SubscriberClient({ ...rest, ...(port !== undefined ? { port: Number(port) } : {}) });
      return subscriberClient;
    },
    log: new Logger({ service: 'restock-cli' }, options.verbose ? 'DEBUG' : 'WARNING', (line) => io.stderr.write(line + '\n')),
    async close() {
      await Promise.allSettled([db.terminate(), pubsub.close(), subscriberClient?.close(), tasksClient?.close(), outbox?.close()]);
    },
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
