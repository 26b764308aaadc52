/**
 * An in-memory Firestore that the real code talks to through the subset of
 * the `@google-cloud/firestore` API it uses (every call site in lib/ and
 * functions/): collection and document references, get / getAll, create /
 * set / update / delete with their preconditions, batched writes (atomic, at
 * most 500 writes), transactions (reads recorded; a commit whose reads
 * changed meanwhile is ABORTED, and the client retries it with backoff as the
 * real one does, up to 5 attempts), and queries with where / orderBy / limit
 * / startAfter / select and count aggregations, collection groups included.
 *
 * {@link FirestoreStore} is the database (one per run); {@link SimFirestore}
 * is one process's client: every RPC goes through the {@link Net}, so it
 * waits in virtual time and can fail or kill its process. Commits are
 * reported to listeners, which is how the invariants see every write with
 * the state before and after.
 */
import { FieldPath, Timestamp } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { GrpcError, type Net } from './net.ts';
import type { SimProcess } from './scheduler.ts';

type Data = Record<string, unknown>;

interface StoredDoc {
  data: Data;
  version: number;
  createTimeMs: number;
  updateTimeMs: number;
}

/** One write of a commit, as the invariants see it. */
export interface AppliedWrite {
  kind: 'create' | 'set' | 'update' | 'delete';
  path: string;
  before: Data | undefined;
  after: Data | undefined;
}

/** One applied commit: who wrote, and every write with its before and after. */
export interface AppliedCommit {
  actor: string;
  atMs: number;
  writes: AppliedWrite[];
}

interface PendingWrite {
  kind: AppliedWrite['kind'];
  path: string;
  data?: Data;
  merge?: boolean;
}

/** Latencies of the in-memory Firestore, in ms (round trips). */
export interface FirestoreLatency {
  readMs: (docs: number) => number;
  /** A commit's round trip; the production clock makes it wait on Firestore's write-rate limits, so it sees the writes. */
  commitMs: (writes: readonly { kind: string; path: string }[]) => number;
  queryMs: (docs: number) => number;
  /**
   * The production clock's Firestore capacity (sim/production/firestore-load.ts):
   * how much longer a read of these documents (per collection path) waits
   * behind busy key ranges. The seeds leave it out.
   */
  readWaitMs?: (docsByCollection: Map<string, number>) => number;
  /** The same for a commit: how much longer it waits, or the error Firestore refuses it with (nothing is written). */
  admitCommit?: (writes: readonly { kind: string; path: string; data?: Data; merge?: boolean }[]) => { waitMs: number } | GrpcError;
  /**
   * Retry a refused commit in the client as @google-cloud/firestore does
   * (google-gax: RESOURCE_EXHAUSTED and UNAVAILABLE, and ABORTED outside a
   * transaction; a random part of a delay growing from `initialMs` by
   * `multiplier` up to `maxMs`, for at most `totalMs`). The production clock
   * sets it; the seeds surface every error to lib/, a harsher test of its paths.
   */
  commitRetry?: { initialMs: number; multiplier: number; maxMs: number; totalMs: number };
}

/** Deep copy that keeps Timestamps (and other class instances) as they are: they are immutable values. */
function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Data = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = clone(x);
    return out as T;
  }
  return v;
}

function getField(data: Data | undefined, field: string): unknown {
  let v: unknown = data;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Data)[part];
  }
  return v;
}

function setField(data: Data, field: string, value: unknown): void {
  const parts = field.split('.');
  let o = data;
  for (const part of parts.slice(0, -1)) {
    if (o[part] === null || typeof o[part] !== 'object') o[part] = {};
    o = o[part] as Data;
  }
  if (value === undefined) delete o[parts.at(-1)!];
  else o[parts.at(-1)!] = clone(value);
}

/**
 * The document a write leaves (undefined: none), from the one before it:
 * create and set replace it (set with merge keeps the fields it does not
 * name), update sets its field paths (`a.b` in map `a`), delete removes it.
 * The store applies writes with it, and the production clock asks it which
 * index entries a commit will change before admitting it.
 */
