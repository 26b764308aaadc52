/**
 * Entry point of the Cloud Tasks emulator as a stack component:
 * `tsx emulators/stack/tasks-child.ts --host H --port P --queue Q --info-file F`.
 *
 * The stack runs the emulator in a child process (one process per component,
 * like the Java emulators and the functions), so dispatching tasks never
 * competes with the launcher's or the test runner's event loop, and fault
 * tests can kill it. Once listening it writes what the launcher cannot guess
 * (OIDC issuer, JWKS URL) to the info file, atomically.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { log } from '../../lib/log.ts';
import { startCloudTasksEmulator } from '../cloud-tasks/index.ts';

/** What the child reports once ready. */
export interface TasksEmulatorInfo {
  address: string;
  restUrl: string;
  oidcIssuer: string;
  jwksUrl: string;
}

const program = new Command('tasks-child')
  .requiredOption('--host <host>')
  .requiredOption('--port <port>')
  .option('--queue <name...>', 'full queue names to create', [])
  .requiredOption('--info-file <path>')
  .parse();
const opts = program.opts<{ host: string; port: string; queue: string[]; infoFile: string }>();

// Handlers first: a supervisor may signal as soon as the process exists, even before it is ready.
let stopping: (() => Promise<void>) | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void (stopping?.() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

const level = process.env.LOG_LEVEL;
const emulator = await startCloudTasksEmulator({
  host: opts.host,
  port: Number(opts.port),
  queues: opts.queue,
  ...(level === 'debug' || level === 'info' || level === 'warn' || level === 'error' ? { logLevel: level } : {}),
});
stopping = () => emulator.stop();
const info: TasksEmulatorInfo = {
  address: emulator.address,
  restUrl: emulator.restUrl,
  oidcIssuer: emulator.oidcIssuer,
  jwksUrl: emulator.jwksUrl,
};
writeFileSync(`${opts.infoFile}.tmp`, JSON.stringify(info));
renameSync(`${opts.infoFile}.tmp`, opts.infoFile);
log.info('cloud tasks emulator ready', { hostPort: info.address, restUrl: info.restUrl, oidcIssuer: info.oidcIssuer });

