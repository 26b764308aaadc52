/**
 * The read side of the inventory service's outbox (lib/outbox) for the CLI:
 * the store the relay uses, where the settings say it lives (the inventory
 * service's own database, RESTOCK_OUTBOX_*), and rows by event id
 * (`restock status` and `restock trace` show them; `restock outbox` lists and redrives).
 */
import { describeOutboxLocation, type OutboxRow, type OutboxStore } from '../../outbox/index.ts';
import type { Backend } from '../backend.ts';
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
