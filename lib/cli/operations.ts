/**
 * Everything the commands do to the pipeline, behind one interface: commands
 * parse, confirm and render; operations read and write. The real set talks to
 * Firestore, Pub/Sub and (through lib/fanout and lib/delivery) Cloud Tasks;
 * unit tests pass their own.
 */
import { redriveDeliveries, type RedriveResult } from '../delivery/index.ts';
import { replayFanout, type FanoutProgress, type ReplayResult } from '../fanout/index.ts';
import type { DeliveryState } from '../model.ts';
import type { OutboxStore } from '../outbox/index.ts';
import type { Runtime } from '../runtime.ts';
import type { Backend } from './backend.ts';
import { UsageError } from './errors.ts';
import { pullDeadLetters, settleDeadLetters, type DeadLetter } from './commands/deadLetters.ts';
import { outboxStore } from './commands/outbox.ts';
import { publishMessage } from './commands/publish.ts';
import { readStockState, writeStockReset, type StockReset, type StockState } from './commands/product.ts';
import { readStatus, type StatusReport } from './commands/status.ts';
import { countSubscribers, listSubscribers, type SubscriberRow } from './commands/subscribers.ts';
import { readTrace, type TraceQuery, type TraceReport } from './commands/trace.ts';
import type { CliSettings, Target } from './target.ts';

export interface Operations {
  settings: CliSettings;
  /** The project the commands act on, and which of its services are emulators. */
  target: { projectId: string; emulators: Target['emulators'] };
  readStatus(eventKey: string): Promise<StatusReport>;
  readTrace(query: TraceQuery): Promise<TraceReport>;
  countSubscribers(productId: string): Promise<number>;
  listSubscribers(productId: string, limit: number): Promise<SubscriberRow[]>;
  /** Resolves to the new message's id. */
  publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string>;
  pullDeadLetters(limit: number): Promise<DeadLetter[]>;
  readStock(productId: string): Promise<StockState>;
  /** Writes the reset if the state is still `expected`. @throws StockChangedError */
  resetStock(productId: string, expected: StockState, reset: StockReset): Promise<StockState>;
  settleDeadLetters(messages: DeadLetter[], how: 'ack' | 'release'): Promise<void>;
  replay(eventKey: string, options: { dryRun: boolean; onProgress?: (p: FanoutProgress) => void }): Promise<ReplayResult>;
  redrive(eventKey: string, options: { states: DeliveryState[]; dryRun: boolean }): Promise<RedriveResult>;
  /** @throws UsageError when tasks cannot be created as the functions do (settings missing); a dry run needs none. */
  assertCanEnqueue(dryRun: boolean): void;
  /** The inventory service's outbox (`restock outbox`). */
  outbox(): OutboxStore;
  /** Closes the clients so the process can exit. */
  close(): Promise<void>;
}

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
    countSubscribers: (productId) => countSubscribers(backend, productId),
    listSubscribers: (productId, limit) => listSubscribers(backend, productId, limit),
    publish: (topic, data, attributes) => publishMessage(backend, topic, data, attributes),
    pullDeadLetters: (limit) => pullDeadLetters(backend, limit),
    readStock: (productId) => readStockState(backend.db, productId),
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
    assertCanEnqueue: checkTaskSettings,
    outbox: () => outboxStore(backend),
    close: () => backend.close(),
  };
}