export function writtenData(w: { kind: string; data?: Data; merge?: boolean }, before: Data | undefined): Data | undefined {
  if (w.kind === 'create') return w.data!;
  if (w.kind === 'set') return w.merge && before ? { ...clone(before), ...w.data! } : w.data!;
  if (w.kind === 'update') {
    if (!before) return undefined;
    const after = clone(before);
    for (const [k, v] of Object.entries(w.data!)) setField(after, k, v);
    return after;
  }
  return undefined;
}

function fieldName(f: string | FieldPath): string {
  return typeof f === 'string' ? f : f.isEqual(FieldPath.documentId()) ? '__name__' : f.toString();
}

function comparable(v: unknown): number | string | boolean | null {
  if (v instanceof Timestamp) return v.toMillis();
  if (v === undefined) return null;
  return v as number | string | boolean | null;
}

function compare(a: unknown, b: unknown): number {
  const x = comparable(a);
  const y = comparable(b);
  if (x === y) return 0;
  if (x === null) return -1;
  if (y === null) return 1;
  if (typeof x !== typeof y) return typeof x < typeof y ? -1 : 1;
  return x < y ? -1 : 1;
}

function parentPath(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function docId(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The database of one run. */
export class FirestoreStore {
  private readonly docs = new Map<string, StoredDoc>();
  /** collection path → ids, so a query lists one collection without scanning the database. */
  private readonly collections = new Map<string, Set<string>>();
  /** collection path → its ids in order, rebuilt only when an id is added (deleted ids are skipped when read). */
  private readonly ordered = new Map<string, string[]>();
  /**
   * Version of every deleted path, so a transaction sees a delete-and-recreate
   * as a change; a live document carries its own (the production clock's
   * million documents are not kept twice).
   */
  private readonly tombstones = new Map<string, number>();
  private clock = 0;
  readonly listeners: ((commit: AppliedCommit) => void)[] = [];
  /** Told of every document a process reads by id (as the read is applied), so an invariant can say what a decision saw. */
  readonly readListeners: ((actor: string, path: string) => void)[] = [];
  /** Per collection id (last path segment): commits touching it, for the write-rate figures. */
  readonly writesByCollection = new Map<string, number>();
  commits = 0;

  constructor(private readonly now: () => number) {}

  version(path: string): number {
    return this.docs.get(path)?.version ?? this.tombstones.get(path) ?? 0;
  }

  /**
   * Ids of one collection in document-id order from just after `after`,
   * lazily: what a query ordered by document id alone reads (the fan-out's
   * pages) without listing and sorting the whole collection each time.
   */
  *idsAfter(collectionPath: string, after: string | undefined): Generator<string> {
    const ids = this.collections.get(collectionPath);
    if (!ids) return;
    let sorted = this.ordered.get(collectionPath);
    if (!sorted) {
      sorted = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      this.ordered.set(collectionPath, sorted);
    }
    let lo = 0;
    if (after !== undefined) {
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid]! <= after) lo = mid + 1;
        else hi = mid;
      }
    }
    for (let i = lo; i < sorted.length; i++) if (ids.has(sorted[i]!)) yield sorted[i]!;
  }

  /** The stored document. Stored data is never changed in place (a write replaces it), so this is not a copy: do not mutate it. */
  read(path: string): { readonly data: Data; createTimeMs: number; updateTimeMs: number } | undefined {
    return this.docs.get(path);
  }

  /** The path of every stored document (an end-of-run scan). */
  paths(): string[] {
    return [...this.docs.keys()];
  }

  /** Ids of one collection, or of every collection with this id (a collection group). */
  list(collectionPath: string | { group: string }): string[] {
    if (typeof collectionPath === 'string') return [...(this.collections.get(collectionPath) ?? [])].map((id) => `${collectionPath}/${id}`);
    const out: string[] = [];
    for (const [path, ids] of this.collections) {
      if (docId(path) === collectionPath.group) for (const id of ids) out.push(`${path}/${id}`);
    }
    return out;
  }

  /**
   * Applies `writes` atomically, or none of them: a create of an existing
   * document fails ALREADY_EXISTS, an update of a missing one NOT_FOUND.
   */
  commit(actor: string, writes: PendingWrite[]): void {
    if (writes.length > 500) throw new GrpcError(status.INVALID_ARGUMENT, 'maximum 500 writes allowed per request');
    const staged = new Map<string, Data | undefined>();
    const current = (path: string) => (staged.has(path) ? staged.get(path) : this.docs.get(path)?.data);
    const applied: AppliedWrite[] = [];
    for (const w of writes) {
      const before = current(w.path);
      if (w.kind === 'create' && before) throw new GrpcError(status.ALREADY_EXISTS, `Document already exists: ${w.path}`);
      if (w.kind === 'update' && !before) throw new GrpcError(status.NOT_FOUND, `No document to update: ${w.path}`);
      const after = writtenData(w, before);
      staged.set(w.path, after);
      applied.push({ kind: w.kind, path: w.path, before, after });
    }
    const nowMs = this.now();
    for (const [path, data] of staged) {
      const existing = this.docs.get(path);
      const col = parentPath(path);
      if (data === undefined) {
        this.docs.delete(path);
        this.collections.get(col)?.delete(docId(path));
        this.tombstones.set(path, ++this.clock);
      } else {
        this.docs.set(path, { data, version: ++this.clock, createTimeMs: existing?.createTimeMs ?? nowMs, updateTimeMs: nowMs });
        this.tombstones.delete(path);
        let ids = this.collections.get(col);
        if (!ids) this.collections.set(col, (ids = new Set()));
        if (!ids.has(docId(path))) {
          ids.add(docId(path));
          this.ordered.delete(col);
        }
      }
      const name = docId(col);
      this.writesByCollection.set(name, (this.writesByCollection.get(name) ?? 0) + 1);
    }
    this.commits++;
    const commit: AppliedCommit = { actor, atMs: nowMs, writes: applied };
    for (const l of this.listeners) l(commit);
  }

  /** A write outside any process (seeding the world before the run). */
  seed(path: string, data: Data): void {
    this.commit('seed', [{ kind: 'set', path, data }]);
  }
}

