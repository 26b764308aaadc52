/**
 * The Spanner adapter: the same kit for an inventory service on Cloud Spanner.
 * The outbox is a table ({@link SPANNER_OUTBOX_DDL}); staging runs inside the
 * caller's read-write transaction (mutations, committed with the caller's own);
 * the relay claims a batch of due rows with one SQL query and one update in a
 * single read-write transaction, so two relays never hold the same row.
 *
 * Times are TIMESTAMP columns (the TTL's row deletion policy needs one);
 * the event is its JSON text, parsed again at publish time.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Transaction } from '@google-cloud/spanner';
import type { InventoryEvent } from '../events/index.ts';
import { canRedrive, claimDecision, claimFields, redriveFields, settleDecision, settlementFields } from './decide.ts';
import { newRow, stockChangeEvent, type ItemAfter, type ItemBefore, type StockChange } from './event.ts';
import type { ClaimRequest, OutboxRow, OutboxState, OutboxStats, OutboxStore, RedriveResult, Settlement } from './model.ts';

/**
 * The outbox table, its due-rows index and its TTL: a sent row is deleted once
 * `ExpireAt` has passed (pending and failed rows have none, so they stay).
 */
export const SPANNER_OUTBOX_DDL: readonly string[] = [
  `CREATE TABLE Outbox (
  EventId STRING(500) NOT NULL,
  ProductId STRING(512) NOT NULL,
  Sequence INT64 NOT NULL,
  Event STRING(MAX) NOT NULL,
  State STRING(16) NOT NULL,
  Attempts INT64 NOT NULL,
  StagedAt TIMESTAMP NOT NULL,
  NextAttemptAt TIMESTAMP NOT NULL,
  LeaseOwner STRING(200),
  LeaseExpiresAt TIMESTAMP,
  PublishedAt TIMESTAMP,
  MessageId STRING(200),
  PublishedBy STRING(16),
  LastError STRING(MAX),
  ExpireAt TIMESTAMP,
) PRIMARY KEY (EventId),
  ROW DELETION POLICY (OLDER_THAN(ExpireAt, INTERVAL 0 DAY))`,
  'CREATE INDEX OutboxByStateNextAttempt ON Outbox(State, NextAttemptAt)',
  'CREATE INDEX OutboxByStateStaged ON Outbox(State, StagedAt)',
];

/** The inventory items table the kit keeps the level and the per-product sequence in. */
export const SPANNER_INVENTORY_ITEMS_DDL: readonly string[] = [
  `CREATE TABLE InventoryItems (
  ProductId STRING(512) NOT NULL,
  Available INT64 NOT NULL,
  Sequence INT64 NOT NULL,
  Name STRING(500),
  Url STRING(2000),
  UpdatedAt TIMESTAMP NOT NULL,
) PRIMARY KEY (ProductId)`,
];

const COLUMNS = ['EventId', 'ProductId', 'Sequence', 'Event', 'State', 'Attempts', 'StagedAt', 'NextAttemptAt', 'LeaseOwner', 'LeaseExpiresAt', 'PublishedAt', 'MessageId', 'PublishedBy', 'LastError', 'ExpireAt'] as const;

/** Every field but `traceparent`, which the table does not keep (model.ts). */
const COLUMN_OF: Record<Exclude<keyof OutboxRow, 'traceparent'>, (typeof COLUMNS)[number]> = {
  eventId: 'EventId',
  productId: 'ProductId',
  sequence: 'Sequence',
  event: 'Event',
  state: 'State',
  attempts: 'Attempts',
  stagedAtMs: 'StagedAt',
  nextAttemptAtMs: 'NextAttemptAt',
  leaseOwner: 'LeaseOwner',
  leaseExpiresAtMs: 'LeaseExpiresAt',
  publishedAtMs: 'PublishedAt',
  messageId: 'MessageId',
  publishedBy: 'PublishedBy',
  lastError: 'LastError',
  expireAtMs: 'ExpireAt',
};

const TIME_FIELDS = new Set<keyof OutboxRow>(['stagedAtMs', 'nextAttemptAtMs', 'leaseExpiresAtMs', 'publishedAtMs', 'expireAtMs']);

type SpannerRow = Record<string, unknown>;

