import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure logic and needs nothing running; `integration`
// runs against the real emulators, started once by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // One stack (emulators, functions, sink) on free ports for every file: test/helpers/stack.ts.
          globalSetup: ['test/helpers/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
