/**
 * Firestore indexes against the queries that need them and the writes they
 * slow down (issue 15): every query of lib/ and functions/ is served by an
 * index terraform/ creates or Firestore keeps automatically, and no field
 * written at a high rate with steadily increasing values (a timestamp) keeps
 * its automatic index on a bulk-written collection, which would cap that
 * collection at about 500 writes/s.
 *
 * The queries are declared below next to the source text they come from; a
 * `.where(` or `.orderBy(` in lib/ or functions/ that no declaration covers
 * fails the test, so a new or changed query must say what index it needs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { DEAD_ADDRESS_CHANNELS } from '../../../lib/channels.ts';
import { FANOUT_ARRAYS_NAMING_A_SHOPPER, FANOUT_FIELDS_NAMING_A_SHOPPER, RANGE_FIELDS_NAMING_A_SHOPPER } from '../../../lib/shoppers/bookkeeping.ts';
import { block, firestoreFields, loadTerraform, REPO_ROOT, resourcesOf, type Hcl, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

type Scope = 'COLLECTION' | 'COLLECTION_GROUP';
type Order = 'ASCENDING' | 'DESCENDING';

/** One query: its equality (`==`, `in`) filters and its order (`__name__` needs no index). */
interface Query {
  what: string;
  collection: string;
  scope: Scope;
  equalities: string[];
  orderBy?: [string, Order];
}

/** Where queries are written: the exact source text, and the queries built from it. */
interface Site {
  file: string;
  snippets: string[];
  queries: Query[];
}

