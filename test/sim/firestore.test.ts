import { FieldPath } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { FirestoreStore, SimFirestore, writtenData } from '../../sim/firestore.ts';
import { Net, NO_FAULTS } from '../../sim/net.ts';
import { Prng } from '../../sim/prng.ts';
import { Scheduler } from '../../sim/scheduler.ts';

function world() {
  const scheduler = new Scheduler(new Prng(1));
  const store = new FirestoreStore(() => scheduler.nowMs);
  const net = new Net(scheduler, new Prng(2), NO_FAULTS);
  const latency = { readMs: () => 10, commitMs: () => 20, queryMs: () => 10 };
  const client = (name: string) => new SimFirestore(store, net, scheduler.spawn(name), latency);
  /** Runs `work` to completion in virtual time. */
  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    let out: { v: T } | { e: unknown } | undefined;
    work().then((v) => (out = { v }), (e: unknown) => (out = { e }));
    await scheduler.run(Number.MAX_SAFE_INTEGER);
    if (!out) throw new Error('work never finished');
    if ('e' in out) throw out.e;
    return out.v;
  };
  return { scheduler, store, client, run };
}

describe('in-memory Firestore', () => {
  it('a create of an existing document fails ALREADY_EXISTS and the whole batch is not applied', async () => {
    const { store, client, run } = world();
    const db = client('a');
    store.seed('c/x', { n: 1 });

    const err = await run(() => db.batch().create(db.doc('c/y'), { n: 2 }).create(db.doc('c/x'), { n: 3 }).commit()).catch((e: unknown) => e);

    expect((err as { code: number }).code).toBe(status.ALREADY_EXISTS);
    expect(store.read('c/y')).toBeUndefined();
    expect(store.read('c/x')?.data).toEqual({ n: 1 });
  });

  it('an update of a missing document fails NOT_FOUND; an update sets dotted fields', async () => {
    const { store, client, run } = world();
    const db = client('a');
    store.seed('c/x', { a: { b: 1, c: 2 } });

    const missing = await run(() => db.doc('c/none').update({ n: 1 })).catch((e: unknown) => e);
    await run(() => db.doc('c/x').update({ 'a.b': 5 }));

    expect((missing as { code: number }).code).toBe(status.NOT_FOUND);
    expect(store.read('c/x')?.data).toEqual({ a: { b: 5, c: 2 } });
  });

  it('a transaction whose read changed before its commit is ABORTED and run again by the client', async () => {
    const { store, client, run, scheduler } = world();
    store.seed('c/counter', { n: 0 });
    const a = client('a');
    const b = client('b');
    let attempts = 0;

    // Both read n, then write n+1: without conflict detection one increment would be lost.
    const increment = (db: SimFirestore) =>
      db.runTransaction(async (tx) => {
        attempts++;
        const snap = (await tx.get(db.doc('c/counter'))) as { data(): { n: number } };
        await new Promise((r) => scheduler.at(50, () => r(undefined)));
        tx.set(db.doc('c/counter'), { n: snap.data().n + 1 });
      });
    await run(() => Promise.all([increment(a), increment(b)]));

    expect(store.read('c/counter')?.data).toEqual({ n: 2 });
    expect(attempts).toBe(3);
  });

  it('a query orders by document id, pages with startAfter and limit, selects no fields, and counts', async () => {
    const { store, client, run } = world();
    const db = client('a');
    for (const id of ['d', 'b', 'a', 'c', 'e']) store.seed(`p/1/s/${id}`, { id, v: id.charCodeAt(0) });
    store.seed('p/2/s/z', { id: 'z', v: 0 });
    const col = db.collection('p').doc('1').collection('s');

    const page = await run(() => col.orderBy(FieldPath.documentId()).select().limit(2).startAfter('b').get());
    const filtered = await run(() => col.where('v', 'in', [97, 101]).orderBy('v', 'desc').get());
    const count = await run(() => col.count().get());
    const group = await run(() => db.collectionGroup('s').where('id', '==', 'z').get());

    expect(page.docs.map((d) => d.id)).toEqual(['c', 'd']);
    expect(page.docs[0]!.data()).toEqual({});
    expect(filtered.docs.map((d) => d.id)).toEqual(['e', 'a']);
    expect(count.data().count).toBe(5);
    expect(group.docs.map((d) => d.ref.path)).toEqual(['p/2/s/z']);
  });

  it('a query ordered by document id keeps within its key range: startAfter / startAt below, endAt / endBefore above, for pages and counts', async () => {
    const { store, client, run } = world();
    const db = client('a');
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) store.seed(`p/1/s/${id}`, { id });
    const byId = db.collection('p').doc('1').collection('s').orderBy(FieldPath.documentId());

    const page = await run(() => byId.startAfter('a').endAt('d').limit(10).get());
    const fromAt = await run(() => byId.startAt('c').endBefore('e').get());
    const bounded = await run(() => byId.startAfter('b').endAt('e').limit(2).get());
    const counted = await run(() => byId.startAfter('a').endAt('d').limit(100).count().get());

    expect(page.docs.map((d) => d.id)).toEqual(['b', 'c', 'd']);
    expect(fromAt.docs.map((d) => d.id)).toEqual(['c', 'd']);
    expect(bounded.docs.map((d) => d.id)).toEqual(['c', 'd']);
    expect(counted.data().count).toBe(3);
  });

  it('a process that dies at a call never sees its answer, though the write it sent is applied', async () => {
    const { store, scheduler } = world();
    const net = new Net(scheduler, new Prng(3), { dieBefore: 0, dieAfter: 1, transient: 0, ambiguous: 0 });
    const proc = scheduler.spawn('victim');
    const db = new SimFirestore(store, net, proc, { readMs: () => 10, commitMs: () => 20, queryMs: () => 10 });
    let answered = false;

    void db.doc('c/x').set({ n: 1 }).then(() => (answered = true));
    await scheduler.run(Number.MAX_SAFE_INTEGER);

    expect(store.read('c/x')?.data).toEqual({ n: 1 });
    expect(answered).toBe(false);
    expect(proc.alive).toBe(false);
  });
  it('a commit leaves what writtenData says (the production clock counts index entries with it): an update sets a dotted path inside its map', async () => {
    const { store, client, run } = world();
    const db = client('a');
    store.seed('c/x', { channels: { email: 'a@example.com', push: 't' }, n: 1 });
    const before = store.read('c/x')!.data;
    const update = { kind: 'update', data: { 'channels.email': 'b@example.com', n: 2 } };
    await run(() => db.doc('c/x').update(update.data));
    expect(store.read('c/x')?.data).toEqual({ channels: { email: 'b@example.com', push: 't' }, n: 2 });
    expect(writtenData(update, before)).toEqual(store.read('c/x')?.data);
    expect(writtenData({ kind: 'set', data: { m: 1 }, merge: true }, before)).toEqual({ ...before, m: 1 });
    expect(writtenData({ kind: 'delete' }, before)).toBeUndefined();
  });
});
