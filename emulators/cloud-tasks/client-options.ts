/**
 * Options that point Google's `CloudTasksClient` at the emulator, over gRPC or
 * over its REST fallback. Nothing else changes in the calling code.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { credentials } from '@grpc/grpc-js';

type ClientOptions = NonNullable<ConstructorParameters<typeof CloudTasksClient>[0]>;

function split(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  if (i <= 0) throw new TypeError(`expected host:port, got ${JSON.stringify(address)}`);
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** gRPC without TLS or credentials: `new CloudTasksClient(grpcClientOptions('127.0.0.1:9499'))`. */
export function grpcClientOptions(address: string): ClientOptions {
  const { host, port } = split(address);
  // universeDomain is stated so the client does not probe the GCE metadata server for it.
  return { servicePath: host, apiEndpoint: host, port, sslCreds: credentials.createInsecure(), universeDomain: 'googleapis.com' };
}

/**
 * The REST fallback over plain HTTP with no credentials:
 * `new CloudTasksClient(restClientOptions('127.0.0.1:9499'))`.
 * The auth client only forwards requests, because the emulator checks none.
 */
export function restClientOptions(address: string): ClientOptions {
  const { host, port } = split(address);
  const passThrough = {
    universeDomain: 'googleapis.com',
    getRequestHeaders: async () => new Headers(),
    fetch: (url: string | URL, init?: RequestInit) => fetch(url, init),
  };
  return {
    fallback: 'rest',
    protocol: 'http',
    servicePath: host,
    apiEndpoint: host,
    port,
    authClient: passThrough as unknown as ClientOptions['authClient'],
  };
}
