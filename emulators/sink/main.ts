/**
 * Runs the notification sink on its own:
 * `tsx emulators/sink/main.ts --host 127.0.0.1 --port 8090 [--token T]`.
 * The local stack starts it this way, as one process per component.
 */
import { Command } from 'commander';
import { log } from '../../lib/log.ts';
import { startSink } from './server.ts';

const program = new Command('sink')
  .description('Local notification service: records requests, honours idempotency keys, injects faults.')
  .option('--host <host>', 'interface to listen on', process.env.SINK_HOST ?? '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', process.env.SINK_PORT ?? '8090')
  .option('--token <token>', 'require Authorization: Bearer <token> on sends', process.env.SINK_TOKEN)
  .parse();

const opts = program.opts<{ host: string; port: string; token?: string }>();
const sink = await startSink({ host: opts.host, port: Number(opts.port), ...(opts.token ? { token: opts.token } : {}) });
log.info('sink ready', { url: sink.url });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void sink.stop().then(() => process.exit(0));
  });
}
