import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Timestamp } from '@google-cloud/firestore';
import { describe, expect, it } from 'vitest';
import { countWrites, indexMutationCount, indexMutations, readIndexConfig, type DocumentWrite, type IndexConfig } from '../../sim/production/index-entries.ts';
import { ledgerShardOf } from '../../lib/model.ts';

/** A collection-wide exemption (`field = "*"`) of the ledger, wherever terraform/ declares one. */
const LEDGER_STAR = /resource "google_firestore_field" "\w+" \{\s*project\s*=[^\n]*\n\s*database\s*=[^\n]*\n\s*collection = "deliveries"\s*\n\s*field\s*= "\*"(?:[^{}]|\{[^{}]*\})*\}/g;

/** A copy of terraform/ without any collection-wide exemption of the ledger, and with `extra` appended to firestore.tf. */
function terraformWith(extra: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'index-tf-'));
  for (const f of readdirSync('terraform').filter((x) => x.endsWith('.tf'))) {
    const text = readFileSync(join('terraform', f), 'utf8');
    writeFileSync(join(dir, f), f === 'firestore.tf' ? text.replace(LEDGER_STAR, '') + extra : text);
  }
  return dir;
}

/** The collection-wide exemption of the ledger, as the Terraform branch of issue 30 declares it. */
const LEDGER_EXEMPTED = `
resource "google_firestore_field" "deliveries_all_fields" {
  project    = var.project_id
  database   = local.firestore_database
  collection = "deliveries"
  field      = "*"

  index_config {}
}
`;

const nowMs = 1_800_000_000_000;
const claimed = {
  dedupKey: 'a1b2',
  eventKey: 'restock-1',
  productId: 'p1',
  userId: 'u1',
  channel: 'email',
  state: 'sending',
  attempts: 0,
  leaseExpiresAtMs: nowMs + 60_000,
  lastError: null,
  sentAtMs: null,
  createdAtMs: nowMs,
  updatedAtMs: nowMs,
  expireAt: Timestamp.fromMillis(nowMs + 30 * 86_400_000),
  // As delivery writes every entry since issue 39: the field that leads the event indexes.
  shard: ledgerShardOf('a1b2'),
};
const sent = { ...claimed, state: 'sent', attempts: 1, leaseExpiresAtMs: null, sentAtMs: nowMs + 300, updatedAtMs: nowMs + 300 };
const subscription = { userId: 'u1', productId: 'p1', channels: { email: 'u1@shop.example' }, locale: 'en', createdAtMs: 1, updatedAtMs: 1 };

/** What one notification writes: its ledger entry claimed, then recorded sent, and the one-shot subscription deleted. */
const oneNotification: DocumentWrite[] = [
  { path: 'deliveries/a1b2', before: undefined, after: claimed },
  { path: 'deliveries/a1b2', before: claimed, after: sent },
  { path: 'products/p1/restockSubscriptions/u1', before: subscription, after: undefined },
];

