/**
 * The real {@link Operations}: against a connected {@link Backend}, the same
 * Firestore, Pub/Sub and (through lib/fanout and lib/delivery) Cloud Tasks the
 * functions use. The interface is `ports.ts`.
 */
import { redriveDeliveries, upgradeLedgerShards } from '../lib/delivery/index.ts';
import { replayFanout } from '../lib/fanout/index.ts';
import type { Runtime } from '../lib/runtime.ts';
import type { Backend } from './backend.ts';
import { UsageError } from './errors.ts';
import { publishMessage } from './commands/publish.ts';
import type { Operations } from './ports.ts';
import { pullDeadLetters, settleDeadLetters } from './queries/dead-letters.ts';
import { readDemand, readProductDemand } from './queries/demand.ts';
import { outboxStore } from './queries/outbox.ts';
import { changeQueues, readQueues } from './queries/queues.ts';
import { readProductForMessage, readStockState, writeStockReset } from './queries/stock.ts';
import { readRestocks } from './queries/restocks.ts';
import { readStatus } from './queries/status.ts';
import { countSubscribers, listSubscribers } from './queries/subscribers.ts';
import { readTrace } from './queries/trace.ts';
import { FirestoreShopperData } from '../lib/shoppers/index.ts';

export type { Operations } from './ports.ts';

/** The operations against a connected {@link Backend}. */
export function backendOperations(backend: Backend): Operations {
  const { config, log } = backend;
  // The CLI's own configuration (flags, .local/stack.json) and clients, not the
  // process-wide runtime a function builds from its environment.
  const runtime = (): Runtime => ({ config, db: backend.db, tasks: backend.tasks(), log, now: Date.now });
  const checkTaskSettings = (dryRun: boolean) => {
    const missing = backend.target.missingTaskSettings;
    if (!dryRun && missing.length) {
      throw new UsageError(`this creates Cloud Tasks as the functions do: set ${missing.join(', ')} to the values the functions use (or use the local stack's .local/stack.json)`, missing[0]);
    }
  };
  return {
    settings: backend.settings,
    target: { projectId: config.projectId, emulators: backend.target.emulators },
    readStatus: (eventKey) => readStatus(backend, eventKey),
    readTrace: (query) => readTrace(backend, query),
    readRestocks: (query) => readRestocks(backend, query),
    readDemand: (query) => readDemand(backend, query),
    readProductDemand: (productId, nowMs) => readProductDemand(backend, productId, nowMs),
    countSubscribers: (productId) => countSubscribers(backend, productId),
    listSubscribers: (productId, limit) => listSubscribers(backend, productId, limit),
    publish: (topic, data, attributes) => publishMessage(backend, topic, data, attributes),
    pullDeadLetters: (limit) => pullDeadLetters(backend, limit),
    readStock: (productId) => readStockState(backend.db, productId),
    readProductForMessage: (productId) => readProductForMessage(backend.db, productId),
    resetStock: (productId, expected, reset) => writeStockReset(backend.db, productId, expected, reset, Date.now()),
    settleDeadLetters: (messages, how) => settleDeadLetters(backend, messages, how),
    replay: async (eventKey, options) => {
      checkTaskSettings(options.dryRun);
      return replayFanout(runtime(), eventKey, options);
    },
    redrive: async (eventKey, options) => {
      checkTaskSettings(options.dryRun);
      return redriveDeliveries(runtime(), eventKey, options);
    },
    upgradeLedgerShards: (options) => upgradeLedgerShards(backend.db, { ...options, shards: backend.config.ledgerShards }),
    assertCanEnqueue: checkTaskSettings,
    readQueues: () => readQueues(backend),
    changeQueues: (action, names) => changeQueues(backend, action, names),
    outbox: () => outboxStore(backend),
    shoppers: () => new FirestoreShopperData(backend.db, { ledgerTtlDays: config.ledgerTtlDays }),
    close: () => backend.close(),
  };
}
