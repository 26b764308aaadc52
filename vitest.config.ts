import { defineConfig } from 'vitest/config';

/**
 * The suite in tiers (README "Tests"), each a project with the parallelism
 * its kind of work allows on a 2-core machine. Vitest's default is one worker
 * per core less one: a single file at a time here, while most integration
 * files spend their time waiting on emulators, queues and timers.
 *
 * - unit: pure logic, no network; CPU-bound, one worker per core.
 * - sim: the seeded simulations and the production clock (they fork their own workers).
 * - component: one real part without the Java emulators (the Cloud Tasks emulator,
 *   the sink, packaging, usage errors, a function served alone).
 * - integration: the shared stack of the global setup; files wait on I/O, so
 *   several run at once, each on products, events and shoppers of its own.
 * - system: stacks of their own (killed, restarted, reconfigured), npm start and
 *   stop, the demo's bench: each starts JVMs, so one at a time.
 *
 * Groups run one after the other (`sequence.groupOrder`; vitest wants one
 * worker count per group): the CPU-bound unit and sim tiers first, one file per core, then the I/O-bound component and integration tiers together,
 * then the system tier alone, whose chaos run and crash tests time their faults
 * against a pipeline that is not competing with other files for the 2 cores.
 */
const SLOW = { testTimeout: 120_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], maxWorkers: 2, sequence: { groupOrder: 0 } } },
      { test: { name: 'sim', include: ['test/sim/**/*.test.ts'], maxWorkers: 2, sequence: { groupOrder: 0 }, ...SLOW } },
      { test: { name: 'component', include: ['test/component/**/*.test.ts'], maxWorkers: 3, sequence: { groupOrder: 1 }, ...SLOW } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One stack (emulators, functions, sink) on free ports for every file: test/helpers/stack.ts.
          globalSetup: ['test/helpers/global-setup.ts'],
          maxWorkers: 3,
          sequence: { groupOrder: 1 },
          ...SLOW,
        },
      },
      { test: { name: 'system', include: ['test/system/**/*.test.ts'], maxWorkers: 1, sequence: { groupOrder: 2 }, ...SLOW } },
    ],
  },
});
