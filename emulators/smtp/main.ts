/**
 * Runs the local mail server on its own:
 * `tsx emulators/smtp/main.ts --host 127.0.0.1 --port 2525 --http-port 8091`.
 * The local stack starts it this way as its `smtp` component.
 */
import { Command } from 'commander';
import { log } from '../../lib/log.ts';
import { startSmtpEmulator } from './server.ts';

const program = new Command('smtp')
  .description('Local SMTP server: records every message with its headers, serves them over HTTP, injects faults.')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--port <port>', 'SMTP port (0 = any free port)', '2525')
  .option('--http-port <port>', 'port of the HTTP view (0 = any free port)', '8091')
  .parse();

const opts = program.opts<{ host: string; port: string; httpPort: string }>();
const server = await startSmtpEmulator({ host: opts.host, smtpPort: Number(opts.port), httpPort: Number(opts.httpPort) });
log.info('smtp server ready', { smtpPort: server.smtpPort, url: server.url });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