const SITES: Site[] = [
  {
    // The ledger's store: every query of `deliveries` (delivery, redrive and the CLI alike), and the chunk receipts.
    file: 'lib/delivery/ledger.ts',
    snippets: [
      "db.collection(COLLECTIONS.deliveries).where('shard', 'in', [...shards]).where('eventKey', '==', eventKey)",
      "entriesOf(db, eventKey, group).where('state', '==', state).count()",
      "entriesOf(db, eventKey, group).where('state', '==', state).orderBy(FieldPath.documentId())",
      "db.collection(COLLECTIONS.deliveries).where('userId', '==', userId)",
      "query = query.where('productId', '==', productId)",
      "query.orderBy('createdAtMs', 'desc')",
      "collection(COLLECTIONS.chunkReceipts).where('generation', '==', generation)",
      "entriesOf(db, eventKey, group).where('wave', '==', wave).where('state', '==', 'sent').count()",
      "entriesOf(db, eventKey, group).where('skipped', '==', reason).count()",
      "entriesOf(db, eventKey, group).where('channel', '==', channel).where('state', '==', 'sent').count()",
      ".where('userId', 'in', userIds.slice(i * MAX_IN_VALUES, (i + 1) * MAX_IN_VALUES))\n        .where('productId', '==', productId)\n        .orderBy('createdAtMs', 'desc')",
    ],
    queries: [
      { what: 'redrive paging, and the samples status picks the oldest pending delivery and the last errors from', collection: 'deliveries', scope: 'COLLECTION', equalities: ['shard', 'eventKey', 'state'] },
      { what: 'delivery counts per state (status)', collection: 'deliveries', scope: 'COLLECTION', equalities: ['shard', 'eventKey', 'state'] },
      { what: "a shopper's deliveries (trace)", collection: 'deliveries', scope: 'COLLECTION', equalities: ['userId'], orderBy: ['createdAtMs', 'DESCENDING'] },
      { what: "a shopper's deliveries of a product (trace; recording a click and attributing an order, issue 34)", collection: 'deliveries', scope: 'COLLECTION', equalities: ['userId', 'productId'], orderBy: ['createdAtMs', 'DESCENDING'] },
      { what: "a fan-out's chunk receipts of one generation (status)", collection: 'chunks', scope: 'COLLECTION', equalities: ['generation'] },
      { what: 'sent notifications of one wave (status)', collection: 'deliveries', scope: 'COLLECTION', equalities: ['shard', 'eventKey', 'wave', 'state'] },
      { what: 'held sends skipped at the stock check, per reason (status)', collection: 'deliveries', scope: 'COLLECTION', equalities: ['shard', 'eventKey', 'skipped'] },
      { what: 'sent notifications on one channel (the funnel, status)', collection: 'deliveries', scope: 'COLLECTION', equalities: ['shard', 'eventKey', 'channel', 'state'] },
      { what: "a chunk's shoppers' entries of a product, any sign-up (before a chunk's transactional claim)", collection: 'deliveries', scope: 'COLLECTION', equalities: ['userId', 'productId'], orderBy: ['createdAtMs', 'DESCENDING'] },
    ],
  },
  {
    // restock ledger-shards: the whole ledger and every fan-out, by document id (issue 39's one-off upgrade).
    file: 'lib/delivery/shard-upgrade.ts',
    snippets: ['db.collection(COLLECTIONS.deliveries).orderBy(FieldPath.documentId())', 'db.collection(COLLECTIONS.fanouts).orderBy(FieldPath.documentId())'],
    queries: [
      { what: 'every ledger entry by id (ledger-shards)', collection: 'deliveries', scope: 'COLLECTION', equalities: [] },
      { what: 'every fan-out by id (ledger-shards)', collection: 'fanouts', scope: 'COLLECTION', equalities: [] },
    ],
  },
  {
    file: 'lib/fanout/run.ts',
    snippets: ['.orderBy(FieldPath.documentId())'],
    queries: [{ what: "a product's subscribers by id (fan-out paging)", collection: 'restockSubscriptions', scope: 'COLLECTION', equalities: [] }],
  },
  {
    // Waves take shoppers in sign-up order: the automatic single-field index on createdAtMs of one
    // product's subscriptions (kept: they are written at the subscribe rate of one product, not in bulk).
    file: 'lib/fanout/waves.ts',
    snippets: ["subscriptionsRef(rt.db, productId).orderBy('createdAtMs').orderBy(FieldPath.documentId())"],
    queries: [{ what: "a product's subscribers in sign-up order (waves)", collection: 'restockSubscriptions', scope: 'COLLECTION', equalities: [], orderBy: ['createdAtMs', 'ASCENDING'] }],
  },
  {
    file: 'cli/queries/waves.ts',
    snippets: ['wavesOf(backend.db, eventKey).orderBy(FieldPath.documentId())'],
    queries: [{ what: "a restock's wave records (status)", collection: 'waves', scope: 'COLLECTION', equalities: [] }],
  },
  {
    file: 'lib/fanout/split.ts',
    snippets: ['subscriptionsRef(rt.db, productId).orderBy(FieldPath.documentId())', "subscriptionsRef(rt.db, productId).orderBy(FieldPath.documentId(), 'desc')"],
    queries: [{ what: "a product's subscribers by id, counted and bounded per key range (fan-out split)", collection: 'restockSubscriptions', scope: 'COLLECTION', equalities: [] }],
  },
  {
    file: 'lib/fanout/store.ts',
    // With `sinceMs` (restocks, the console's overview) the range is on the field ordered by: the same index serves it.
    snippets: ["db.collection(COLLECTIONS.fanouts).where('productId', '==', productId).orderBy('startedAtMs', 'desc')", "query.where('startedAtMs', '>=', sinceMs)"],
    queries: [{ what: "a product's fan-outs, newest first, optionally from a start time on (trace, restocks)", collection: 'fanouts', scope: 'COLLECTION', equalities: ['productId'], orderBy: ['startedAtMs', 'DESCENDING'] }],
  },
  {
    file: 'lib/fanout/store.ts',
    snippets: [".where('productId', '==', productId).where('event.sequence', '==', sequence)"],
    queries: [{ what: 'the fan-out of a dead letter', collection: 'fanouts', scope: 'COLLECTION', equalities: ['productId', 'event.sequence'] }],
  },
  {
    file: 'cli/queries/subscribers.ts',
    snippets: [".orderBy('__name__')"],
    queries: [{ what: "a product's subscribers (CLI)", collection: 'restockSubscriptions', scope: 'COLLECTION', equalities: [] }],
  },
  {
    // restock demand, the console's demand and product pages (issues 34, 35): products by id (no index), and one
    // product's sign-ups in a createdAtMs range, counted per UTC day: the automatic single-field index waves page by.
    // Never a collection-group range on createdAtMs: one index range taking every sign-up of the shop would cap a
    // subscribe storm (promise 14).
    file: 'cli/queries/demand.ts',
    snippets: [
      'db.collection(COLLECTIONS.products).orderBy(FieldPath.documentId())',
      "subscriptionsRef(db, productId).where('createdAtMs', '>=', dayStartMs).where('createdAtMs', '<', dayStartMs + DAY_MS)",
      'fanoutsOfProduct(db, productId, FANOUTS_READ)',
    ],
    queries: [
      { what: 'products by id (demand)', collection: 'products', scope: 'COLLECTION', equalities: [] },
      { what: "a product's sign-ups of one day (demand)", collection: 'restockSubscriptions', scope: 'COLLECTION', equalities: [], orderBy: ['createdAtMs', 'ASCENDING'] },
    ],
  },
  {
    // Not fanouts by startedAtMs (its automatic index is off, a timestamp of a bulk-written collection): the products
    // whose stock changed in the window, then each product's fan-outs by lib/fanout/store.ts's query above.
    file: 'cli/queries/restocks.ts',
    snippets: ["db.collection(COLLECTIONS.products).where('updatedAtMs', '>=', sinceMs).orderBy('updatedAtMs', 'desc')", 'fanoutsOfProduct(db, productId, FANOUTS_PER_PRODUCT, sinceMs)'],
    queries: [{ what: "products whose stock changed in a window (restocks, the console's overview)", collection: 'products', scope: 'COLLECTION', equalities: [], orderBy: ['updatedAtMs', 'DESCENDING'] }],
  },
  {
    file: 'cli/queries/trace.ts',
    snippets: ["db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', q.userId)"],
    queries: [{ what: "a shopper's subscriptions (trace)", collection: 'restockSubscriptions', scope: 'COLLECTION_GROUP', equalities: ['userId'] }],
  },
  {
    file: 'lib/outbox/firestore.ts',
    snippets: [
      ".where('state', '==', 'pending')\n          .where('nextAttemptAtMs', '<=', nowMs)\n          .orderBy('nextAttemptAtMs')",
      "this.db.collection(this.outboxCollection).where('state', '==', state).orderBy('stagedAtMs')",
      "col.where('state', '==', state).count()",
      "col.where('state', '==', 'pending').orderBy('stagedAtMs')",
      "this.db.collection(this.outboxCollection).where('state', '==', 'failed').select()",
    ],
    queries: [
      { what: 'due pending rows (the sweep)', collection: 'outbox', scope: 'COLLECTION', equalities: ['state'], orderBy: ['nextAttemptAtMs', 'ASCENDING'] },
      { what: 'rows in a state, oldest first (outbox list, oldest pending)', collection: 'outbox', scope: 'COLLECTION', equalities: ['state'], orderBy: ['stagedAtMs', 'ASCENDING'] },
      { what: 'rows per state (outbox status)', collection: 'outbox', scope: 'COLLECTION', equalities: ['state'] },
    ],
  },
  {
    file: 'lib/subscriptions/firestore-store.ts',
    snippets: ["this.db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', userId)", '.orderBy(FieldPath.documentId())'],
    queries: [{ what: "a shopper's subscriptions (API)", collection: 'restockSubscriptions', scope: 'COLLECTION_GROUP', equalities: ['userId'] }],
  },
  {
    // Export and erasure of one shopper (issue 32).
    file: 'lib/shoppers/data.ts',
    snippets: [
      "this.db.collectionGroup(COLLECTIONS.subscriptions).where('userId', '==', userId)",
      "this.db.collectionGroup(COLLECTIONS.pendingSubscriptions).where('userId', '==', userId)",
      "this.db.collection(COLLECTIONS.deliveries).where('userId', '==', userId).orderBy('createdAtMs', 'desc')",
      'this.db.collection(COLLECTIONS.rejectedEvents).orderBy(FieldPath.documentId())',
      "FANOUT_FIELDS_NAMING_A_SHOPPER.map((f) => fanouts.where(f, '==', userId)",
      "FANOUT_ARRAYS_NAMING_A_SHOPPER.map((f) => fanouts.where(f, 'array-contains', userId)",
      "RANGE_FIELDS_NAMING_A_SHOPPER.map((f) => ranges.where(f, '==', userId)",
    ],
    queries: [
      { what: "a shopper's subscriptions (export, erasure)", collection: 'restockSubscriptions', scope: 'COLLECTION_GROUP', equalities: ['userId'] },
      { what: "a shopper's pending confirmations (export, erasure)", collection: 'pendingSubscriptions', scope: 'COLLECTION_GROUP', equalities: ['userId'] },
      { what: "a shopper's deliveries (export, erasure)", collection: 'deliveries', scope: 'COLLECTION', equalities: ['userId'], orderBy: ['createdAtMs', 'DESCENDING'] },
      { what: 'rejected events by id (erasure scans them for the shopper)', collection: 'rejectedEvents', scope: 'COLLECTION', equalities: [] },
      ...FANOUT_FIELDS_NAMING_A_SHOPPER.map((f) => ({ what: `fan-outs whose ${f} is the shopper (erasure)`, collection: 'fanouts', scope: 'COLLECTION' as const, equalities: [f] })),
      ...FANOUT_ARRAYS_NAMING_A_SHOPPER.map((f) => ({ what: `fan-outs whose ${f} lists the shopper (erasure)`, collection: 'fanouts', scope: 'COLLECTION' as const, equalities: [f] })),
      ...RANGE_FIELDS_NAMING_A_SHOPPER.map((f) => ({ what: `key ranges whose ${f} is the shopper (erasure)`, collection: 'ranges', scope: 'COLLECTION_GROUP' as const, equalities: [f] })),
    ],
  },
  {
    file: 'lib/subscriptions/pending-store.ts',
    snippets: ["this.db\n        .collectionGroup(COLLECTIONS.pendingSubscriptions)\n        .where('userId', '==', userId)"],
    queries: [
      { what: "a shopper's live pending requests (the per-user cap under double opt-in)", collection: 'pendingSubscriptions', scope: 'COLLECTION_GROUP', equalities: ['userId'] },
    ],
  },
  {
    // Export and erasure of a shopper's clicks and orders (issue 34): the automatic single-field index on userId.
    file: 'lib/shoppers/data.ts',
    snippets: ["this.db.collection(COLLECTIONS.clicks).where('userId', '==', userId)", "this.db.collection(COLLECTIONS.conversions).where('userId', '==', userId)"],
    queries: [
      { what: "a shopper's clicks (export, erasure)", collection: 'clicks', scope: 'COLLECTION', equalities: ['userId'] },
      { what: "a shopper's orders (export, erasure)", collection: 'conversions', scope: 'COLLECTION', equalities: ['userId'] },
    ],
  },
  {
    file: 'lib/delivery/dead-addresses.ts',
    snippets: ["db.collectionGroup(COLLECTIONS.subscriptions).where(`channels.${channel}`, 'in', values)"],
    // One query per channel whose dead addresses are looked up (lib/channels.ts).
    queries: DEAD_ADDRESS_CHANNELS.map((c) => ({ what: `the subscriptions holding a dead ${c} address (dead-address cleanup)`, collection: 'restockSubscriptions', scope: 'COLLECTION_GROUP', equalities: [`channels.${c}`] })),
  },
];

