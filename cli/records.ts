/**
 * The shapes the CLI reports about ledger entries and fan-outs, built from
 * Firestore documents without trusting them blindly (a half-written or older
 * document must still print).
 */
import type { DeliveryState, FanoutState } from '../lib/model.ts';

/** One ledger entry as the CLI shows it. */
export interface DeliverySummary {
  dedupKey: string;
  eventKey: string;
  productId: string;
  userId: string;
  channel: string;
  state: DeliveryState | string;
  attempts: number;
  lastError: string | null;
  sentAtMs: number | null;
  createdAtMs: number | null;
  updatedAtMs: number | null;
  /** The wave that claimed it, when its restock ran in waves (docs/waves.md). */
  wave?: number;
  /** When the shopper's send window opens, for a send held back to it (docs/send-windows.md). */
  heldUntilMs?: number;
  /** Why a held send was not made when the window opened: the product sold out again, or a newer restock superseded it. */
  skipped?: string;
}

/** One fan-out as the CLI shows it. */
export interface FanoutSummary {
  eventKey: string;
  productId: string;
  state: FanoutState | string;
  reason: string | null;
  error: string | null;
  generation: number;
  attempts: number;
  pages: number;
  chunks: number;
  recipients: number;
  cursor: string | null;
  publishTimeMs: number | null;
  startedAtMs: number | null;
  firstTaskAtMs: number | null;
  completedAtMs: number | null;
  updatedAtMs: number | null;
  /** Whether delivery writes a receipt per chunk of this fan-out (false: it started before receipts existed). */
  chunkReceipts: boolean;
  /** The shard count its ledger entries carry their shard in (lib/model.ts LEDGER_SHARDS); null: it started before entries had one. */
  ledgerShards: number | null;
  /** Why and when the fan-out stopped paging because a newer stock event ended the restock (issue 40); null when it did not. */
  stopped: { reason: string; atMs: number | null } | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function stoppedOf(v: unknown): FanoutSummary['stopped'] {
  if (v === null || typeof v !== 'object') return null;
  const reason = str((v as Record<string, unknown>).reason);
  return reason === null ? null : { reason, atMs: num((v as Record<string, unknown>).atMs) };
}

/** A ledger document's fields as a {@link DeliverySummary}. */
export function deliverySummary(id: string, d: Record<string, unknown>): DeliverySummary {
  return {
    dedupKey: id,
    eventKey: str(d.eventKey) ?? '',
    productId: str(d.productId) ?? '',
    userId: str(d.userId) ?? '',
    channel: str(d.channel) ?? '',
    state: str(d.state) ?? 'unknown',
    attempts: num(d.attempts) ?? 0,
    lastError: str(d.lastError),
    sentAtMs: num(d.sentAtMs),
    createdAtMs: num(d.createdAtMs),
    updatedAtMs: num(d.updatedAtMs),
    ...(num(d.wave) !== null ? { wave: num(d.wave)! } : {}),
    ...(num(d.heldUntilMs) !== null ? { heldUntilMs: num(d.heldUntilMs)! } : {}),
    ...(str(d.skipped) !== null ? { skipped: str(d.skipped)! } : {}),
  };
}

/** A fan-out document's fields as a {@link FanoutSummary}. */
export function fanoutSummary(id: string, d: Record<string, unknown>): FanoutSummary {
  return {
    eventKey: id,
    productId: str(d.productId) ?? '',
    state: str(d.state) ?? 'unknown',
    reason: str(d.reason),
    error: str(d.error),
    generation: num(d.generation) ?? 0,
    attempts: num(d.attempts) ?? 0,
    pages: num(d.pages) ?? 0,
    chunks: num(d.chunks) ?? 0,
    recipients: num(d.recipients) ?? 0,
    cursor: str(d.cursor),
    publishTimeMs: num(d.publishTimeMs),
    startedAtMs: num(d.startedAtMs),
    firstTaskAtMs: num(d.firstTaskAtMs),
    completedAtMs: num(d.completedAtMs),
    updatedAtMs: num(d.updatedAtMs),
    chunkReceipts: d.chunkReceipts === true,
    ledgerShards: num(d.ledgerShards),
    stopped: stoppedOf(d.stopped),
  };
}
