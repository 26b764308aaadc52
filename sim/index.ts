/**
 * The deterministic simulation (docs/simulation.md): lib/'s real flows in
 * virtual time against in-memory Google Cloud services, with faults drawn
 * from a seed and the design's promises checked as invariants.
 *
 * lib/ never imports this folder.
 */
export { runSeed, World, type RunOptions, type RunResult } from './world.ts';
export { runSeeds, type SeedsReport } from './seeds.ts';
export { selfTest, MUTANTS, type SelfTestReport } from './self-test.ts';
export type { Violation } from './invariants.ts';
export type { TraceLine } from './scheduler.ts';
export { Prng } from './prng.ts';