// ---------------------------------------------------------------------------
// The client API (the subset the code uses), bound to one process.

export class SimDocumentSnapshot {
  constructor(
    readonly ref: SimDocumentReference,
    private readonly stored: { data: Data; createTimeMs: number; updateTimeMs: number } | undefined,
    private readonly fields?: string[],
  ) {}
  get id(): string {
    return this.ref.id;
  }
  get exists(): boolean {
    return this.stored !== undefined;
  }
  get createTime(): Timestamp | undefined {
    return this.stored && Timestamp.fromMillis(this.stored.createTimeMs);
  }
  get updateTime(): Timestamp | undefined {
    return this.stored && Timestamp.fromMillis(this.stored.updateTimeMs);
  }
  data(): Data | undefined {
    if (!this.stored) return undefined;
    if (!this.fields) return clone(this.stored.data);
    const out: Data = {};
    for (const f of this.fields) if (getField(this.stored.data, f) !== undefined) setField(out, f, getField(this.stored.data, f));
    return out;
  }
  get(field: string | FieldPath): unknown {
    return getField(this.stored?.data, fieldName(field));
  }
}

class SimQuerySnapshot {
  constructor(readonly docs: SimDocumentSnapshot[]) {}
  get empty(): boolean {
    return this.docs.length === 0;
  }
  get size(): number {
    return this.docs.length;
  }
  forEach(fn: (d: SimDocumentSnapshot) => void): void {
    this.docs.forEach(fn);
  }
}

interface Filter {
  field: string;
  op: string;
  value: unknown;
}

interface QuerySpec {
  from: string | { group: string };
  filters: Filter[];
  orders: { field: string; dir: 'asc' | 'desc' }[];
  limit?: number;
  startAfter?: unknown[];
  /** Lower bound, inclusive (`startAt`). */
  startAt?: unknown[];
  /** Upper bound, inclusive (`endAt`) or exclusive (`endBefore`). */
  end?: { values: unknown[]; inclusive: boolean };
  select?: string[];
}

