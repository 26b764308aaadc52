import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MUTANTS, selfTest } from '../../sim/index.ts';

describe('simulation self-test', () => {
  it.each(MUTANTS.map((m) => [m.name, m] as const))('the broken variant %s still patches its lib/ file', (_name, mutant) => {
    // A refactor of lib/ that removes a patch site must re-wire the variant, not silently test nothing.
    const source = readFileSync(mutant.file, 'utf8');

    for (const [find] of mutant.patches) expect(source, `${mutant.file} no longer contains: ${find}`).toContain(find);
  });

  it('catches a one-shot deletion outside the settling write and a redrive that reopens sent', { timeout: 180_000 }, async () => {
    // Act: the simulator against two broken variants of lib/ (child processes with the load hook).
    // 40 seeds: with keys scoped to the sign-up (promise 15), a redrive meets a `sent` entry whose subscription still
    // stands (a shopper who wrote it again while being told) only in some storms (seed 38 at 30 shoppers).
    const report = await selfTest({ maxSeeds: 40, subscribers: 30, jobs: 1, only: ['one-shot-outside-settling-write', 'redrive-reopens-sent'] });

    // Assess: each is caught, by the invariant that names its promise.
    expect(report.results.map((r) => [r.variant, r.caught, r.invariant])).toEqual([
      ['one-shot-outside-settling-write', true, 'one-shot'],
      ['redrive-reopens-sent', true, 'final-never-reopens'],
    ]);
  });
});
