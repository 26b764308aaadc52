/**
 * docs/privacy.md's retention table against the code and Terraform: every
 * collection of lib/model.ts has a row, and a row says "TTL" exactly where
 * terraform/ sets a TTL policy on that collection.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { loadTerraform, REPO_ROOT, resourcesOf, type Terraform } from '../terraform/hcl.ts';

let tf: Terraform;
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

function retentionRows(): Map<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'docs/privacy.md'), 'utf8');
  const section = text.slice(text.indexOf('## Retention'), text.indexOf('Outside the database:'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `([^`]+)` \|(.*)$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!);
  }
  return rows;
}

describe('docs/privacy.md retention table', () => {
  test('names every collection of the data model (the inventory service\'s outbox is not in the pipeline\'s database)', () => {
    const rows = retentionRows();
    expect([...rows.keys()].sort()).toEqual(Object.values(COLLECTIONS).sort());
  });

  test('says TTL exactly where terraform/ sets a TTL policy', () => {
    const withTtl = new Set(resourcesOf(tf, 'google_firestore_field').filter(([, f]) => f.ttl_config !== undefined && f.collection !== 'outbox' && !String(f.collection).includes('${')).map(([, f]) => String(f.collection)));
    const rows = retentionRows();
    const saysTtl = new Set([...rows].filter(([, text]) => /TTL on `expireAt`/.test(text)).map(([c]) => c));
    expect([...saysTtl].sort()).toEqual([...withTtl].sort());
  });
});