function matches(path: string, data: Data, f: Filter): boolean {
  const v = f.field === '__name__' ? path : getField(data, f.field);
  switch (f.op) {
    case '==':
      return compare(v, f.value) === 0 && v !== undefined;
    case '!=':
      return v !== undefined && compare(v, f.value) !== 0;
    case '<':
      return v !== undefined && compare(v, f.value) < 0;
    case '<=':
      return v !== undefined && compare(v, f.value) <= 0;
    case '>':
      return v !== undefined && compare(v, f.value) > 0;
    case '>=':
      return v !== undefined && compare(v, f.value) >= 0;
    case 'in':
      return (f.value as unknown[]).some((x) => compare(v, x) === 0 && v !== undefined);
    case 'not-in':
      return v !== undefined && !(f.value as unknown[]).some((x) => compare(v, x) === 0);
    case 'array-contains':
      return Array.isArray(v) && v.some((x) => compare(x, f.value) === 0);
    default:
      throw new GrpcError(status.INVALID_ARGUMENT, `operator ${f.op} is not supported by the simulation`);
  }
}

export class SimQuery {
  constructor(
    readonly firestore: SimFirestore,
    protected readonly spec: QuerySpec,
  ) {}

  private with(change: Partial<QuerySpec>): SimQuery {
    return new SimQuery(this.firestore, { ...this.spec, ...change });
  }
  where(field: string | FieldPath, op: string, value: unknown): SimQuery {
    return this.with({ filters: [...this.spec.filters, { field: fieldName(field), op, value }] });
  }
  orderBy(field: string | FieldPath, dir: 'asc' | 'desc' = 'asc'): SimQuery {
    return this.with({ orders: [...this.spec.orders, { field: fieldName(field), dir }] });
  }
  limit(n: number): SimQuery {
    return this.with({ limit: n });
  }
  startAfter(...values: unknown[]): SimQuery {
    return this.with({ startAfter: values });
  }
  /** The query's limit, if any (its latency depends on what it returns). */
  get limitOf(): number | undefined {
    return this.spec.limit;
  }
  /** The collection path it reads, undefined for a collection group (whose ranges are many). */
  get fromPath(): string | undefined {
    return typeof this.spec.from === 'string' ? this.spec.from : undefined;
  }
  startAt(...values: unknown[]): SimQuery {
    return this.with({ startAt: values });
  }
  endAt(...values: unknown[]): SimQuery {
    return this.with({ end: { values, inclusive: true } });
  }
  endBefore(...values: unknown[]): SimQuery {
    return this.with({ end: { values, inclusive: false } });
  }
  select(...fields: string[]): SimQuery {
    return this.with({ select: fields });
  }
  count(): { get: () => Promise<{ data: () => { count: number } }>; query: SimQuery } {
    return {
      query: this,
      get: () => this.firestore.rpcQuery(this, true).then((docs) => ({ data: () => ({ count: docs.length }) })),
    };
  }
  get(): Promise<SimQuerySnapshot> {
    return this.firestore.rpcQuery(this, false).then((docs) => new SimQuerySnapshot(docs));
  }

