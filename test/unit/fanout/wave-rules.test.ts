/**
 * The pure decisions of a restock in waves (lib/fanout/wave-rules.ts): which
 * settings apply, how large a wave is, when the waves stop, the sign-up order
 * and the names of wave tasks.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { compareFifo, decideAfterWave, decideWaveStart, initialWaves, selectWave, waveDocId, waveSettingsFor, waveSize, waveTaskId } from '../../../lib/fanout/wave-rules.ts';
import { decideFirstClaim, resetForReplay } from '../../../lib/fanout/rules.ts';
import type { FifoKey, ProductDoc, WavesState } from '../../../lib/model.ts';
import { inventoryEventSchema } from '../../../lib/events/index.ts';

const settings = { multiplier: 2, intervalMs: 3000, minAvailableToNotify: 1 };
const product = (available: number, lastRestockEventKey = 'e1'): ProductDoc => ({ productId: 'p', available, sequence: 2, updatedAtMs: 0, lastRestockEventKey });
const claimOptions = { owner: 'me', nowMs: 1_000, leaseMs: 60_000, threshold: 0, ledgerShards: 256 };

describe('wave settings', () => {
  test('a product’s own settings win field by field over the global ones', () => {
    expect(waveSettingsFor(settings, { multiplier: 5 })).toEqual({ multiplier: 5, intervalMs: 3000, minAvailableToNotify: 1 });
    expect(waveSettingsFor(settings, undefined)).toEqual(settings);
  });

  test('multiplier 0 means no waves: the restock pages everyone at once', () => {
    expect(initialWaves({ ...settings, multiplier: 0 }, 1)).toBeUndefined();
    expect(initialWaves(settings, 1)).toEqual({ settings, index: 1, phase: 'waiting', nextWaveAtMs: 1, cursor: null });
  });

  test('the first claim of a restock stores the waves of the product’s settings over the global ones', () => {
    const event = inventoryEventSchema.parse({ productId: 'p', available: 10, sequence: 1, waves: { multiplier: 3 } });
    const { result, product: next } = decideFirstClaim({ eventKey: 'e1', event }, undefined, { ...claimOptions, waves: { ...settings, multiplier: 0 } });
    expect(result.kind).toBe('run');
    expect(result.fanout.waves?.settings).toEqual({ ...settings, multiplier: 3 });
    expect(next?.waves).toEqual({ multiplier: 3 });
  });

  test('with waves off globally and no product setting, the first claim stores no waves (today’s fan-out)', () => {
    const event = inventoryEventSchema.parse({ productId: 'p', available: 10, sequence: 1 });
    const { result } = decideFirstClaim({ eventKey: 'e1', event }, undefined, { ...claimOptions, waves: { ...settings, multiplier: 0 } });
    expect(result.fanout.waves).toBeUndefined();
    expect(result.fanout).not.toHaveProperty('waves');
  });

  test('a replay restarts the waves at wave 1, due at once, from the oldest shopper', () => {
    const { result } = decideFirstClaim({ eventKey: 'e1', event: inventoryEventSchema.parse({ productId: 'p', available: 10, sequence: 1 }) }, undefined, { ...claimOptions, waves: settings });
    const advanced = { ...result.fanout, waves: { ...result.fanout.waves!, index: 4, phase: 'done' as const, cursor: { createdAtMs: 5, userId: 'u' }, stopReason: 'sold-out' as const } };
    expect(resetForReplay(advanced).waves).toEqual({ settings, index: 1, phase: 'waiting', nextWaveAtMs: 0, cursor: null });
  });
});

describe('wave size', () => {
  test('multiplier × units, rounded up; nobody without stock', () => {
    expect(waveSize(2, 10)).toBe(20);
    expect(waveSize(0.5, 3)).toBe(2);
    expect(waveSize(0.1, 30)).toBe(3);
    expect(waveSize(2, 0)).toBe(0);
  });

  test('any stock tells at least one shopper, and never fewer than the multiplier’s share', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.integer({ min: 1, max: 1_000_000 }), (m, units) => {
        const size = waveSize(m, units);
        expect(size).toBeGreaterThanOrEqual(1);
        expect(size).toBeGreaterThanOrEqual(Math.floor(m * units * (1 - 1e-12)));
        expect(size).toBeLessThanOrEqual(Math.ceil(m * units) + 1);
      }),
    );
  });
});

describe('whether the next wave starts', () => {
  const waves = { settings };

  test('it starts with the stock as the pipeline last saw it', () => {
    expect(decideWaveStart(waves, product(7), 'e1', 0)).toEqual({ kind: 'start', available: 7, target: 14 });
  });

  test('a sell-out (stock at or below the threshold) stops it', () => {
    expect(decideWaveStart(waves, product(0), 'e1', 0)).toEqual({ kind: 'stop', reason: 'sold-out' });
    expect(decideWaveStart(waves, product(3), 'e1', 3)).toEqual({ kind: 'stop', reason: 'sold-out' });
  });

  test('a newer restock of the product stops this one (it runs its own waves)', () => {
    expect(decideWaveStart(waves, product(10, 'e2'), 'e1', 0)).toEqual({ kind: 'stop', reason: 'superseded' });
  });

  test('stock under the minimum stops it', () => {
    expect(decideWaveStart({ settings: { ...settings, minAvailableToNotify: 5 } }, product(4), 'e1', 0)).toEqual({ kind: 'stop', reason: 'below-minimum' });
    expect(decideWaveStart({ settings: { ...settings, minAvailableToNotify: 5 } }, product(5), 'e1', 0).kind).toBe('start');
  });

  test('after a wave whose boundary was the last shopper, the restock is done; else the next wave waits one interval', () => {
    const paging: WavesState = {
      settings,
      index: 2,
      phase: 'paging',
      nextWaveAtMs: 0,
      cursor: { createdAtMs: 9, userId: 'z' },
      current: { startedAtMs: 1, available: 1, target: 2, boundary: { createdAtMs: 9, userId: 'z' }, last: false, taken: 2, chunks: 1 },
    };
    expect(decideAfterWave(paging, 100)).toEqual({ settings, index: 3, phase: 'waiting', nextWaveAtMs: 3100, cursor: paging.cursor });
    expect(decideAfterWave({ ...paging, current: { ...paging.current!, last: true } }, 100)).toEqual({
      settings,
      index: 2,
      phase: 'done',
      nextWaveAtMs: 0,
      cursor: paging.cursor,
      stopReason: 'audience-exhausted',
    });
  });
});

describe('sign-up order', () => {
  const key = fc.record({ createdAtMs: fc.integer({ min: 0, max: 50 }), userId: fc.string({ minLength: 1, maxLength: 4 }) });

  test('earlier sign-up first; the same millisecond falls back to the id', () => {
    expect(compareFifo({ createdAtMs: 1, userId: 'z' }, { createdAtMs: 2, userId: 'a' })).toBeLessThan(0);
    expect(compareFifo({ createdAtMs: 2, userId: 'a' }, { createdAtMs: 2, userId: 'b' })).toBeLessThan(0);
  });

  test('waves taken one after another from the cursor tell each shopper once, and nobody before an earlier sign-up', () => {
    fc.assert(
      fc.property(fc.uniqueArray(key, { selector: (k) => k.userId, maxLength: 60 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }), (waiting, sizes) => {
        const told: FifoKey[] = [];
        let cursor: FifoKey | null = null;
        for (const size of sizes) {
          const wave = selectWave(waiting, cursor, size);
          if (wave.length === 0) break;
          expect(wave.length).toBeLessThanOrEqual(size);
          told.push(...wave);
          cursor = wave.at(-1)!;
        }
        expect(new Set(told.map((k) => k.userId)).size).toBe(told.length);
        const expected = [...waiting].sort(compareFifo).slice(0, told.length);
        expect(told).toEqual(expected);
      }),
    );
  });
});

describe('names', () => {
  test('the task that starts a wave is the same for the same wave and time, and differs otherwise', () => {
    expect(waveTaskId('e1', 0, 2, 5000)).toBe(waveTaskId('e1', 0, 2, 5000));
    expect(new Set([waveTaskId('e1', 0, 2, 5000), waveTaskId('e1', 0, 3, 5000), waveTaskId('e1', 1, 2, 5000), waveTaskId('e1', 0, 2, 5001)]).size).toBe(4);
    expect(waveTaskId('e1', 0, 2, 5000)).toMatch(/^[A-Za-z0-9_-]{1,500}$/);
  });

  test('wave records sort by generation, then wave, as document ids', () => {
    const ids = [waveDocId(0, 10), waveDocId(0, 9), waveDocId(1, 1)];
    expect([...ids].sort()).toEqual([waveDocId(0, 9), waveDocId(0, 10), waveDocId(1, 1)]);
  });
});
