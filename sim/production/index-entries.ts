/**
 * Which index entries Firestore writes for a document write, as
 * `terraform/firestore.tf` configures the indexes: the rule the production
 * clock counts with (writes and index entries per notification), and that
 * `npm run bench` can call on the documents it writes.
 *
 * Firestore Standard's automatic indexing (https://cloud.google.com/firestore/docs/concepts/index-overview,
 * "Automatic indexing"): every field that is neither an array nor a map gets
 * two collection-scope single-field indexes, ascending and descending; a map's
 * subfields are indexed the same way, recursively; an array field gets one
 * collection-scope array-contains index (an entry per distinct element).
 * A single-field index exemption (`google_firestore_field` with an
 * `index_config`) replaces that for its field with exactly the indexes it
 * lists (none when empty); a map's subfields inherit their map's exemption,
 * and field path `*` sets the collection's default ("Single-field index
 * exemptions"). A composite index holds an entry for a document only if the
 * document has a value for every one of its fields ("Index definition and
 * structure").
 *
 * Pure: data in, entries out; `readIndexConfig` is the one function that
 * reads files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';
import { Timestamp } from '@google-cloud/firestore';
import { expandForEach } from './terraform.ts';

// hcl2json's output is untyped JSON.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

type Data = Record<string, unknown>;

export type IndexScope = 'COLLECTION' | 'COLLECTION_GROUP';

/** One single-field index of a field: an order or array-contains, in a scope. */
export interface FieldIndex {
  mode: 'ASCENDING' | 'DESCENDING' | 'CONTAINS';
  scope: IndexScope;
}

/** A composite index: its collection id, name and fields in order. */
export interface CompositeIndex {
  collection: string;
  name: string;
  scope: IndexScope;
  fields: { path: string; mode: FieldIndex['mode'] }[];
}

/** The indexes terraform/ declares: single-field overrides per collection id and field path (`*`: the collection's default), and composites. */
export interface IndexConfig {
  fields: Record<string, Record<string, FieldIndex[]>>;
  composites: CompositeIndex[];
}

/** One index entry of a document: which index, under which parent (collection scope), with which values. */
export interface IndexEntry {
  /** Index, parent and values in one string: equal entries have equal keys. */
  key: string;
  /** A stable name: `collection.field:MODE:SCOPE` for a single-field index, the resource name for a composite. */
  index: string;
  /** The fields the entry orders by, in order. */
  fields: string[];
  values: unknown[];
  scope: IndexScope;
  /** The collection path the entry lives under when collection-scoped (a subcollection's entries sit under their parent). */
  parent: string;
}

const AUTOMATIC: FieldIndex[] = [
  { mode: 'ASCENDING', scope: 'COLLECTION' },
  { mode: 'DESCENDING', scope: 'COLLECTION' },
];
const AUTOMATIC_ARRAY: FieldIndex[] = [{ mode: 'CONTAINS', scope: 'COLLECTION' }];

function isMap(v: unknown): v is Data {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Timestamp) && Object.getPrototypeOf(v) === Object.prototype;
}

function valueAt(data: Data, path: string): unknown {
  let v: unknown = data;
  for (const part of path.split('.')) {
    if (!isMap(v)) return undefined;
    v = v[part];
  }
  return v;
}

/** A value as an entry compares it (Timestamps by their milliseconds). */
function comparable(v: unknown): unknown {
  return v instanceof Timestamp ? v.toMillis() : v;
}

/** A value in an entry's key (strings apart from the numbers, booleans and null they could spell). */
function keyPart(v: unknown): string {
  return typeof v === 'string' ? `"${v}` : String(v);
}

const memo = new WeakMap<IndexConfig, Map<string, Map<string, [FieldIndex[], FieldIndex[]]>>>();

/** The single-field indexes of `path` in `collection`: its own override, else its nearest map's, else the collection's `*`, else automatic. */
export function fieldIndexes(config: IndexConfig, collection: string, path: string, isArray: boolean): FieldIndex[] {
  let byCollection = memo.get(config);
  if (!byCollection) memo.set(config, (byCollection = new Map()));
  let byPath = byCollection.get(collection);
  if (!byPath) byCollection.set(collection, (byPath = new Map()));
  let found = byPath.get(path);
  if (!found) byPath.set(path, (found = [resolveFieldIndexes(config, collection, path, false), resolveFieldIndexes(config, collection, path, true)]));
  return found[isArray ? 1 : 0];
}

function resolveFieldIndexes(config: IndexConfig, collection: string, path: string, isArray: boolean): FieldIndex[] {
  const overrides = config.fields[collection] ?? {};
  const parts = path.split('.');
  for (let n = parts.length; n > 0; n--) {
    const o = overrides[parts.slice(0, n).join('.')];
    if (o) return o.filter((i) => (isArray ? i.mode === 'CONTAINS' : i.mode !== 'CONTAINS'));
  }
  const all = overrides['*'];
  if (all) return all.filter((i) => (isArray ? i.mode === 'CONTAINS' : i.mode !== 'CONTAINS'));
  return isArray ? AUTOMATIC_ARRAY : AUTOMATIC;
}

