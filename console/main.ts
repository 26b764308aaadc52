/**
 * Runs the console: `tsx console/main.ts --host 127.0.0.1 --port 8095`.
 *
 * It finds the pipeline as the `restock` CLI does (cli/target.ts): the
 * emulator variables or GOOGLE_CLOUD_PROJECT in the environment (the local
 * stack starts it with the functions' environment), else `.local/stack.json`.
 * A port of 0 takes any free one; the URL it listens on is logged.
 */
import { serve } from '@hono/node-server';
import { Command } from 'commander';
import { intArg } from '../cli/args.ts';
import { connect } from '../cli/backend.ts';
import { errorLine, exitTwoOnUsageError } from '../cli/errors.ts';
import { backendOperations } from '../cli/operations.ts';
import { processIo } from '../cli/output.ts';
import { log } from '../lib/log.ts';
import { consoleApp } from './app.ts';

// A wrong command line exits 2, as the CLI's and the stack's do.
const program = exitTwoOnUsageError(new Command('console'))
  .description('The restock console: restocks, their progress and a shopper trace, in a browser.')
  .option('--host <host>', 'interface to listen on', process.env.CONSOLE_HOST ?? '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', process.env.CONSOLE_PORT ?? '8095')
  // Checked: the poll window also bounds how long a read is shared (console/shared-read.ts), so NaN would share one forever.
  .option('--poll-ms <ms>', 'how often a restock page refreshes while the restock runs', intArg(100, 60_000), 1000)
  .parse();
const opts = program.opts<{ host: string; port: string; pollMs: number }>();

let backend: ReturnType<typeof connect>;
try {
  backend = connect(processIo(), {});
} catch (err) {
  process.stderr.write(`console: ${errorLine(err)}\n`);
  process.exit(2);
}
const app = consoleApp({ ops: backendOperations(backend), log, pollMs: opts.pollMs });
const server = serve({ fetch: app.fetch, hostname: opts.host, port: Number(opts.port) }, (info) => {
  log.info('console ready', { url: `http://${opts.host}:${info.port}/` });
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    void backend.close().then(() => process.exit(0));
  });
}
