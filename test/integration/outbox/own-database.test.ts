/**
 * The outbox is the inventory service's data, in its own database: the local
 * stand-in keeps `inventoryItems/` and `outbox/` in the Firestore database
 * `inventory` (RESTOCK_OUTBOX_FIRESTORE_DATABASE), the relay function sweeps
 * it there and publishes, the CLI reads it there, and the pipeline's own
 * database (`restock-fanout`) holds none of it while the restock still flows.
 */
import { describe, expect, test } from 'vitest';
import { FirestoreOutbox } from '../../../lib/outbox/index.ts';
import { COLLECTIONS } from '../../../lib/model.ts';
import { INVENTORY_DATABASE } from '../../../emulators/stack/index.ts';
import { stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { restockJson } from '../../helpers/cli.ts';
import type { StatusReport } from '../../../cli/commands/status.ts';
import { putStock } from './support.ts';

describe("the inventory service's own database", () => {
  const s = stack();

  test('the stack gives the stand-in, the relay and the CLI a database other than the pipeline’s', () => {
    expect(s.description.inventoryDatabase).toBe(INVENTORY_DATABASE);
    expect(s.description.inventoryDatabase).not.toBe(s.description.firestoreDatabase);
    expect(s.description.env.RESTOCK_OUTBOX_FIRESTORE_DATABASE).toBe(INVENTORY_DATABASE);
  });

  test("a change staged there is swept by the relay function and fanned out, and the pipeline's database holds no outbox or inventory item", async () => {
    // Prepare: a committed change in the inventory database that no fast path published (as after a crash).
    const productId = uniqueProductId('own-outbox');
    const outbox = new FirestoreOutbox(s.inventoryFirestore);
    const staged = await s.inventoryFirestore.runTransaction((tx) => outbox.stageStockChange(tx, { productId, available: 6, product: { name: 'Own database boot' } }));

    // Act: the scheduler's call of relayOutbox.
    const sweep = await fetch(s.description.functions.relayOutbox, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    // Assess: the relay read the row where the inventory service keeps it, published it, and the pipeline got it.
    expect(sweep.status).toBe(200);
    const sent = await waitFor(async () => {
      const r = await outbox.get(staged.eventId);
      return r?.state === 'sent' ? r : undefined;
    }, { what: 'the row to be sent' });
    expect(sent.messageId).toEqual(expect.any(String));
    await waitFor(async () => (await s.firestore.collection(COLLECTIONS.fanouts).doc(staged.eventId).get()).exists, { what: 'fanOutRestock to record the event' });
    // ... and the pipeline's database has no outbox and no inventory items, of this product or any.
    expect((await s.firestore.collection('outbox').doc(staged.eventId).get()).exists).toBe(false);
    expect((await s.firestore.collection('outbox').limit(1).get()).size).toBe(0);
    expect((await s.firestore.collection('inventoryItems').limit(1).get()).size).toBe(0);
  });

  test('a stock update through the stand-in is stored in its database only, and restock status reads its row there', async () => {
    // Prepare
    const productId = uniqueProductId('own-stand-in');

    // Act
    const answer = await putStock(s.description.inventory, productId, { available: 4 });

    // Assess
    expect(answer.status).toBe(200);
    const eventId = answer.body.eventId!;
    expect((await s.inventoryFirestore.collection('inventoryItems').doc(productId).get()).data()).toMatchObject({ available: 4, sequence: 1 });
    expect((await s.firestore.collection('inventoryItems').doc(productId).get()).exists).toBe(false);
    const status = await waitFor(async () => {
      const r = await restockJson<StatusReport>(['status', eventId], { stack: s.description });
      return r.outbox?.state === 'sent' ? r : undefined;
    }, { what: 'restock status to show the sent row' });
    expect(status.outbox).toMatchObject({ eventId, productId, sequence: 1, attempts: 0, lastError: null });
  });
});