/**
 * Collections that take bulk writes (one document per notification, per
 * event, per rejected message), by the interface of lib/model.ts that
 * describes their documents. A new bulk-written collection is added here.
 */
const BULK_WRITTEN: Record<string, string> = { DeliveryDoc: 'deliveries', FanoutDoc: 'fanouts', RejectedEventDoc: 'rejectedEvents', ChunkReceiptDoc: 'chunks', FanoutRangeDoc: 'ranges' };

/**
 * Fields one event's writes share, per bulk-written collection: a composite
 * index that puts a steadily increasing field after one of them sends every
 * write of a million-recipient restock to one range of the index (issue 15).
 */
const SHARED_BY_ONE_EVENT: Record<string, string[]> = { deliveries: ['eventKey'], fanouts: [], rejectedEvents: [] };

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');

function sourceFiles(): string[] {
  return ['lib', 'functions'].flatMap((dir) =>
    readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => relative(REPO_ROOT, join(REPO_ROOT, dir, f))),
  );
}

interface Composite {
  collection: string;
  scope: Scope;
  fields: [string, Order][];
}

function composites(): Composite[] {
  return resourcesOf(tf, 'google_firestore_index').map(([, r]) => ({
    collection: r.collection,
    scope: r.query_scope ?? 'COLLECTION',
    fields: (r.fields as Hcl[]).map((f) => [f.field_path, f.order] as [string, Order]),
  }));
}