  /** Runs the query on the store now (called at the service side of the RPC). */
  execute(store: FirestoreStore): SimDocumentSnapshot[] {
    const s = this.spec;
    const orders = [...s.orders];
    if (!orders.some((o) => o.field === '__name__')) orders.push({ field: '__name__', dir: orders.at(-1)?.dir ?? 'asc' });
    const key = (path: string, data: Data, field: string) => (field === '__name__' ? (typeof s.from === 'string' ? docId(path) : path) : getField(data, field));
    const oneValue = (values: unknown[] | undefined) => (values?.length ?? 0) <= 1;
    if (typeof s.from === 'string' && orders.length === 1 && orders[0]!.dir === 'asc' && oneValue(s.startAfter) && oneValue(s.startAt) && oneValue(s.end?.values)) {
      // Ordered by document id alone: walk the collection's ids in order (same answer as below, without sorting it all),
      // within both bounds (a key range's pages and counts: startAfter/startAt below, endAt/endBefore above).
      const from = s.from;
      const idOf = (c: unknown) => (c === undefined ? undefined : c instanceof SimDocumentSnapshot ? c.id : String(c));
      const after = idOf(s.startAfter?.[0]);
      const atLeast = idOf(s.startAt?.[0]);
      const end = idOf(s.end?.values[0]);
      const out: SimDocumentSnapshot[] = [];
      for (const id of store.idsAfter(from, after)) {
        if (s.limit !== undefined && out.length >= s.limit) break;
        // The same order idsAfter walks in.
        if (end !== undefined && (s.end!.inclusive ? id > end : id >= end)) break;
        if (atLeast !== undefined && id < atLeast) continue;
        const path = `${from}/${id}`;
        const stored = store.read(path)!;
        if (s.filters.every((f) => matches(path, stored.data, f))) out.push(new SimDocumentSnapshot(this.firestore.doc(path), stored, s.select));
      }
      return out;
    }
    let rows = store
      .list(s.from)
      .map((path) => ({ path, stored: store.read(path)! }))
      .filter((r) => s.filters.every((f) => matches(r.path, r.stored.data, f)))
      // Firestore leaves out documents without the ordered field.
      .filter((r) => orders.every((o) => o.field === '__name__' || getField(r.stored.data, o.field) !== undefined));
    rows.sort((a, b) => {
      for (const o of orders) {
        const c = compare(key(a.path, a.stored.data, o.field), key(b.path, b.stored.data, o.field));
        if (c !== 0) return o.dir === 'asc' ? c : -c;
      }
      return 0;
    });
    const cursorOf = (values: unknown[]) =>
      values.map((v, i) => {
        const field = orders[i]!.field;
        if (v instanceof SimDocumentSnapshot) return field === '__name__' ? (typeof s.from === 'string' ? v.id : v.ref.path) : v.get(field);
        return v;
      });
    // Where a row stands against a cursor in the query's order: <0 before it, 0 on it, >0 after it.
    const against = (r: { path: string; stored: { data: Data } }, cursor: unknown[]) => {
      for (let i = 0; i < cursor.length; i++) {
        const o = orders[i]!;
        const c = compare(key(r.path, r.stored.data, o.field), cursor[i]);
        if (c !== 0) return o.dir === 'asc' ? c : -c;
      }
      return 0;
    };
    if (s.startAfter) {
      const cursor = cursorOf(s.startAfter);
      rows = rows.filter((r) => against(r, cursor) > 0);
    }
    if (s.startAt) {
      const cursor = cursorOf(s.startAt);
      rows = rows.filter((r) => against(r, cursor) >= 0);
    }
    if (s.end) {
      const cursor = cursorOf(s.end.values);
      const inclusive = s.end.inclusive;
      rows = rows.filter((r) => (inclusive ? against(r, cursor) <= 0 : against(r, cursor) < 0));
    }
    if (s.limit !== undefined) rows = rows.slice(0, s.limit);
    return rows.map((r) => new SimDocumentSnapshot(this.firestore.doc(r.path), r.stored, s.select));
  }
}

export class SimCollectionReference extends SimQuery {
  constructor(
    firestore: SimFirestore,
    readonly path: string,
  ) {
    super(firestore, { from: path, filters: [], orders: [] });
  }
  get id(): string {
    return docId(this.path);
  }
  /** The document this collection belongs to; null for a root collection, as Firestore's. */
  get parent(): SimDocumentReference | null {
    return this.path.includes('/') ? new SimDocumentReference(this.firestore, parentPath(this.path)) : null;
  }
  doc(id: string): SimDocumentReference {
    if (id.includes('/')) throw new Error(`document id must not contain "/": ${id}`);
    return new SimDocumentReference(this.firestore, `${this.path}/${id}`);
  }
}

export class SimDocumentReference {
  constructor(
    readonly firestore: SimFirestore,
    readonly path: string,
  ) {}
  get id(): string {
    return docId(this.path);
  }
  get parent(): SimCollectionReference {
    return new SimCollectionReference(this.firestore, parentPath(this.path));
  }
  collection(id: string): SimCollectionReference {
    return new SimCollectionReference(this.firestore, `${this.path}/${id}`);
  }
  get(): Promise<SimDocumentSnapshot> {
    return this.firestore.getAll(this).then((s) => s[0]!);
  }
  create(data: Data): Promise<unknown> {
    return this.firestore.batch().create(this, data).commit();
  }
  set(data: Data, options?: { merge?: boolean }): Promise<unknown> {
    return this.firestore.batch().set(this, data, options).commit();
  }
  update(data: Data): Promise<unknown> {
    return this.firestore.batch().update(this, data).commit();
  }
  delete(): Promise<unknown> {
    return this.firestore.batch().delete(this).commit();
  }
  isEqual(other: SimDocumentReference): boolean {
    return other.path === this.path;
  }
}

