import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { productionClock } from '../../../sim/production/index.ts';
import { CONSTANTS } from '../../../sim/production/constants.ts';

/** A copy of terraform/ with `extra` appended to firestore.tf. */
function terraformWith(extra: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'clock-tf-'));
  for (const f of readdirSync('terraform').filter((x) => x.endsWith('.tf'))) {
    writeFileSync(join(dir, f), readFileSync(join('terraform', f), 'utf8') + (f === 'firestore.tf' ? extra : ''));
  }
  return dir;
}

describe('production clock', () => {
  it('every constant names its source', () => {
    for (const [name, c] of Object.entries(CONSTANTS)) {
      expect(c.source.length, name).toBeGreaterThan(20);
      if (c.kind === 'published') expect(c.source, name).toMatch(/https:\/\/cloud\.google\.com\//);
    }
  });

  it('runs lib/\'s real flows: every shopper is notified once and the fan-out completes', { timeout: 240_000 }, async () => {
    const r = await productionClock({ subscribers: 3_000, terraformDir: 'terraform' });

    expect(r.notified).toBe(3_000);
    expect(r.fanoutState).toBe('complete');
    // 3,000 shoppers in chunks of 100 (terraform/ chunk_size): 30 delivery tasks.
    expect(r.tasks).toBe(30);
    expect(r.writesPerSecond.deliveries!.total).toBe(6_000); // a claim and a record per notification
    expect(r.analytic?.lastNotificationMs).toBeGreaterThan(0);
  });

  it('as deployed, no index orders one event\u2019s writes by time, so the ledger is not held at 500 writes/s', { timeout: 120_000 }, async () => {
    const r = await productionClock({ subscribers: 20_000, terraformDir: 'terraform' });

    // terraform/ exempts the single-field timestamps and no composite puts one after eventKey (restock status samples by id).
    expect(r.deployment.sequentialIndexes).toEqual([]);
    expect(r.timestampsIndexed).toBe(false);
    expect(r.boundBy).not.toMatch(/500 writes\/s/);
  });

  it('a composite index putting createdAtMs after eventKey (the status index of earlier versions) holds the ledger at 500 writes/s', { timeout: 120_000 }, async () => {
    const dir = terraformWith(`
resource "google_firestore_index" "deliveries_by_event_state_oldest_first" {
  project     = var.project_id
  database    = local.firestore_database
  collection  = "deliveries"
  query_scope = "COLLECTION"

  fields {
    field_path = "eventKey"
    order      = "ASCENDING"
  }
  fields {
    field_path = "state"
    order      = "ASCENDING"
  }
  fields {
    field_path = "createdAtMs"
    order      = "ASCENDING"
  }
}
`);
    const r = await productionClock({ subscribers: 20_000, terraformDir: dir });

    expect(r.deployment.sequentialIndexes.some((i) => i.startsWith('composite deliveries_by_event_state_oldest_first'))).toBe(true);
    expect(r.boundBy).toMatch(/500 writes\/s/);
    // 20,000 shoppers: 40,000 ledger writes at 500/s.
    expect(r.lastNotificationMs).toBeGreaterThanOrEqual(20_000);
    expect(r.writesPerSecond.deliveries!.peak).toBeLessThanOrEqual(CONSTANTS.sequentialIndexWritesPerSecond.value);
  });

  it('with the composite indexes that order an event by time removed from terraform/, the ledger is no longer the limit', { timeout: 240_000 }, async () => {
    const dir = terraformWith('');
    const tf = readFileSync(join(dir, 'firestore.tf'), 'utf8');
    // Drop every composite index of the ledger (what issue 15's re-planned status queries make possible).
    writeFileSync(join(dir, 'firestore.tf'), tf.replace(/resource "google_firestore_index" "deliveries_[a-z_]+" \{(?:[^{}]|\{[^{}]*\})*\}/g, ''));

    const r = await productionClock({ subscribers: 5_000, terraformDir: dir });

    expect(r.deployment.sequentialIndexes).toEqual([]);
    expect(r.boundBy).not.toMatch(/writes\/s/);
    // The same 10,000 ledger writes no longer wait at 500/s (20 s).
    expect(r.lastNotificationMs).toBeLessThan(20_000);
    expect(r.firstNotificationMs).toBeLessThan(r.lastNotificationMs);
  });

  it('without the exemptions terraform/ declares, every single-field timestamp of the ledger is sequential', { timeout: 120_000 }, async () => {
    const dir = terraformWith('');
    writeFileSync(join(dir, 'firestore.tf'), readFileSync(join(dir, 'firestore.tf'), 'utf8').replace(/deliveries\s*=\s*\[[^\]]*\]/, 'deliveries = []'));

    const r = await productionClock({ subscribers: 500, terraformDir: dir });

    expect(r.deployment.sequentialIndexes.filter((i) => i.startsWith('single-field'))).toEqual(
      ['createdAtMs', 'updatedAtMs', 'leaseExpiresAtMs', 'sentAtMs'].map((f) => `single-field ${f}`),
    );
  });
});