/**
 * Fields whose automatic single-field indexes terraform/ turns off (index_config {}), per collection;
 * `*` is a collection-level exemption: every field of the collection
 * (cloud.google.com/firestore/docs/concepts/index-overview, "Single-field index exemptions").
 */
function unindexedFields(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (collection: string, field: string) => out.set(collection, (out.get(collection) ?? new Set()).add(field));
  for (const [, f] of resourcesOf(tf, 'google_firestore_field')) {
    const config = block(f.index_config);
    if (config && typeof config === 'object' && !config.indexes && !String(f.collection).includes('${')) add(f.collection, f.field);
  }
  // The for_each resource over local.unindexed_fields.
  const unindexed = resourcesOf(tf, 'google_firestore_field').find(([, f]) => String(f.for_each).includes('local.unindexed_fields'));
  if (unindexed) {
    expect(block(unindexed[1].index_config)).toEqual({});
    for (const [collection, fields] of Object.entries<string[]>(tf.locals.unindexed_fields)) for (const field of fields) add(collection, field);
  }
  return out;
}

/** Collection-group single-field indexes terraform/ adds, as `collection.field`. */
function collectionGroupFields(): Set<string> {
  const out = new Set<string>();
  for (const f of firestoreFields(tf)) {
    const indexes = (block(f.index_config)?.indexes ?? []) as Hcl[];
    if (indexes.some((i) => i.query_scope === 'COLLECTION_GROUP' && i.order === 'ASCENDING')) out.add(`${f.collection}.${f.field}`);
  }
  return out;
}