export class SimWriteBatch {
  protected readonly writes: PendingWrite[] = [];
  constructor(protected readonly firestore: SimFirestore) {}
  create(ref: SimDocumentReference, data: Data): this {
    this.writes.push({ kind: 'create', path: ref.path, data: clone(data) });
    return this;
  }
  set(ref: SimDocumentReference, data: Data, options?: { merge?: boolean }): this {
    this.writes.push({ kind: 'set', path: ref.path, data: clone(data), merge: Boolean(options?.merge) });
    return this;
  }
  update(ref: SimDocumentReference, data: Data): this {
    this.writes.push({ kind: 'update', path: ref.path, data: { ...data } });
    return this;
  }
  delete(ref: SimDocumentReference): this {
    this.writes.push({ kind: 'delete', path: ref.path });
    return this;
  }
  commit(): Promise<unknown[]> {
    const writes = [...this.writes];
    return this.firestore.rpcCommit(writes, undefined).then(() => writes.map(() => ({})));
  }
}

class SimTransaction extends SimWriteBatch {
  readonly reads = new Map<string, number>();
  async get(target: SimDocumentReference | SimQuery | { query: SimQuery }): Promise<unknown> {
    if (target instanceof SimDocumentReference) return (await this.getAll(target))[0];
    if (target instanceof SimQuery) return this.firestore.rpcQuery(target, false).then((docs) => new SimQuerySnapshot(docs));
    return this.firestore.rpcQuery(target.query, true).then((docs) => ({ data: () => ({ count: docs.length }) }));
  }
  getAll(...refs: SimDocumentReference[]): Promise<SimDocumentSnapshot[]> {
    return this.firestore.rpcGet(refs, this.reads);
  }
  async commitTx(): Promise<void> {
    await this.firestore.rpcCommit(this.writes, this.reads);
  }
}

/**
 * Backoff between transaction attempts, as the Node client's ExponentialBackoff: 0, then 1 s growing 1.5x, jittered;
 * after RESOURCE_EXHAUSTED the client waits its maximum, 60 s (transaction.js `maybeBackoff`: `resetToMax`).
 */
function transactionBackoffMs(attempt: number, lastCode?: number): number {
  if (attempt <= 1) return 0;
  const base = lastCode === status.RESOURCE_EXHAUSTED ? 60_000 : Math.min(60_000, 1000 * 1.5 ** (attempt - 2));
  return Math.max(0, Math.round(base + base * (Math.random() * 2 - 1)));
}

const RETRYABLE_IN_TRANSACTION = new Set<number>([status.ABORTED, status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.INTERNAL, status.RESOURCE_EXHAUSTED]);

/** One process's Firestore client. */
export class SimFirestore {
  constructor(
    readonly store: FirestoreStore,
    private readonly net: Net,
    private readonly proc: SimProcess,
    private readonly latency: FirestoreLatency,
  ) {}

  collection(path: string): SimCollectionReference {
    return new SimCollectionReference(this, path);
  }
  doc(path: string): SimDocumentReference {
    return new SimDocumentReference(this, path);
  }
  collectionGroup(id: string): SimQuery {
    return new SimQuery(this, { from: { group: id }, filters: [], orders: [] });
  }
  batch(): SimWriteBatch {
    return new SimWriteBatch(this);
  }
  getAll(...refs: SimDocumentReference[]): Promise<SimDocumentSnapshot[]> {
    return this.rpcGet(refs, undefined);
  }

