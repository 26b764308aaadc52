/**
 * In-process harness for the CLI: captured streams, a scripted confirmation,
 * and operations that record what they were asked to do.
 */
import { main } from '../../../cli/main.ts';
import type { DeadLetter } from '../../../cli/commands/deadLetters.ts';
import type { StatusReport } from '../../../cli/commands/status.ts';
import type { Operations } from '../../../cli/operations.ts';
import type { Io } from '../../../cli/output.ts';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  /** Questions asked through the confirmation prompt. */
  asked: string[];
}

export async function run(
  argv: string[],
  options: { ops?: Partial<Operations>; tty?: boolean; answer?: boolean | undefined; nowMs?: () => number; env?: Record<string, string> } = {},
): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const asked: string[] = [];
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s), isTTY: options.tty ?? false },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env: options.env ?? {},
    async confirm(question) {
      asked.push(question);
      return options.answer;
    },
  };
  const ops = fakeOperations(options.ops);
  const code = await main(argv, io, { connect: async () => ops, nowMs: options.nowMs ?? (() => 1_700_000_000_000), sleep: async () => undefined });
  return { code, stdout, stderr, asked };
}

/** Operations that fail loudly when a test did not expect them to be called. */
export function fakeOperations(overrides: Partial<Operations> = {}): Operations {
  const unexpected = (name: string) => async () => {
    throw new Error(`unexpected call to ${name}`);
  };
  return {
    settings: { topic: 'inventory-updated', deadLetterSubscription: 'inventory-updated-dead-letter' },
    target: { projectId: 'restock-local', emulators: { firestore: true, pubsub: true, tasks: true } },
    readStatus: unexpected('readStatus'),
    readTrace: unexpected('readTrace'),
    readRestocks: unexpected('readRestocks'),
    readDemand: unexpected('readDemand'),
    readProductDemand: unexpected('readProductDemand'),
    countSubscribers: unexpected('countSubscribers'),
    listSubscribers: unexpected('listSubscribers'),
    publish: unexpected('publish'),
    pullDeadLetters: unexpected('pullDeadLetters'),
    readStock: unexpected('readStock'),
    readProductForMessage: unexpected('readProductForMessage'),
    resetStock: unexpected('resetStock'),
    settleDeadLetters: unexpected('settleDeadLetters'),
    replay: unexpected('replay'),
    redrive: unexpected('redrive'),
    upgradeLedgerShards: unexpected('upgradeLedgerShards'),
    readQueues: unexpected('readQueues'),
    changeQueues: unexpected('changeQueues'),
    assertCanEnqueue: () => undefined,
    outbox: () => {
      throw new Error('unexpected call to outbox');
    },
    shoppers: () => {
      throw new Error('unexpected call to shoppers');
    },
    close: async () => undefined,
    ...overrides,
  };
}

export function statusReport(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    eventKey: 'evt-1',
    funnel: null,
    outbox: null,
    outboxUnreadable: null,
    ranges: [],
    fanout: {
      eventKey: 'evt-1',
      productId: 'sku-1',
      state: 'complete',
      reason: null,
      error: null,
      generation: 0,
      attempts: 1,
      pages: 1,
      chunks: 2,
      recipients: 150,
      cursor: 'u-150',
      publishTimeMs: 1_699_999_999_000,
      startedAtMs: 1_700_000_000_000 - 60_000,
      firstTaskAtMs: 1_700_000_000_000 - 59_900,
      completedAtMs: 1_700_000_000_000 - 58_000,
      updatedAtMs: 1_700_000_000_000 - 58_000,
      chunkReceipts: true,
      ledgerShards: 256,
      stopped: null,
    },
    rejected: null,
    deliveries: { sending: 0, sent: 148, failed: 0, rejected: 1, exhausted: 1, unsubscribed: 0, soldOutBeforeSend: 0, held: 0, total: 150 },
    sendWindows: { held: 0, skippedSoldOut: 0, skippedSuperseded: 0 },
    waves: null,
    oldestPending: null,
    lastErrors: [],
    sample: { size: 200, pendingExact: true, errorsExact: true },
    queuedTasks: null,
    unaccountedChunks: 0,
    ledgerUnsharded: false,
    accountedBy: 'chunk-receipts',
    settled: true,
    ...overrides,
  };
}

export function deadLetter(overrides: Partial<DeadLetter> = {}): DeadLetter {
  return {
    ackId: `ack-${overrides.messageId ?? 'm1'}`,
    messageId: 'm1',
    publishTimeMs: 1_700_000_000_000,
    attributes: { eventId: 'evt-1', CloudPubSubDeadLetterSourceDeliveryCount: '5', CloudPubSubDeadLetterSourceSubscription: 'fan-out-restock' },
    data: Buffer.from('{"type":"inventory.updated","version":1,"productId":"sku-1","available":3,"sequence":7}'),
    eventId: 'evt-1',
    eventKey: 'evt-1',
    eventKeySource: 'eventId',
    deliveryAttempts: 5,
    sourceSubscription: 'fan-out-restock',
    originalPublishTimeMs: 1_699_999_000_000,
    cause: { rejected: null, fanout: { state: 'running', error: 'DEADLINE_EXCEEDED creating tasks', reason: null } },
    ...overrides,
  };
}
