/**
 * Runs the local FCM v1 stand-in on its own:
 * `tsx emulators/fcm/main.ts --host 127.0.0.1 --port 8092`.
 * The local stack starts it this way as its `fcm` component.
 */
import { Command } from 'commander';
import { log } from '../../lib/log.ts';
import { startFcmEmulator } from './server.ts';

const program = new Command('fcm')
  .description('Local Firebase Cloud Messaging v1 stand-in: records messages, answers FCM error shapes on demand.')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', '8092')
  .parse();

const opts = program.opts<{ host: string; port: string }>();
const server = await startFcmEmulator({ host: opts.host, port: Number(opts.port) });
log.info('fcm stand-in ready', { url: server.url });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