/** Row fields as Spanner column values (ms → Date, the event as JSON text). */
function toColumns(fields: Partial<OutboxRow>): SpannerRow {
  const out: SpannerRow = {};
  for (const [key, value] of Object.entries(fields) as [keyof OutboxRow, unknown][]) {
    if (key === 'traceparent') continue;
    const column = COLUMN_OF[key];
    if (TIME_FIELDS.has(key)) out[column] = value === null ? null : new Date(value as number);
    else if (key === 'event') out[column] = typeof value === 'string' ? value : JSON.stringify(value);
    else out[column] = value;
  }
  return out;
}

const ms = (v: unknown): number | null => (v === null || v === undefined ? null : new Date(v as Date).getTime());

function parseEvent(text: unknown): unknown {
  try {
    return JSON.parse(String(text));
  } catch {
    return text; // kept as is: publishability names it
  }
}

function fromColumns(r: SpannerRow): OutboxRow {
  return {
    eventId: String(r.EventId),
    productId: String(r.ProductId),
    sequence: Number(r.Sequence),
    event: parseEvent(r.Event),
    state: r.State as OutboxState,
    attempts: Number(r.Attempts),
    stagedAtMs: ms(r.StagedAt) ?? 0,
    nextAttemptAtMs: ms(r.NextAttemptAt) ?? 0,
    leaseOwner: (r.LeaseOwner as string | null) ?? null,
    leaseExpiresAtMs: ms(r.LeaseExpiresAt),
    publishedAtMs: ms(r.PublishedAt),
    messageId: (r.MessageId as string | null) ?? null,
    publishedBy: (r.PublishedBy as OutboxRow['publishedBy']) ?? null,
    lastError: (r.LastError as string | null) ?? null,
    expireAtMs: ms(r.ExpireAt),
  };
}

export interface SpannerStagedChange {
  eventId: string;
  event: InventoryEvent;
  item: ItemAfter;
}

export class SpannerOutbox implements OutboxStore {
  private readonly now: () => number;

