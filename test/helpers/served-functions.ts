/**
 * The pipeline's HTTP functions served in-process by functions-framework's
 * own test server (its `testing` entry), on free loopback ports: the framework
 * path a request takes in production, without a process per function.
 * The functions refuse to register with verification off outside the
 * emulators (lib/config.ts deploymentProblems), so they are imported as on
 * the emulators; closing restores the environment.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { vi } from 'vitest';

export interface ServedFunctions {
  /** Base URL of each function, by name. */
  urls: Record<string, string>;
  close(): Promise<void>;
}

/** Imports `functions/<name>.ts` for each of `names` (they register at import) and serves each. */
export async function serveFunctions(names: readonly string[]): Promise<ServedFunctions> {
  vi.stubEnv('FIRESTORE_EMULATOR_HOST', '127.0.0.1:1');
  for (const name of names) await import(`../../functions/${name}.ts`);
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const name of names) {
    const server = getTestServer(name);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }
  return {
    urls,
    close: async () => {
      vi.unstubAllEnvs();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
