import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { startLatencyProxy, type LatencyProxy } from '../../../bench/latency-proxy.ts';

let server: Server | undefined;
let proxy: LatencyProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = proxy = undefined;
});

/** An echo server on a free port: answers every byte with the same byte. */
async function echoServer(): Promise<string> {
  server = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}

function dial(address: string): Promise<Socket> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const s = connect({ host: host!, port: Number(port) }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('the bench latency proxy', () => {
  test('passes every byte both ways, in order, across many writes', async () => {
    // Prepare
    proxy = await startLatencyProxy(await echoServer(), 4);
    const socket = await dial(proxy.address);
    const sent = Buffer.from(Array.from({ length: 2_000 }, (_, i) => `message ${i};`).join(''));
    let received = Buffer.alloc(0);
    const done = new Promise<void>((resolve) => {
      socket.on('data', (b: Buffer) => {
        received = Buffer.concat([received, b]);
        if (received.length >= sent.length) resolve();
      });
    });
    // Act: many small writes, as gRPC frames are.
    for (let i = 0; i < sent.length; i += 37) socket.write(sent.subarray(i, i + 37));
    await done;
    // Assess
    expect(received.equals(sent)).toBe(true);
    expect(proxy.connections()).toBe(1);
    socket.destroy();
  });

  test('holds data for half the round trip before passing it on (nothing arrives early)', async () => {
    // Prepare: a round trip far longer than the test waits.
    proxy = await startLatencyProxy(await echoServer(), 120_000);
    const socket = await dial(proxy.address);
    let received = 0;
    socket.on('data', (b: Buffer) => (received += b.length));
    // Act
    socket.write('ping');
    await new Promise((r) => setTimeout(r, 300));
    // Assess
    expect(received).toBe(0);
    socket.destroy();
  });

  test('refuses a negative round trip', async () => {
    await expect(startLatencyProxy('127.0.0.1:1', -1)).rejects.toThrow(RangeError);
  });
});
