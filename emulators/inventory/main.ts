/**
 * Runs the inventory stand-in on its own:
 * `tsx emulators/inventory/main.ts --host 127.0.0.1 --port 8091`, with
 * FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and the RESTOCK_OUTBOX_*
 * settings in the environment. The local stack starts it this way, on a
 * Firestore database of its own (RESTOCK_OUTBOX_FIRESTORE_DATABASE=inventory):
 * an inventory service's items and outbox are not the pipeline's data.
 */
import { Firestore } from '@google-cloud/firestore';
import { Command } from 'commander';
import { firestoreOptions, pubsub } from '../../lib/clients.ts';
import { ConfigError, loadConfig, SETTINGS } from '../../lib/config.ts';
import { log } from '../../lib/log.ts';
import { startMetrics } from '../../lib/metrics/index.ts';
import { outboxLocation, pubsubPublisher } from '../../lib/outbox/index.ts';
import { startInventory } from './server.ts';

const program = new Command('inventory')
  .description('Local inventory service: stock updates through the outbox kit.')
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--port <port>', 'port (0 = any free port)', '8091')
  .parse();
const opts = program.opts<{ host: string; port: string }>();

const config = loadConfig();
const location = outboxLocation(config);
if (location.backend !== 'firestore') throw new ConfigError(SETTINGS.outboxBackend.env, 'the inventory stand-in keeps its outbox in Firestore; unset it (or set firestore)');
const db = new Firestore(firestoreOptions({ projectId: location.projectId, firestoreDatabase: location.databaseId }));
const server = await startInventory({
  host: opts.host,
  port: Number(opts.port),
  db,
  publisher: pubsubPublisher(pubsub(config), config.outboxTopic, { timeoutMs: config.outboxPublishTimeoutMs }),
  config,
  // The fast path runs here, in the inventory service: its outbox lag is counted by this process.
  metrics: startMetrics(config, 'inventory'),
});
// Open the Firestore and Pub/Sub connections now, so the first stock update does not pay for them
// (its publish would overrun the fast path's short bound and wait for the sweep).
await Promise.allSettled([db.collection(server.outbox.outboxCollection).limit(1).get(), pubsub(config).topic(config.outboxTopic).exists()]);
log.info('inventory ready', { url: server.url, component: 'inventory', database: location.databaseId });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