/** Why a query has no index, or undefined when Firestore can serve it. */
function missingIndex(query: Query, unindexedByCollection = unindexedFields()): string | undefined {
  const exempted = unindexedByCollection.get(query.collection) ?? new Set();
  const unindexed = { has: (field: string) => exempted.has(field) || exempted.has('*') };
  if (!query.orderBy) {
    if (query.scope === 'COLLECTION_GROUP') {
      const missing = query.equalities.filter((f) => !collectionGroupFields().has(`${query.collection}.${f}`));
      return missing.length === 0 ? undefined : `no COLLECTION_GROUP index on ${query.collection}.${missing.join(', ')}`;
    }
    // Equalities only: Firestore merges the automatic single-field indexes, or uses a composite of those fields.
    const composite = composites().some(
      (c) => c.collection === query.collection && c.scope === query.scope && [...c.fields.map(([f]) => f)].sort().join() === [...query.equalities].sort().join(),
    );
    const turnedOff = query.equalities.filter((f) => unindexed.has(f));
    return composite || turnedOff.length === 0 ? undefined : `${query.collection}.${turnedOff.join(', ')} has no single-field index and no composite serves the query`;
  }
  const [field, order] = query.orderBy;
  const wanted = [...query.equalities].sort().join();
  const found = composites().some(
    (c) =>
      c.collection === query.collection &&
      c.scope === query.scope &&
      c.fields.length === query.equalities.length + 1 &&
      c.fields.slice(0, -1).map(([f]) => f).sort().join() === wanted &&
      c.fields.at(-1)![0] === field &&
      c.fields.at(-1)![1] === order,
  );
  if (found) return undefined;
  if (query.equalities.length === 0 && !unindexed.has(field)) return undefined; // the automatic single-field index
  return `no composite index ${query.collection} (${[...query.equalities.map((f) => `${f} ASCENDING`), `${field} ${order}`].join(', ')})`;
}

