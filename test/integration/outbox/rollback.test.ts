/**
 * Promise 11: a change whose transaction rolled back is never published. The
 * kit stages inside the caller's transaction, so a business rule that throws
 * after staging, or an event that fails validation, leaves neither the stock
 * change nor an outbox row, and the sweep has nothing to publish. A committed
 * change next to it, swept the same way, is published (the control).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { FirestoreOutbox, OutboxValidationError } from '../../../lib/outbox/index.ts';
import { stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { Arrivals, rowsOf } from './support.ts';

let arrivals: Arrivals;

beforeAll(async () => {
  arrivals = await Arrivals.on(stack().pubsub, stack().description.topic);
});

afterAll(async () => {
  await arrivals?.close();
});

/** Runs the scheduler's sweep once on the shared stack. */
async function sweep(): Promise<void> {
  const res = await fetch(stack().description.functions.relayOutbox, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(res.status).toBe(200);
}

class OversoldError extends Error {
  override readonly name = 'OversoldError';
}

describe('a stock change whose transaction rolls back', () => {
  test('is never published, while a committed change swept alongside is', async () => {
    // Prepare
    const { inventoryFirestore: db } = stack();
    const outbox = new FirestoreOutbox(db);
    const rolledBack = uniqueProductId('rollback');
    const committed = uniqueProductId('committed');

    // Act: a business rule fails after the kit staged the event; another change commits.
    const failure = await db
      .runTransaction(async (tx) => {
        await outbox.stageStockChange(tx, { productId: rolledBack, available: 3 });
        throw new OversoldError('the warehouse refused the change');
      })
      .catch((err: unknown) => err);
    const staged = await db.runTransaction((tx) => outbox.stageStockChange(tx, { productId: committed, available: 3 }));
    await sweep();

    // Assess
    expect(failure).toBeInstanceOf(OversoldError);
    await waitFor(() => arrivals.count(staged.eventId) > 0, { what: 'the committed change on the topic' });
    expect(await rowsOf(db, rolledBack)).toEqual([]);
    expect((await db.collection(outbox.itemsCollection).doc(rolledBack).get()).exists).toBe(false);
    const published = arrivals.eventIds().flatMap((id) => arrivals.data(id)) as { productId: string }[];
    expect(published.filter((e) => e.productId === rolledBack)).toEqual([]);
    const fanouts = await stack().firestore.collection(COLLECTIONS.fanouts).where('event.productId', '==', rolledBack).get();
    expect(fanouts.size).toBe(0);
  });

  test('because its event is invalid throws a typed error naming the field, and nothing of the transaction is written', async () => {
    // Prepare
    const { inventoryFirestore: db } = stack();
    const outbox = new FirestoreOutbox(db);
    const productId = uniqueProductId('invalid');
    const auditRef = db.collection('inventoryAudit').doc(productId);

    // Act: the caller wrote something of its own in the same transaction, then staged a bad change.
    const failure = await db
      .runTransaction(async (tx) => {
        const item = await tx.get(db.collection(outbox.itemsCollection).doc(productId));
        tx.set(auditRef, { productId, existed: item.exists });
        await outbox.stageStockChange(tx, { productId, available: -2, product: { url: 'not a url' } });
      })
      .catch((err: unknown) => err);

    // Assess
    expect(failure).toBeInstanceOf(OutboxValidationError);
    expect(failure).toMatchObject({ name: 'OutboxValidationError', field: 'available', problem: 'must not be negative' });
    expect((await auditRef.get()).exists).toBe(false);
    expect(await rowsOf(db, productId)).toEqual([]);
  });
});
