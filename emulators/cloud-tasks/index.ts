/**
 * A Cloud Tasks emulator that Google's own clients cannot tell from the real
 * service: the v2 API over gRPC and REST on one port, HTTP tasks dispatched
 * for real (rate limits, concurrency, deadlines, retries with the real
 * backoff, the real headers, OIDC tokens verifiable through a served JWKS),
 * and task-name dedup with a reuse window.
 *
 * ```ts
 * const emulator = await startCloudTasksEmulator({ port: 0, queues: ['projects/p/locations/l/queues/q'] });
 * const client = new CloudTasksClient(tasksClientOptions(emulator.address));
 * ```
 */
import { Logger, type Severity } from '../../lib/log.ts';
import { createApi } from './api.ts';
import { Dispatcher } from './dispatcher.ts';
import { createGrpcFront } from './grpc-front.ts';
import { listenShared } from './listener.ts';
import type { EmulatorStats } from './model.ts';
import { parseQueueName } from './names.ts';
import { createOidcIssuer } from './oidc.ts';
import { loadProtos } from './protos.ts';
import { createRestHandler } from './rest-front.ts';
import { TaskStore } from './store.ts';

export { EMULATOR_PATH } from './rest-front.ts';
export { grpcClientOptions, restClientOptions } from './client-options.ts';
export type { EmulatorStats, QueueStats, QueueCounters } from './model.ts';

export interface CloudTasksEmulatorOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Default 9499; 0 picks a free port. */
  port?: number;
  /** Full names `projects/P/locations/L/queues/Q`, created at start with the default settings. */
  queues?: string[];
  /** How long an executed or deleted task's name stays unusable; default 3_600_000 (the real service's ~1 h). */
  taskNameReuseWindowMs?: number;
  /** Lowest severity logged; `debug` logs every dispatch attempt. Default `info`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface CloudTasksEmulator {
  host: string;
  port: number;
  /** "host:port", the value for CLOUD_TASKS_EMULATOR_HOST */
  address: string;
  /** base URL for REST, e.g. http://127.0.0.1:9499 */
  restUrl: string;
  /** issuer (`iss`) of the OIDC tokens it signs, and where its JWKS is served */
  oidcIssuer: string;
  jwksUrl: string;
  /** forget executed/deleted task names (the reuse window), for tests */
  resetTaskNameReuse(): void;
  /** queue depth etc. (same data as the summary endpoint) */
  stats(): Promise<EmulatorStats>;
  stop(): Promise<void>;
}

const SEVERITY: Record<NonNullable<CloudTasksEmulatorOptions['logLevel']>, Severity> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
};

/** The host to put in URLs: a wildcard bind address is reached through loopback. */
function reachableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Starts the emulator and resolves once it accepts connections.
 * Throws `InvalidArgumentError` for a malformed queue name in `queues`, and
 * the listen error (e.g. EADDRINUSE) when the port is taken.
 */
export async function startCloudTasksEmulator(options: CloudTasksEmulatorOptions = {}): Promise<CloudTasksEmulator> {
  const host = options.host ?? '127.0.0.1';
  const minimum = SEVERITY[options.logLevel ?? 'info'];
  const log = new Logger({ service: 'cloud-tasks-emulator' }, minimum);
  const protos = loadProtos();
  const store = new TaskStore(options.taskNameReuseWindowMs ?? 3_600_000);
  for (const name of options.queues ?? []) {
    const parsed = parseQueueName(name, 'queues');
    store.createQueue(parsed.parent, parsed, {});
  }
  const api = createApi(store, protos);
  const grpc = createGrpcFront(api, protos, log);

  // The issuer is the emulator's own URL, known only once the port is bound; the handler reads it lazily.
  let oidc: Awaited<ReturnType<typeof createOidcIssuer>> | undefined;
  const rest = createRestHandler({
    api,
    protos,
    oidc: () => oidc!,
    log,
    stats: () => store.stats(),
    resetTaskNameReuse: () => store.resetTaskNameReuse(),
  });
  const listener = await listenShared(host, options.port ?? 9499, (socket) => grpc.inject(socket), rest);
  const urlHost = reachableHost(host);
  const restUrl = `http://${urlHost}:${listener.port}`;
  oidc = await createOidcIssuer(restUrl);
  const dispatcher = new Dispatcher(store, oidc, log);
  dispatcher.wake();

  let stopped: Promise<void> | undefined;
  return {
    host,
    port: listener.port,
    address: `${urlHost}:${listener.port}`,
    restUrl,
    oidcIssuer: oidc.issuer,
    jwksUrl: oidc.jwksUrl,
    resetTaskNameReuse: () => store.resetTaskNameReuse(),
    stats: async () => store.stats(),
    stop: () => {
      stopped ??= (async () => {
        await dispatcher.stop();
        grpc.stop();
        await listener.close();
      })();
      return stopped;
    },
  };
}
