/**
 * Access to the integration stack from a test file.
 *
 * `stack()` is the shared stack of the global setup: its description, clients
 * pointed at it, and a sink client. A test that needs other settings, or
 * kills processes, starts its own with `startStack(options)` (re-exported
 * here) and stops it in `afterAll`.
 */
import { inject } from 'vitest';
import {
  clientsFor,
  emulatorEnv,
  type StackClients,
  type StackDescription,
} from '../../emulators/stack/index.ts';
import { SinkClient } from './sink.ts';

export { startStack, type Stack, type StackOptions, type StackDescription } from '../../emulators/stack/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared integration stack (test/helpers/global-setup.ts). */
    stack: StackDescription;
  }
}

/** A stack as tests use it. */
export interface StackAccess extends StackClients {
  description: StackDescription;
  sink: SinkClient;
}

let shared: StackAccess | undefined;

/** Access for any stack description (e.g. one a test started itself). Close it when done. */
export function accessFor(description: StackDescription): StackAccess {
  return { ...clientsFor(description), description, sink: new SinkClient(description.sink) };
}

/**
 * The shared stack. Clients are created once per test file's worker and closed
 * when the worker exits; do not close them yourself.
 */
export function stack(): StackAccess {
  shared ??= accessFor(inject('stack'));
  return shared;
}

/**
 * Points this worker's `process.env` at a stack, for tests that call lib code
 * in-process (lib/clients.ts reads the standard `*_EMULATOR_HOST` variables).
 * Returns a function that restores the previous values.
 */
export function useStackEnv(description: StackDescription = inject('stack')): () => void {
  const env = emulatorEnv(description);
  const previous = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  return () => {
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
