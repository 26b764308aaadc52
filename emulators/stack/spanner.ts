/**
 * The Spanner emulator of the Google Cloud CLI, for the outbox kit's Spanner
 * adapter (tests and the bench): not part of the pipeline's stack, started on
 * its own in its own process group, with an instance and a database made
 * from the kit's DDL.
 */
import { join } from 'node:path';
import { Spanner, type Database } from '@google-cloud/spanner';
import { SPANNER_INVENTORY_ITEMS_DDL, SPANNER_OUTBOX_DDL } from '../../lib/outbox/spanner.ts';
import { spannerCommand } from './gcloud-emulators.ts';
import { ManagedProcess } from './managed-process.ts';
import { freePort, httpStatus } from './ports.ts';
import { REPO_ROOT } from './state-file.ts';

export interface SpannerEmulator {
  /** host:port of its gRPC endpoint (SPANNER_EMULATOR_HOST). */
  host: string;
  /** A client pointed at it. */
  spanner: Spanner;
  /** A database with the outbox and inventory items tables; each call makes a fresh one. */
  database(): Promise<Database>;
  stop(): Promise<void>;
}

/**
 * Starts the emulator on free ports and resolves once it answers.
 * Sets SPANNER_EMULATOR_HOST in this process (the client reads nothing else), and
 * GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS=false (see below).
 * @throws ToolMissingError without the Google Cloud CLI; ComponentStartError when it does not start.
 */
export async function startSpannerEmulator(o: { projectId?: string; logDir?: string } = {}): Promise<SpannerEmulator> {
  const projectId = o.projectId ?? 'restock-local';
  const host = '127.0.0.1';
  const [grpcPort, httpPort] = [await freePort(host), await freePort(host)];
  const p = new ManagedProcess({
    name: 'spanner',
    ...spannerCommand(host, grpcPort, httpPort),
    env: process.env,
    cwd: REPO_ROOT,
    logFile: join(o.logDir ?? join(REPO_ROOT, '.local', 'spanner'), `spanner-${grpcPort}.log`),
    ready: async () => (await httpStatus(`http://${host}:${httpPort}/v1/projects/${projectId}/instanceConfigs`)) === 200,
    readyTimeoutMs: 60_000,
  });
  await p.start();
  process.env.SPANNER_EMULATOR_HOST = `${host}:${grpcPort}`;
  // The client's default multiplexed sessions come back from this emulator without their
  // `multiplexed` flag, and every read-write transaction then ends in "Unable to release
  // unknown resource" (the client returns the session to a pool that never lent it).
  process.env.GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS ??= 'false';
  const spanner = new Spanner({ projectId });
  const instanceId = 'restock-outbox';
  const [, operation] = await spanner.createInstance(instanceId, { config: 'emulator-config', nodes: 1, displayName: 'outbox tests' });
  await operation.promise();
  let n = 0;
  return {
    host: `${host}:${grpcPort}`,
    spanner,
    async database() {
      const [db, op] = await spanner.instance(instanceId).createDatabase(`outbox-${++n}`, { schema: [...SPANNER_OUTBOX_DDL, ...SPANNER_INVENTORY_ITEMS_DDL] });
      await op.promise();
      return db;
    },
    async stop() {
      spanner.close();
      await p.stop();
    },
  };
}
