/**
 * The simulator's self-test: the same seeds against deliberately broken
 * variants of the core (sim/mutants/variants.json), each of which must be
 * caught by an invariant within a bounded number of seeds. A variant is
 * made by patching the text of one lib/ file as it loads (a module load
 * hook registered before tsx), so lib/ carries no test hooks; a patch whose
 * text is gone fails the self-test and names what to re-wire.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runSeeds, TSX_IMPORT } from './seeds.ts';

export interface Mutant {
  name: string;
  breaks: string;
  file: string;
  patches: [string, string][];
}

/** The broken variants. */
export const MUTANTS: Mutant[] = (JSON.parse(readFileSync(new URL('./mutants/variants.json', import.meta.url), 'utf8')) as { variants: Mutant[] }).variants;

const REGISTER = fileURLToPath(new URL('./mutants/register.mjs', import.meta.url));

export interface SelfTestReport {
  caught: number;
  of: number;
  maxSeeds: number;
  results: { variant: string; breaks: string; caught: boolean; seed?: number; invariant?: string; message?: string; seedsRun: number; error?: string }[];
}

/** Runs each variant over seeds 1..maxSeeds (stopping at the first violation). */
export async function selfTest(o: { maxSeeds: number; subscribers: number; jobs: number; only?: string[]; onResult?: (r: SelfTestReport['results'][number]) => void }): Promise<SelfTestReport> {
  const results: SelfTestReport['results'] = [];
  for (const m of MUTANTS.filter((v) => !o.only || o.only.includes(v.name))) {
    let result: SelfTestReport['results'][number];
    try {
      const report = await runSeeds({
        from: 1,
        count: o.maxSeeds,
        subscribers: o.subscribers,
        jobs: o.jobs,
        stopAtFirst: true,
        // The load hook first, so that tsx, registered after it, transforms the patched source.
        execArgv: ['--import', pathToFileURL(REGISTER).href, ...TSX_IMPORT],
        env: { ...process.env, SIM_MUTANT: m.name },
      });
      const f = report.firstViolation;
      result = f
        ? { variant: m.name, breaks: m.breaks, caught: true, seed: f.seed, invariant: f.invariant, message: f.message, seedsRun: report.seeds }
        : { variant: m.name, breaks: m.breaks, caught: false, seedsRun: report.seeds };
    } catch (err) {
      result = { variant: m.name, breaks: m.breaks, caught: false, seedsRun: 0, error: (err as Error).message };
    }
    results.push(result);
    o.onResult?.(result);
  }
  return { caught: results.filter((r) => r.caught).length, of: results.length, maxSeeds: o.maxSeeds, results };
}
