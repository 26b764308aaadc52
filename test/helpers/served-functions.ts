/**
 * The pipeline's HTTP functions served in-process by functions-framework's
 * own test server (its `testing` entry), on free loopback ports: the framework
 * path a request takes in production, without a process per function.
 * Import the function files first (they register at import).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { getTestServer } from '@google-cloud/functions-framework/testing';

export interface ServedFunctions {
  /** Base URL of each function, by name. */
  urls: Record<string, string>;
  close(): Promise<void>;
}

/** Serves each registered function of `names`. */
export async function serveFunctions(names: readonly string[]): Promise<ServedFunctions> {
  const servers: Server[] = [];
  const urls: Record<string, string> = {};
  for (const name of names) {
    const server = getTestServer(name);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls[name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }
  return { urls, close: async () => void (await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))) };
}
