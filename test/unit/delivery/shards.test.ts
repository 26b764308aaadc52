/**
 * The ledger's shard (issue 39): a pure function of the entry's id that leads
 * the event indexes, so one event's entries spread over LEDGER_SHARDS index
 * prefixes, and whose order is the ids' order, so a page through the shards
 * keeps the document id as its cursor.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { shardGroups } from '../../../lib/delivery/ledger.ts';
import { ledgerShardsFor } from '../../../lib/delivery/rules.ts';
import { deliveryTaskFor, parseDeliveryTask } from '../../../lib/tasks/index.ts';
import { CHANNELS, dedupKey, LEDGER_SHARDS, ledgerShardOf } from '../../../lib/model.ts';

const hexId = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });

describe('ledger shards', () => {
  test('a dedup key\u2019s shard is its first two hex digits with 256 shards: 00\u2026 is 0, ff\u2026 is 255, 80\u2026 is 128', () => {
    expect(LEDGER_SHARDS).toBe(256);
    expect(ledgerShardOf('00'.padEnd(64, 'f'))).toBe(0);
    expect(ledgerShardOf('ff'.padEnd(64, '0'))).toBe(255);
    expect(ledgerShardOf('80'.padEnd(64, '0'))).toBe(128);
    expect(ledgerShardOf('7fffffff'.padEnd(64, 'f'))).toBe(127);
  });

  test('every id falls in [0, shards), and the shard never decreases as the id grows (shard-major order is document-id order)', () => {
    fc.assert(
      fc.property(hexId, hexId, fc.constantFrom(1, 7, 256, 1024, 4096), (a, b, shards) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(ledgerShardOf(lo, shards)).toBeGreaterThanOrEqual(0);
        expect(ledgerShardOf(hi, shards)).toBeLessThan(shards);
        expect(ledgerShardOf(lo, shards)).toBeLessThanOrEqual(ledgerShardOf(hi, shards));
      }),
    );
  });

  test('the dedup keys of 10,000 sign-ups spread over every shard, none holding more than twice its share', () => {
    const perShard = new Array<number>(LEDGER_SHARDS).fill(0);
    for (let i = 0; i < 10_000; i++) perShard[ledgerShardOf(dedupKey({ productId: 'p', userId: `u${i}`, createdAtMs: 1_700_000_000_000 + i }, CHANNELS[0]!))]!++;

    expect(perShard.every((n) => n > 0)).toBe(true);
    expect(Math.max(...perShard)).toBeLessThan((2 * 10_000) / LEDGER_SHARDS);
  });

  test('the shards go to queries in consecutive groups of at most 30 (Firestore\u2019s limit of values in one in): 256 in 9', () => {
    const groups = shardGroups();

    expect(groups).toHaveLength(9);
    expect(groups.every((g) => g.length <= 30)).toBe(true);
    expect(groups.flat()).toEqual(Array.from({ length: LEDGER_SHARDS }, (_, i) => i));
    expect(shardGroups(60, 30)).toEqual([Array.from({ length: 30 }, (_, i) => i), Array.from({ length: 30 }, (_, i) => 30 + i)]);
    expect(shardGroups(1, 30)).toEqual([[0]]);
  });

  test('a delivery shards by the count its fan-out recorded, not by its own setting; a task without one falls back to the setting', () => {
    const fanout = { eventKey: 'e1', productId: 'p1', generation: 0, product: { available: 3 }, ledgerShards: 16 };

    const task = parseDeliveryTask(JSON.parse(JSON.stringify(deliveryTaskFor(fanout, ['u1']))));
    const older = parseDeliveryTask(JSON.parse(JSON.stringify(deliveryTaskFor({ ...fanout, ledgerShards: undefined }, ['u1']))));

    expect(task.ledgerShards).toBe(16);
    expect(ledgerShardsFor(task, LEDGER_SHARDS)).toBe(16);
    expect(older).not.toHaveProperty('ledgerShards');
    expect(ledgerShardsFor(older, 4)).toBe(4);
    expect(() => parseDeliveryTask({ ...task, ledgerShards: 0 })).toThrow(/ledgerShards/);
    expect(() => parseDeliveryTask({ ...task, ledgerShards: LEDGER_SHARDS + 1 })).toThrow(/ledgerShards/);
  });
});