  constructor(
    readonly database: Database,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Inside the caller's read-write transaction `tx`: reads the item's row,
   * then buffers the item's new level with the next sequence and the `pending`
   * outbox row. They commit with the caller's mutations, or not at all.
   * @throws OutboxValidationError naming the field, before anything is buffered.
   */
  async stageStockChange(tx: Transaction, change: StockChange, options: { eventId?: string } = {}): Promise<SpannerStagedChange> {
    const nowMs = this.now();
    stockChangeEvent(change, undefined, nowMs);
    const [rows] = await tx.read('InventoryItems', { keys: [change.productId], columns: ['Available', 'Sequence', 'Name', 'Url'], json: true });
    const r = rows[0] as SpannerRow | undefined;
    const before: ItemBefore | undefined = r
      ? {
          available: Number(r.Available),
          sequence: Number(r.Sequence),
          ...(r.Name !== null && r.Name !== undefined ? { name: String(r.Name) } : {}),
          ...(r.Url !== null && r.Url !== undefined ? { url: String(r.Url) } : {}),
        }
      : undefined;
    const { event, item } = stockChangeEvent(change, before, nowMs);
    const eventId = options.eventId ?? randomUUID();
    tx.upsert('InventoryItems', {
      ProductId: item.productId,
      Available: item.available,
      Sequence: item.sequence,
      Name: item.name ?? null,
      Url: item.url ?? null,
      UpdatedAt: new Date(nowMs),
    });
    tx.insert('Outbox', toColumns(newRow(eventId, event, nowMs)));
    return { eventId, event, item };
  }

  async claim(request: ClaimRequest): Promise<OutboxRow[]> {
    const { eventIds, nowMs, leaseMs, owner, limit } = request;
    return this.database.runTransactionAsync(async (tx) => {
      let rows: SpannerRow[];
      if (eventIds) {
        if (eventIds.length === 0) {
          await tx.commit();
          return [];
        }
        [rows] = (await tx.read('Outbox', { keys: eventIds.slice(0, limit) as string[], columns: [...COLUMNS], json: true })) as unknown as [SpannerRow[]];
      } else {
        [rows] = (await tx.run({
          sql: `SELECT ${COLUMNS.join(', ')} FROM Outbox@{FORCE_INDEX=OutboxByStateNextAttempt}
                WHERE State = 'pending' AND NextAttemptAt <= @now ORDER BY NextAttemptAt LIMIT @limit`,
          params: { now: new Date(nowMs), limit },
          json: true,
        })) as unknown as [SpannerRow[]];
      }
      const fields = claimFields(owner, nowMs, leaseMs);
      const claimed = rows.map(fromColumns).filter((row) => claimDecision(row, nowMs, eventIds !== undefined).claim);
      if (claimed.length > 0) tx.update('Outbox', claimed.map((row) => ({ EventId: row.eventId, ...toColumns(fields) })));
      await tx.commit();
      return claimed.map((row) => ({ ...row, ...fields }));
    });
  }

  async settle(owner: string, settlements: readonly Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    await this.database.runTransactionAsync(async (tx) => {
      const [rows] = (await tx.read('Outbox', { keys: settlements.map((s) => s.eventId), columns: ['EventId', 'State', 'LeaseOwner'], json: true })) as unknown as [SpannerRow[]];
      const stored = new Map(rows.map((r) => [String(r.EventId), { state: r.State as OutboxState, leaseOwner: (r.LeaseOwner as string | null) ?? null }]));
      const updates = settlements.filter((s) => settleDecision(stored.get(s.eventId), owner, s)).map((s) => ({ EventId: s.eventId, ...toColumns(settlementFields(s)) }));
      // One mutation each: a mutation's rows must all have the same columns, and sent/retry/failed differ.
      for (const update of updates) tx.update('Outbox', update);
      await tx.commit();
    });
  }

  async get(eventId: string): Promise<OutboxRow | undefined> {
    const [rows] = (await this.database.table('Outbox').read({ keys: [eventId], columns: [...COLUMNS], json: true })) as unknown as [SpannerRow[]];
    return rows[0] ? fromColumns(rows[0]) : undefined;
  }

  async list(state: OutboxState, limit: number): Promise<OutboxRow[]> {
    const [rows] = (await this.database.run({
      sql: `SELECT ${COLUMNS.join(', ')} FROM Outbox WHERE State = @state ORDER BY StagedAt LIMIT @limit`,
      params: { state, limit },
      json: true,
    })) as unknown as [SpannerRow[]];
    return rows.map(fromColumns);
  }

  async stats(): Promise<OutboxStats> {
    const [rows] = (await this.database.run({
      sql: `SELECT State, COUNT(*) AS N, MIN(StagedAt) AS Oldest FROM Outbox GROUP BY State`,
      json: true,
    })) as unknown as [SpannerRow[]];
    const stats: OutboxStats = { pending: 0, sent: 0, failed: 0, oldestPendingStagedAtMs: null };
    for (const r of rows) {
      const state = r.State as OutboxState;
      if (state in stats) stats[state] = Number(r.N);
      if (state === 'pending') stats.oldestPendingStagedAtMs = ms(r.Oldest);
    }
    return stats;
  }

  async redrive(eventIds: readonly string[], nowMs: number): Promise<RedriveResult[]> {
    return this.database.runTransactionAsync(async (tx) => {
      const [rows] = (await tx.read('Outbox', { keys: [...eventIds], columns: ['EventId', 'State'], json: true })) as unknown as [SpannerRow[]];
      const states = new Map(rows.map((r) => [String(r.EventId), r.State as OutboxState]));
      const results: RedriveResult[] = eventIds.map((eventId) => {
        const state = states.get(eventId);
        if (state === undefined) return { eventId, outcome: 'not-found' };
        if (!canRedrive(state)) return { eventId, outcome: 'not-redrivable', state };
        return { eventId, outcome: 'redriven' };
      });
      const redriven = results.filter((r) => r.outcome === 'redriven');
      if (redriven.length > 0) tx.update('Outbox', redriven.map((r) => ({ EventId: r.eventId, ...toColumns(redriveFields(nowMs)) })));
      await tx.commit();
      return results;
    });
  }

  async failedIds(limit: number): Promise<string[]> {
    const [rows] = (await this.database.run({ sql: `SELECT EventId FROM Outbox WHERE State = 'failed' LIMIT @limit`, params: { limit }, json: true })) as unknown as [SpannerRow[]];
    return rows.map((r) => String(r.EventId));
  }
}
