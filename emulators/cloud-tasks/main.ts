/**
 * `npm run tasks-emulator -- --host 127.0.0.1 --port 9499 --queue projects/P/locations/L/queues/Q`
 *
 * Runs the Cloud Tasks emulator in the foreground, prints one readiness line
 * (JSON, with the address to export as CLOUD_TASKS_EMULATOR_HOST), and stops
 * cleanly on SIGINT/SIGTERM/SIGHUP or when the npm process that started it
 * is gone. `stats --address host:port` prints the queues' depth from a
 * running emulator.
 */
import { Command, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { Logger } from '../../lib/log.ts';
import { watchWrappers } from '../parent-watch.ts';
import { exitTwoOnUsageError } from '../../cli/errors.ts';
import { EMULATOR_PATH, startCloudTasksEmulator, type CloudTasksEmulator, type EmulatorStats } from './index.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CommanderArgumentError('expected a port number 0-65535');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function printStats(stats: EmulatorStats): void {
  const rows = stats.queues.map((q) => [q.name, q.state, q.depth, q.due, q.running, q.counters.succeeded, q.counters.failedAttempts, q.counters.exhausted]);
  const header = ['queue', 'state', 'depth', 'due', 'running', 'succeeded', 'failed attempts', 'exhausted'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  for (const row of [header, ...rows]) process.stdout.write(row.map((c, i) => String(c).padEnd(widths[i]!)).join('  ') + '\n');
}

const log = new Logger({ service: 'cloud-tasks-emulator' });

const program = exitTwoOnUsageError(new Command('tasks-emulator'))
  .description('Cloud Tasks v2 emulator: gRPC and REST on one port, real HTTP dispatch')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', port, 9499)
  .option('--queue <name>', 'queue to create at start, projects/P/locations/L/queues/Q (repeatable)', collect, [])
  .addOption(new Option('--task-name-reuse-window-ms <ms>', 'how long executed/deleted task names stay unusable').argParser(port).default(3_600_000))
  .addOption(new Option('--log-level <level>', 'lowest severity logged (debug logs every dispatch attempt)').choices(['debug', 'info', 'warn', 'error']).default(process.env.LOG_LEVEL ?? 'info'))
  .action(async (opts: { host: string; port: number; queue: string[]; taskNameReuseWindowMs: number; logLevel: 'debug' | 'info' | 'warn' | 'error' }) => {
    // Handlers go in before the readiness line: a supervisor may signal as soon as it reads it.
    let emulator: CloudTasksEmulator | undefined;
    const shutdown = (): void => {
      void (emulator?.stop() ?? Promise.resolve()).then(() => process.exit(0));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    process.once('SIGHUP', shutdown);
    // `kill <npm pid>` ends npm without passing the signal on: stop as if it had.
    watchWrappers(shutdown);
    emulator = await startCloudTasksEmulator({
      host: opts.host,
      port: opts.port,
      queues: opts.queue,
      taskNameReuseWindowMs: opts.taskNameReuseWindowMs,
      logLevel: opts.logLevel,
    });
    log.info(`Cloud Tasks emulator ready on ${emulator.address} (gRPC and REST); export CLOUD_TASKS_EMULATOR_HOST=${emulator.address}`, {
      emulatorHost: emulator.address,
      restUrl: emulator.restUrl,
      jwksUrl: emulator.jwksUrl,
      queues: opts.queue,
      pid: process.pid,
    });
  });

program
  .command('stats')
  .description('print the queues of a running emulator: depth, due, running, outcomes')
  .requiredOption('--address <host:port>', 'the emulator', process.env.CLOUD_TASKS_EMULATOR_HOST)
  .action(async (opts: { address: string }) => {
    const res = await fetch(`http://${opts.address}${EMULATOR_PATH}/stats`);
    printStats((await res.json()) as EmulatorStats);
  });

program.parseAsync().catch((err: unknown) => {
  log.error('tasks-emulator failed', { err });
  process.exit(1);
});