/**
 * Every index entry Firestore keeps for document `path` holding `data`.
 * @param path `collection/id` or `a/b/collection/id`: the collection id (its last collection) picks the indexes.
 */
export function indexEntries(config: IndexConfig, path: string, data: Data | undefined): IndexEntry[] {
  if (!data) return [];
  const parent = path.slice(0, path.lastIndexOf('/'));
  const collection = parent.slice(parent.lastIndexOf('/') + 1);
  const out: IndexEntry[] = [];
  const walk = (obj: Data, prefix: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (v === undefined) continue;
      const field = prefix ? `${prefix}.${k}` : k;
      if (isMap(v)) {
        walk(v, field);
        continue;
      }
      const isArray = Array.isArray(v);
      for (const i of fieldIndexes(config, collection, field, isArray)) {
        const index = `${collection}.${field}:${i.mode}:${i.scope}`;
        const values = isArray ? [...new Set((v as unknown[]).map(comparable))] : [comparable(v)];
        for (const value of values) out.push({ key: `${index}\u0000${parent}\u0000${keyPart(value)}`, index, fields: [field], values: [value], scope: i.scope, parent });
      }
    }
  };
  walk(data, '');
  for (const c of config.composites.filter((x) => x.collection === collection)) {
    const columns = c.fields.map((f) => valueAt(data, f.path));
    // A composite holds only documents with a value for every field.
    if (columns.some((v) => v === undefined)) continue;
    let rows: unknown[][] = [[]];
    c.fields.forEach((f, n) => {
      const v = columns[n];
      const options = f.mode === 'CONTAINS' ? (Array.isArray(v) ? [...new Set(v.map(comparable))] : []) : [comparable(v)];
      rows = rows.flatMap((r) => options.map((o) => [...r, o]));
    });
    const fields = c.fields.map((f) => f.path);
    for (const values of rows) out.push({ key: `${c.name}\u0000${parent}\u0000${values.map(keyPart).join('\u0000')}`, index: c.name, fields, values, scope: c.scope, parent });
  }
  return out;
}

/** What one document write does to the indexes: entries added and entries removed (an unchanged entry is neither). */
export interface IndexMutations {
  inserted: IndexEntry[];
  removed: IndexEntry[];
}

/** The index entries a write from `before` to `after` (either undefined: a create or a delete) inserts and removes. */
export function indexMutations(config: IndexConfig, path: string, before: Data | undefined, after: Data | undefined): IndexMutations {
  const was = indexEntries(config, path, before);
  const now = indexEntries(config, path, after);
  if (was.length === 0 || now.length === 0) return { inserted: now, removed: was };
  const wasKeys = new Set(was.map((e) => e.key));
  const nowKeys = new Set(now.map((e) => e.key));
  return { inserted: now.filter((e) => !wasKeys.has(e.key)), removed: was.filter((e) => !nowKeys.has(e.key)) };
}

function sameValue(a: unknown, b: unknown): boolean {
  return comparable(a) === comparable(b);
}

/**
 * How many index entries a write from `before` to `after` inserts plus
 * removes: the length of both lists of {@link indexMutations}, counted
 * without building them (the clock counts every write of a million
 * notifications).
 */
export function indexMutationCount(config: IndexConfig, path: string, before: Data | undefined, after: Data | undefined): number {
  const parent = path.slice(0, path.lastIndexOf('/'));
  const collection = parent.slice(parent.lastIndexOf('/') + 1);
  const side = (v: unknown, field: string): number => {
    if (v === undefined) return 0;
    if (isMap(v)) {
      let n = 0;
      for (const [k, x] of Object.entries(v)) n += side(x, `${field}.${k}`);
      return n;
    }
    if (Array.isArray(v)) return fieldIndexes(config, collection, field, true).length * new Set(v.map(comparable)).size;
    return fieldIndexes(config, collection, field, false).length;
  };
  const walk = (a: Data | undefined, b: Data | undefined, prefix: string): number => {
    let n = 0;
    const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
    for (const k of keys) {
      const va = a?.[k];
      const vb = b?.[k];
      const field = prefix ? `${prefix}.${k}` : k;
      if (isMap(va) && isMap(vb)) n += walk(va, vb, field);
      else if (Array.isArray(va) && Array.isArray(vb)) {
        const x = new Set(va.map(comparable));
        const y = new Set(vb.map(comparable));
        const changed = [...x].filter((e) => !y.has(e)).length + [...y].filter((e) => !x.has(e)).length;
        n += fieldIndexes(config, collection, field, true).length * changed;
      } else if (!(va !== undefined && vb !== undefined && !isMap(va) && !isMap(vb) && !Array.isArray(va) && !Array.isArray(vb) && sameValue(va, vb))) {
        n += side(va, field) + side(vb, field);
      }
    }
    return n;
  };
  let n = walk(before, after, '');
  for (const c of config.composites) {
    if (c.collection !== collection) continue;
    const rowsOf = (d: Data | undefined): string[] => {
      if (!d) return [];
      let rows = [''];
      for (const f of c.fields) {
        const v = valueAt(d, f.path);
        if (v === undefined) return [];
        const options = f.mode === 'CONTAINS' ? (Array.isArray(v) ? [...new Set(v.map(comparable))] : []) : [comparable(v)];
        rows = rows.flatMap((r) => options.map((o) => `${r}\u0000${keyPart(o)}`));
      }
      return rows;
    };
    const x = rowsOf(before);
    const y = rowsOf(after);
    if (x.length === 1 && y.length === 1) n += x[0] === y[0] ? 0 : 2;
    else {
      const sx = new Set(x);
      const sy = new Set(y);
      n += x.filter((r) => !sy.has(r)).length + y.filter((r) => !sx.has(r)).length;
    }
  }
  return n;
}

