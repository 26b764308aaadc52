/**
 * A TCP proxy that delays every chunk by half a round trip in each direction,
 * put in front of the Firestore emulator so the bench can measure the
 * pipeline and the naive design under production-like latency (issue 15:
 * `--rtt-ms`, 10 ms by default, a typical in-region figure). On loopback a
 * Firestore call costs well under a millisecond, which flatters a design that
 * makes one call per recipient in sequence; in a region it costs about one
 * round trip.
 *
 * It works on bytes, below gRPC and HTTP/2, so every request and every answer
 * (and each frame of a streamed answer) waits `rttMs / 2` on its way: one
 * unary call costs one round trip more, as it would across a network. The
 * delay is fixed for the proxy's life: Node fires timers of equal duration in
 * the order they were set, so the bytes of each direction keep their order.
 * No npm package fits: the TCP proxies there forward without delay or shape
 * bandwidth, not latency, and this is forty lines.
 */
import { connect, createServer, type Socket } from 'node:net';

/** A running proxy. */
export interface LatencyProxy {
  /** `host:port` to point a client at (e.g. FIRESTORE_EMULATOR_HOST). */
  address: string;
  rttMs: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Stops accepting and destroys open connections. */
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk (and the end) after `delayMs`. */
function forward(from: Socket, to: Socket, delayMs: number): void {
  const later = (fn: () => void): void => void (delayMs > 0 ? setTimeout(fn, delayMs) : fn());
  from.on('data', (chunk: Buffer) => later(() => to.destroyed || to.write(chunk)));
  from.on('end', () => later(() => to.destroyed || to.end()));
  from.on('error', () => later(() => to.destroy()));
  from.on('close', () => later(() => to.destroy()));
}

/**
 * Starts a proxy on `listenHost` (a free port) toward `target` (`host:port`),
 * adding `rttMs` to every round trip.
 * @throws RangeError when `rttMs` is negative or not finite.
 */
export async function startLatencyProxy(target: string, rttMs: number, listenHost = '127.0.0.1'): Promise<LatencyProxy> {
  if (!Number.isFinite(rttMs) || rttMs < 0) throw new RangeError(`rttMs must be 0 or more, got ${rttMs}`);
  const [targetHost, targetPort] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const half = rttMs / 2;
  const open = new Set<Socket>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect({ host: targetHost, port: targetPort });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    forward(client, upstream, half);
    forward(upstream, client, half);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => resolve());
  });
  const { port } = server.address() as { port: number };
  return {
    address: `${listenHost}:${port}`,
    rttMs,
    connections: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
