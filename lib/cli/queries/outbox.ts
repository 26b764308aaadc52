/**
 * The read side of the inventory service's outbox (lib/outbox) for the CLI:
 * the store the relay uses, on the CLI's Firestore, and one row by event id
 * (`restock status` shows it; `restock outbox` lists and redrives).
 */
import { FirestoreOutbox, type OutboxRow, type OutboxStore } from '../../outbox/index.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';

/** The outbox the functions use (RESTOCK_OUTBOX_COLLECTION), on the CLI's Firestore. */
export function outboxStore(backend: Backend): OutboxStore {
  return new FirestoreOutbox(backend.db, { outboxCollection: backend.config.outboxCollection });
}

/** Reads one row, or null. */
export function readOutboxRow(backend: Backend, eventId: string): Promise<OutboxRow | null> {
  return guard('read', `${backend.config.outboxCollection}/${eventId}`, outboxStore(backend).get(eventId)).then((r) => r ?? null);
}