/** Fields of the bulk-written collections that hold timestamps (`...Ms`, `expireAt`), from lib/model.ts. */
function monotonicFields(): Map<string, string[]> {
  const model = read('lib/model.ts');
  const out = new Map<string, string[]>();
  for (const [name, collection] of Object.entries(BULK_WRITTEN)) {
    const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(model)?.[1];
    if (!body) throw new Error(`lib/model.ts no longer declares ${name}`);
    out.set(
      collection,
      [...body.matchAll(/^\s+(\w+)\??:/gm)].map((m) => m[1]!).filter((f) => /Ms$/.test(f) || f === 'expireAt'),
    );
  }
  return out;
}

describe('every query has its index', () => {
  test('every .where( and .orderBy( in lib/ and functions/ is a declared query (a new or changed one must say what index it needs)', () => {
    const undeclared: string[] = [];
    for (const file of sourceFiles()) {
      const text = read(file);
      const covered: [number, number][] = [];
      for (const site of SITES.filter((s) => s.file === file)) {
        for (const snippet of site.snippets) {
          for (let at = text.indexOf(snippet); at >= 0; at = text.indexOf(snippet, at + 1)) covered.push([at, at + snippet.length]);
        }
      }
      for (const m of text.matchAll(/\.(where|orderBy)\(/g)) {
        if (!covered.some(([from, to]) => m.index >= from && m.index < to)) {
          const line = text.slice(0, m.index).split('\n').length;
          undeclared.push(`${file}:${line}: ${text.split('\n')[line - 1]!.trim()}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });

  test('every declared query is still written as declared', () => {
    const gone = SITES.flatMap((site) => site.snippets.filter((snippet) => !read(site.file).includes(snippet)).map((snippet) => `${site.file}: ${snippet}`));
    expect(gone).toEqual([]);
  });

  test.each(SITES.flatMap((site) => site.queries.map((q) => [`${q.what} (${site.file})`, q] as const)))('%s is served by an index', (_what, query) => {
    expect(missingIndex(query)).toBeUndefined();
  });

  test('a query without its index is found (checked on a query ordering deliveries by an unindexed timestamp)', () => {
    const broken: Query = { what: 'deliveries of an event by sentAtMs', collection: 'deliveries', scope: 'COLLECTION', equalities: ['eventKey'], orderBy: ['sentAtMs', 'DESCENDING'] };
    expect(missingIndex(broken)).toBe('no composite index deliveries (eventKey ASCENDING, sentAtMs DESCENDING)');
    const byTimestampAlone: Query = { what: 'deliveries by creation', collection: 'deliveries', scope: 'COLLECTION', equalities: [], orderBy: ['createdAtMs', 'ASCENDING'] };
    expect(missingIndex(byTimestampAlone)).toBe('no composite index deliveries (createdAtMs ASCENDING)');
  });
});

describe('fields nothing queries keep no index', () => {
  test('issue 30 item 11: the ledger keeps no single-field index at all (collection-level exemption), and every query of it still has its index', () => {
    // Prepare: the ledger's queries.
    const ledgerQueries = SITES.flatMap((site) => site.queries).filter((q) => q.collection === 'deliveries');
    // Act / assess: the exemption covers every field, and each query is served by a composite.
    expect(unindexedFields().get('deliveries')?.has('*')).toBe(true);
    expect(ledgerQueries.length).toBeGreaterThanOrEqual(5);
    for (const q of ledgerQueries) expect(missingIndex(q), q.what).toBeUndefined();
  });

  test('a ledger query that relied on merging single-field indexes is found once the exemption turns them off (checked on the wave count without its composite)', () => {
    const waves = SITES.flatMap((site) => site.queries).find((q) => q.what.startsWith('sent notifications of one wave'))!;
    const all = new Map([['deliveries', new Set(['*'])]]);
    const withoutItsComposite = { ...waves, equalities: ['shard', 'eventKey', 'wave', 'state', 'channel'] };
    expect(missingIndex(withoutItsComposite, all)).toMatch(/has no single-field index and no composite serves the query/);
  });

  test("shoppers.productIds (read by id, never queried) has its automatic array index turned off", () => {
    expect(unindexedFields().get('shoppers')?.has('productIds')).toBe(true);
    expect(sourceFiles().some((f) => /where\(\s*'productIds'/.test(read(f)))).toBe(false);
  });

  test('chunk receipts expire by a TTL policy on expireAt, like the ledger they account for', () => {
    const ttl = resourcesOf(tf, 'google_firestore_field').find(([, f]) => f.collection === 'chunks' && f.field === 'expireAt');
    expect(ttl).toBeDefined();
    expect(block(ttl![1].ttl_config)).toEqual({});
    expect(unindexedFields().get('chunks')?.has('expireAt')).toBe(true);
  });
});

describe('bulk writes are not capped by timestamp indexes', () => {
  test('every timestamp field of a bulk-written collection has its automatic indexes turned off', () => {
    const unindexed = unindexedFields();
    const indexed = [...monotonicFields()].flatMap(([collection, fields]) => fields.filter((f) => !unindexed.get(collection)?.has(f)).map((f) => `${collection}.${f}`));
    expect([...monotonicFields().values()].flat().length).toBeGreaterThanOrEqual(10);
    expect(indexed).toEqual([]);
  });

  /** Composite indexes that put a timestamp after a field one event's writes share. */
  function hotComposites(all: Composite[]): string[] {
    const monotonic = monotonicFields();
    return all
      .filter((c) => {
        const shared = c.fields.findIndex(([f]) => (SHARED_BY_ONE_EVENT[c.collection] ?? []).includes(f));
        return shared >= 0 && c.fields.slice(shared + 1).some(([f]) => monotonic.get(c.collection)?.includes(f));
      })
      .map((c) => `${c.collection}: ${c.fields.map(([f, o]) => `${f} ${o}`).join(', ')}`);
  }

  test('no composite index puts a timestamp after a field one event\u2019s writes share (no hot path concentrates an event\u2019s writes in one index range)', () => {
    expect(composites().length).toBeGreaterThan(0);
    expect(hotComposites(composites())).toEqual([]);
  });

  /** Composites led by a field one event's writes share: every entry of an event under one prefix, new for every event (issue 39). */
  function ledByAnEvent(all: Composite[]): string[] {
    return all.filter((c) => (SHARED_BY_ONE_EVENT[c.collection] ?? []).includes(c.fields[0]![0])).map((c) => `${c.collection}: ${c.fields.map(([f]) => f).join(', ')}`);
  }

  test('issue 39: no composite is led by a field one event\u2019s writes share; the ledger\u2019s event indexes are led by its shard', () => {
    expect(ledByAnEvent(composites())).toEqual([]);
    // (shard, eventKey, state), (shard, eventKey, wave, state), (shard, eventKey, skipped) for send windows, (shard, eventKey, channel, state) for the funnel.
    const eventIndexes = composites().filter((c) => c.collection === 'deliveries' && c.fields.some(([f]) => f === 'eventKey'));
    expect(eventIndexes.length).toBe(4);
    for (const c of eventIndexes) expect(c.fields.slice(0, 2).map(([f]) => f)).toEqual(['shard', 'eventKey']);
  });

  test('an index led by eventKey is found (checked on the event index before issue 39, eventKey, state)', () => {
    const before: Composite = { collection: 'deliveries', scope: 'COLLECTION', fields: [['eventKey', 'ASCENDING'], ['state', 'ASCENDING']] };
    expect(ledByAnEvent([...composites(), before])).toEqual(['deliveries: eventKey, state']);
  });

  test('such an index is found (checked on a broken copy: the status index of earlier versions, eventKey, state, createdAtMs)', () => {
    const broken: Composite = { collection: 'deliveries', scope: 'COLLECTION', fields: [['eventKey', 'ASCENDING'], ['state', 'ASCENDING'], ['createdAtMs', 'ASCENDING']] };
    expect(hotComposites([...composites(), broken])).toEqual(['deliveries: eventKey ASCENDING, state ASCENDING, createdAtMs ASCENDING']);
  });
});