  /** The real client's `runTransaction`: up to 5 attempts, retrying contention and transient errors with backoff. */
  async runTransaction<T>(work: (tx: SimTransaction) => Promise<T>, options?: { maxAttempts?: number }): Promise<T> {
    const maxAttempts = options?.maxAttempts ?? 5;
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const wait = transactionBackoffMs(attempt, (lastError as { code?: number } | undefined)?.code);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const tx = new SimTransaction(this);
      try {
        const result = await work(tx);
        await tx.commitTx();
        return result;
      } catch (err) {
        const code = (err as { code?: unknown })?.code;
        if (typeof code !== 'number' || !RETRYABLE_IN_TRANSACTION.has(code)) throw err;
        lastError = err;
      }
    }
    throw lastError;
  }

  /** @internal Reads documents (one RPC), recording versions for a transaction. */
  rpcGet(refs: SimDocumentReference[], reads: Map<string, number> | undefined): Promise<SimDocumentSnapshot[]> {
    let waitMs = 0;
    if (this.latency.readWaitMs) {
      const byCollection = new Map<string, number>();
      for (const r of refs) byCollection.set(parentPath(r.path), (byCollection.get(parentPath(r.path)) ?? 0) + 1);
      waitMs = this.latency.readWaitMs(byCollection);
    }
    return this.net.call(this.proc, {
      service: 'firestore',
      what: refs.length === 1 ? `get ${refs[0]!.path}` : `getAll ${refs.length} docs`,
      latencyMs: this.latency.readMs(refs.length) + waitMs,
      mutating: false,
      apply: () =>
        refs.map((ref) => {
          for (const l of this.store.readListeners) l(this.proc.name, ref.path);
          if (reads && !reads.has(ref.path)) reads.set(ref.path, this.store.version(ref.path));
          return new SimDocumentSnapshot(ref, this.store.read(ref.path));
        }),
    });
  }

  /** @internal Runs a query (one RPC). */
  rpcQuery(query: SimQuery, aggregate: boolean): Promise<SimDocumentSnapshot[]> {
    const docs = aggregate ? 0 : (query.limitOf ?? 100);
    const from = query.fromPath;
    const waitMs = this.latency.readWaitMs && from !== undefined ? this.latency.readWaitMs(new Map([[from, Math.max(1, docs)]])) : 0;
    return this.net.call(this.proc, {
      service: 'firestore',
      what: aggregate ? 'count' : 'query',
      latencyMs: this.latency.queryMs(docs) + waitMs,
      mutating: false,
      apply: () => query.execute(this.store),
    });
  }

  /** @internal Commits writes (one RPC, retried in the client when `commitRetry` says so); with `reads`, ABORTED if any read document changed since. */
  async rpcCommit(writes: PendingWrite[], reads: Map<string, number> | undefined): Promise<void> {
    const retry = this.latency.commitRetry;
    if (!retry) return this.rpcCommitOnce(writes, reads);
    const retryable = new Set<number>([status.RESOURCE_EXHAUSTED, status.UNAVAILABLE, ...(reads ? [] : [status.ABORTED])]);
    const started = this.net.scheduler.nowMs;
    for (let delay = retry.initialMs; ; delay = Math.min(retry.maxMs, delay * retry.multiplier)) {
      try {
        return await this.rpcCommitOnce(writes, reads);
      } catch (err) {
        const code = (err as { code?: unknown })?.code;
        const sleep = Math.random() * delay;
        if (typeof code !== 'number' || !retryable.has(code) || this.net.scheduler.nowMs + sleep - started > retry.totalMs) throw err;
        this.commitRetries++;
        await new Promise((r) => setTimeout(r, sleep));
      }
    }
  }

  /** Commits the client retried (the production clock's report). */
  commitRetries = 0;

  private rpcCommitOnce(writes: PendingWrite[], reads: Map<string, number> | undefined): Promise<void> {
    const admitted = this.latency.admitCommit?.(writes);
    const refused = admitted instanceof GrpcError ? admitted : undefined;
    return this.net.call(this.proc, {
      service: 'firestore',
      what: `commit ${writes.length} write(s)${reads ? ' (transaction)' : ''}${writes.length <= 2 ? ': ' + writes.map((w) => `${w.kind} ${w.path}`).join(', ') : ''}`,
      latencyMs: this.latency.commitMs(writes) + (admitted && !(admitted instanceof GrpcError) ? admitted.waitMs : 0),
      mutating: true,
      transientCode: reads ? status.ABORTED : status.UNAVAILABLE,
      apply: () => {
        if (refused) throw refused;
        if (reads) {
          for (const [path, version] of reads) {
            if (this.store.version(path) !== version) throw new GrpcError(status.ABORTED, `Transaction lock timeout / contention on ${path}`);
          }
        }
        if (writes.length > 0) this.store.commit(this.proc.name, writes);
      },
    });
  }
}
