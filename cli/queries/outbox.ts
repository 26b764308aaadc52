/**
 * The read side of the inventory service's outbox (lib/outbox) for the CLI:
 * the store the relay uses, where the settings say it lives (the inventory
 * service's own database, RESTOCK_OUTBOX_*), and rows by event id
 * (`restock status` and `restock trace` show them; `restock outbox` lists and redrives).
 */
import { describeOutboxLocation, type OutboxRow, type OutboxStore } from '../../lib/outbox/index.ts';
import type { Backend } from '../backend.ts';
import { errorLine } from '../errors.ts';
import { guard } from '../guard.ts';

/** The outbox the relay uses (RESTOCK_OUTBOX_BACKEND and its location settings). */
export function outboxStore(backend: Backend): OutboxStore {
  return backend.outbox().store;
}

/** Reads one row, or null. */
export function readOutboxRow(backend: Backend, eventId: string): Promise<OutboxRow | null> {
  const { store, location } = backend.outbox();
  return guard('read', `${describeOutboxLocation(location)} row ${eventId}`, store.get(eventId)).then((r) => r ?? null);
}

/** Reads the rows of these events (those that came through the outbox), by event id. */
export async function readOutboxRows(backend: Backend, eventIds: readonly string[]): Promise<Map<string, OutboxRow>> {
  const rows = await Promise.all([...new Set(eventIds)].map((id) => readOutboxRow(backend, id)));
  return new Map(rows.filter((r): r is OutboxRow => r !== null).map((r) => [r.eventId, r]));
}

/** The outbox rows of some events, or why the outbox could not be read (then `rows` is empty and `error` the failure). */
export interface OutboxRowsRead {
  rows: Map<string, OutboxRow>;
  /** One line saying why the outbox could not be read; null when it was. */
  unreadable: string | null;
  error: unknown;
}

/**
 * {@link readOutboxRows} for views that show the outbox beside the pipeline
 * (`status`, `trace`): an outbox that cannot be read is reported, not thrown.
 * It lives in the inventory service's database, which an operator may not be
 * allowed to read, may be down, or may be misconfigured for the CLI; none of
 * that must hide the fan-out and deliveries, which come from the pipeline's
 * own database.
 */
export async function tryReadOutboxRows(backend: Backend, eventIds: readonly string[]): Promise<OutboxRowsRead> {
  try {
    return { rows: await readOutboxRows(backend, eventIds), unreadable: null, error: null };
  } catch (err) {
    return { rows: new Map(), unreadable: errorLine(err), error: err };
  }
}
