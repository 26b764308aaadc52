/**
 * The pipeline keeps its data in a Firestore database of its own
 * (`RESTOCK_FIRESTORE_DATABASE`, default `restock-fanout`), so its generic
 * root collections (`products`, `fanouts`, `deliveries`) never mix with an
 * adopter's `(default)` database: the subscription API, the fan-out, delivery
 * and the CLI all read and write there, and `(default)` stays untouched.
 */
import { Firestore } from '@google-cloud/firestore';
import { afterAll, describe, expect, test } from 'vitest';
import { DEFAULT_FIRESTORE_DATABASE } from '../../../lib/config.ts';
import { publish, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { restockJson } from '../../helpers/cli.ts';

describe('its own Firestore database', () => {
  const s = stack();
  // A client of the same emulator on the (default) database: what an adopter's app would use.
  const saved = process.env.FIRESTORE_EMULATOR_HOST;
  process.env.FIRESTORE_EMULATOR_HOST = s.description.firestore;
  const adopterDb = new Firestore({ projectId: s.description.projectId });
  if (saved === undefined) delete process.env.FIRESTORE_EMULATOR_HOST;
  else process.env.FIRESTORE_EMULATOR_HOST = saved;
  afterAll(() => adopterDb.terminate());

  test('the stack runs on the named database by default', () => {
    expect(s.description.firestoreDatabase).toBe(DEFAULT_FIRESTORE_DATABASE);
    expect(s.description.env.RESTOCK_FIRESTORE_DATABASE).toBe(DEFAULT_FIRESTORE_DATABASE);
  });

  test('a subscription, its restock and its delivery live in the named database, and (default) holds none of it', async () => {
    // Prepare: a shopper subscribes through the API (the product is unknown, so it counts as sold out).
    const productId = uniqueProductId('own-db');
    const api = s.description.functions.restockSubscriptions.replace(/\/$/, '');
    const put = await fetch(`${api}/v1/products/${productId}/subscriptions/user-1`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channels: { email: 'user-1@example.com' } }),
    });
    expect(put.status).toBe(201);

    // Act: a restock through Pub/Sub.
    const eventId = `own-db-${productId}`;
    await publish({ type: 'inventory.updated', version: 1, productId, available: 5, previousAvailable: 0, sequence: 2 }, { eventId });
    await waitFor(async () => (await s.sink.stats(productId)).delivered === 1, { what: 'the notification', timeoutMs: 60_000 });

    // Assess: the pipeline's documents are in the named database (the stack's clients open it)...
    expect((await s.firestore.doc(`products/${productId}`).get()).exists).toBe(true);
    // The sink answers before the ledger records `sent`, and may be told before the fan-out records itself complete.
    await waitFor(async () => (await s.firestore.doc(`fanouts/${eventId}`).get()).get('state') === 'complete', { what: 'the fan-out complete' });
    await waitFor(async () => (await s.firestore.collection('deliveries').where('eventKey', '==', eventId).get()).docs.map((d) => d.get('state')).join() === 'sent', {
      what: 'the one ledger entry sent',
    });
    // ... the CLI reads the same database ...
    const status = await restockJson<{ fanout: { state: string }; deliveries: { sent: number } }>(['status', eventId], { stack: s.description });
    expect(status.fanout.state).toBe('complete');
    expect(status.deliveries.sent).toBe(1);
    // ... and the (default) database has nothing of it.
    expect((await adopterDb.doc(`products/${productId}`).get()).exists).toBe(false);
    expect((await adopterDb.doc(`fanouts/${eventId}`).get()).exists).toBe(false);
    expect((await adopterDb.collection('deliveries').where('eventKey', '==', eventId).count().get()).data().count).toBe(0);
  });
});
