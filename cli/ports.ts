/**
 * Everything the commands do to the pipeline, behind one interface: commands
 * parse, confirm and render; operations read and write. The real set
 * (`operations.ts`) talks to Firestore, Pub/Sub and (through lib/fanout and
 * lib/delivery) Cloud Tasks; unit tests pass their own.
 *
 * It names read models (`queries/`) and domain results only, never a command,
 * so commands and operations do not import each other.
 */
import type { RedriveResult, ShardUpgradeResult } from '../lib/delivery/index.ts';
import type { FanoutProgress, ReplayResult } from '../lib/fanout/index.ts';
import type { RedrivableState } from '../lib/model.ts';
import type { OutboxStore } from '../lib/outbox/index.ts';
import type { ShopperData } from '../lib/shoppers/index.ts';
import type { DeadLetter } from './queries/dead-letters.ts';
import type { DemandQuery, DemandReport, ProductDemandReport } from './queries/demand.ts';
import type { QueueAction, QueueView } from './queries/queues.ts';
import type { RestocksQuery, RestocksReport } from './queries/restocks.ts';
import type { StatusReport } from './queries/status.ts';
import type { ProductForMessage, StockReset, StockState } from './queries/stock.ts';
import type { SubscriberRow } from './queries/subscribers.ts';
import type { TraceQuery, TraceReport } from './queries/trace.ts';
import type { CliSettings, Target } from './target.ts';

/** What a command may do to the pipeline. */
export interface Operations {
  settings: CliSettings;
  /** The project the commands act on, and which of its services are emulators. */
  target: { projectId: string; emulators: Target['emulators'] };
  readStatus(eventKey: string): Promise<StatusReport>;
  readTrace(query: TraceQuery): Promise<TraceReport>;
  /** The restocks that started in a window, newest first, with their deliveries counted by state (`restock restocks`, the console's overview). */
  readRestocks(query: RestocksQuery): Promise<RestocksReport>;
  /** The products with the most shoppers waiting, their sign-ups per day and their last restock's funnel (`restock demand`, the console's demand page). */
  readDemand(query: DemandQuery): Promise<DemandReport>;
  /** One product's shoppers waiting, sign-ups per day and past restocks with their funnels (`restock product demand`, the console's product page). */
  readProductDemand(productId: string, nowMs: number): Promise<ProductDemandReport>;
  countSubscribers(productId: string): Promise<number>;
  listSubscribers(productId: string, limit: number): Promise<SubscriberRow[]>;
  /** Resolves to the new message's id. */
  publish(topic: string, data: Buffer, attributes: Record<string, string>): Promise<string>;
  pullDeadLetters(limit: number): Promise<DeadLetter[]>;
  readStock(productId: string): Promise<StockState>;
  /** The product as a message would name it; undefined when never seen. */
  readProductForMessage(productId: string): Promise<ProductForMessage | undefined>;
  /** Writes the reset if the state is still `expected`. @throws StockChangedError */
  resetStock(productId: string, expected: StockState, reset: StockReset): Promise<StockState>;
  settleDeadLetters(messages: DeadLetter[], how: 'ack' | 'release'): Promise<void>;
  replay(eventKey: string, options: { dryRun: boolean; onProgress?: (p: FanoutProgress) => void }): Promise<ReplayResult>;
  /** @throws NotRedrivableError (lib/delivery) for a state the domain does not let a redrive take. */
  redrive(eventKey: string, options: { states: RedrivableState[]; dryRun: boolean }): Promise<RedriveResult>;
  /** Gives ledger entries written before they carried a shard their shard, then marks the fan-outs (`restock ledger-shards`). */
  upgradeLedgerShards(options: { dryRun: boolean; onProgress?: (r: ShardUpgradeResult) => void }): Promise<ShardUpgradeResult>;
  /** @throws UsageError when tasks cannot be created as the functions do (settings missing); a dry run needs none. */
  assertCanEnqueue(dryRun: boolean): void;
  /** Every queue of the pipeline (delivery shards, then the continuation queue) with its state and depth. */
  readQueues(): Promise<QueueView[]>;
  /** Pauses, resumes or purges the queues named (full names), resolving to their views after. */
  changeQueues(action: QueueAction, names: readonly string[]): Promise<QueueView[]>;
  /** A shopper's data: export and erasure (`restock shopper`). */
  shoppers(): ShopperData;
  /** The inventory service's outbox (`restock outbox`). */
  outbox(): OutboxStore;
  /** Closes the clients so the process can exit. */
  close(): Promise<void>;
}