describe('index entries per document write, as terraform/firestore.tf configures them', () => {
  it('a field neither array nor map gets an ascending and a descending entry; an exempted field none; a composite one entry when the document has every field', () => {
    const config: IndexConfig = { fields: { c: { b: [] } }, composites: [{ collection: 'c', name: 'ab', scope: 'COLLECTION', fields: [{ path: 'a', mode: 'ASCENDING' }, { path: 'z', mode: 'ASCENDING' }] }] };

    const entries = indexMutations(config, 'c/d', undefined, { a: 1, b: 2, m: { x: 'y' }, tags: ['t', 't', 'u'] }).inserted;

    expect(entries.map((e) => `${e.index} ${JSON.stringify(e.values)}`).sort()).toEqual([
      'c.a:ASCENDING:COLLECTION [1]',
      'c.a:DESCENDING:COLLECTION [1]',
      'c.m.x:ASCENDING:COLLECTION ["y"]',
      'c.m.x:DESCENDING:COLLECTION ["y"]',
      'c.tags:CONTAINS:COLLECTION ["t"]',
      'c.tags:CONTAINS:COLLECTION ["u"]',
    ]);
    expect(indexMutations(config, 'c/d', undefined, { a: 1, z: 2 }).inserted.map((e) => e.index)).toContain('ab');
  });

  it('an update writes only the entries of what changed: the old entry removed, the new one inserted', () => {
    const config: IndexConfig = { fields: {}, composites: [] };

    const m = indexMutations(config, 'c/d', { a: 1, b: 2 }, { a: 1, b: 3 });

    expect(m.inserted.map((e) => e.values[0])).toEqual([3, 3]);
    expect(m.removed.map((e) => e.values[0])).toEqual([2, 2]);
  });

  it('counting without building the entries agrees with building them', { timeout: 60_000 }, async () => {
    const config = await readIndexConfig('terraform');
    for (const w of oneNotification) {
      const m = indexMutations(config, w.path, w.before, w.after);
      expect(indexMutationCount(config, w.path, w.before, w.after), w.path).toBe(m.inserted.length + m.removed.length);
    }
  });

  it('one notification costs 3 document writes; the ledger\u2019s index entries fall from 34 to 8 when terraform/ exempts the collection (field "*"), keeping its composites', { timeout: 60_000 }, async () => {
    // Whatever terraform/ declares today (the exemption may be merged already), the fixture starts without it.
    const today = countWrites(await readIndexConfig(terraformWith('')), oneNotification);
    const exempted = countWrites(await readIndexConfig(terraformWith(LEDGER_EXEMPTED)), oneNotification);

    expect(today.documents).toBe(3);
    expect(exempted.documents).toBe(3);
    // Today: nine fields indexed both ways at the claim (the shard among them), those the record changes rewritten, and the composites.
    expect(today.byCollection.deliveries).toEqual({ documents: 2, indexEntries: 34 });
    // Exempted: (shard, eventKey, state) and the funnel's (shard, eventKey, channel, state) each inserted at the claim and
    // moved at the record; the two trace composites once. (shard, eventKey, skipped) holds only held sends the stock check stopped.
    expect(exempted.byCollection.deliveries).toEqual({ documents: 2, indexEntries: 8 });
    expect(exempted.byCollection.restockSubscriptions).toEqual(today.byCollection.restockSubscriptions);
    // The subscription deleted: userId both ways and its collection-group index, channels.email in its collection-group index only,
    // four fields both ways (docs/costs-and-limits.md: 8 + 12 = 20 a notification as deployed).
    expect(today.byCollection.restockSubscriptions).toEqual({ documents: 1, indexEntries: 12 });
    const deployed = countWrites(await readIndexConfig('terraform'), oneNotification);
    expect(deployed.indexEntries).toBe(20);
    // docs/costs-and-limits.md states these counts: they are the ones counted here, not copied by hand.
    const costs = readFileSync(join('docs', 'costs-and-limits.md'), 'utf8');
    const row = /\| Firestore index entries written or removed \| (\d+) \|[^\n]*the ledger entry's (\d+)[^\n]*the subscription's (\d+)[^\n]*the ledger entry alone writes (\d+)/.exec(costs);
    expect(row?.slice(1).map(Number), 'docs/costs-and-limits.md, "Firestore index entries" row').toEqual([
      deployed.indexEntries,
      deployed.byCollection.deliveries!.indexEntries,
      deployed.byCollection.restockSubscriptions!.indexEntries,
      today.byCollection.deliveries!.indexEntries,
    ]);
    expect(readFileSync(join(terraformWith(LEDGER_EXEMPTED), 'firestore.tf'), 'utf8').match(LEDGER_STAR)).toHaveLength(1);
    expect(exempted.indexEntries).toBeLessThan(today.indexEntries);
  });
});
