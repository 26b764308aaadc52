/**
 * docs/simulation.md's table of broken variants is the self-test's own list
 * (sim/mutants/variants.json): one row per variant, with the file it patches,
 * so the manual can neither miss a variant nor name a file the variant no
 * longer patches.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { MUTANTS } from '../../../sim/index.ts';

test('docs/simulation.md lists every broken variant of the self-test, with the file it patches', () => {
  const doc = readFileSync('docs/simulation.md', 'utf8');
  const rows = [...doc.matchAll(/^\| `([a-z-]+)` \| ([^|]+?) \|/gm)].map((m) => [m[1], m[2]]);
  expect(rows).toEqual(MUTANTS.map((m) => [m.name, m.file]));
});