/** A write as a commit applies it: the document and its state before and after. */
export interface DocumentWrite {
  path: string;
  before: Data | undefined;
  after: Data | undefined;
}

/** Document writes and index entries written (inserted plus removed), in all and per collection id. */
export interface WriteCount {
  documents: number;
  indexEntries: number;
  byCollection: Record<string, { documents: number; indexEntries: number }>;
}

/**
 * Counts what `writes` cost Firestore: one document write each, and every
 * index entry inserted or removed. Divide by the notifications they carried
 * for a per-notification figure (the clock does; the bench can on its own
 * ledger documents).
 * @param out a count to add them to (the clock's, commit after commit); a new one by default.
 */
export function countWrites(config: IndexConfig, writes: Iterable<DocumentWrite>, out: WriteCount = { documents: 0, indexEntries: 0, byCollection: {} }): WriteCount {
  for (const w of writes) {
    const parent = w.path.slice(0, w.path.lastIndexOf('/'));
    const c = (out.byCollection[parent.slice(parent.lastIndexOf('/') + 1)] ??= { documents: 0, indexEntries: 0 });
    const entries = indexMutationCount(config, w.path, w.before, w.after);
    c.documents++;
    c.indexEntries += entries;
    out.documents++;
    out.indexEntries += entries;
  }
  return out;
}

function scopeOf(raw: unknown): IndexScope {
  return raw === 'COLLECTION_GROUP' ? 'COLLECTION_GROUP' : 'COLLECTION';
}

function listOf(x: Json): Json[] {
  return x === undefined ? [] : Array.isArray(x) ? x : [x];
}

/**
 * The index configuration of every `.tf` file in `dir`: each
 * `google_firestore_field`'s `index_config` (an empty one: the field, or with
 * field `*` the collection, is exempted) and each `google_firestore_index`.
 * @throws when a file does not parse or a `for_each` is not a shape the clock reads.
 */
export async function readIndexConfig(dir: string): Promise<IndexConfig> {
  const config: IndexConfig = { fields: {}, composites: [] };
  const locals: Record<string, Json> = {};
  const fields: Json[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf')).sort()) {
    const json = await parse(file, readFileSync(join(dir, file), 'utf8'));
    for (const l of (json.locals ?? []) as Record<string, Json>[]) Object.assign(locals, l);
    for (const body of Object.values<Json>(json.resource?.google_firestore_field ?? {})) fields.push(Array.isArray(body) ? body[0] : body);
    for (const [name, raw] of Object.entries<Json>(json.resource?.google_firestore_index ?? {})) {
      const body = Array.isArray(raw) ? raw[0] : raw;
      config.composites.push({
        collection: String(body.collection),
        name,
        scope: scopeOf(body.query_scope),
        fields: listOf(body.fields).map((f: Json) => ({ path: String(f.field_path), mode: f.array_config === 'CONTAINS' ? 'CONTAINS' : f.order === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING' })),
      });
    }
  }
  for (const f of fields.flatMap((x) => expandForEach(x, locals))) {
    const indexConfig = listOf(f.index_config)[0];
    if (indexConfig === undefined) continue; // a TTL-only field keeps its automatic indexes
    const indexes: FieldIndex[] = listOf(indexConfig.indexes).map((i: Json) => ({
      mode: i.array_config === 'CONTAINS' ? 'CONTAINS' : i.order === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING',
      scope: scopeOf(i.query_scope),
    }));
    (config.fields[String(f.collection)] ??= {})[String(f.field)] = indexes;
  }
  return config;
}
