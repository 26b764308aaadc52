/**
 * Runs the local web push stand-in on its own:
 * `tsx emulators/webpush/main.ts --host 127.0.0.1 --port 8093`.
 * The local stack starts it this way as its `webpush` component.
 */
import { Command } from 'commander';
import { log } from '../../lib/log.ts';
import { startWebPushEmulator } from './server.ts';

const program = new Command('webpush')
  .description('Local web push service stand-in (RFC 8030/8291/8292): hands out subscriptions, verifies VAPID, decrypts and records pushes.')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', '8093')
  .parse();

const opts = program.opts<{ host: string; port: string }>();
const server = await startWebPushEmulator({ host: opts.host, port: Number(opts.port) });
log.info('webpush stand-in ready', { url: server.url });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
