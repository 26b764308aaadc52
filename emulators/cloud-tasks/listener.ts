/**
 * One port for both transports: a TCP server that peeks at the first bytes of
 * each connection. An HTTP/2 connection preface ("PRI * HTTP/2.0") goes to
 * the gRPC server; anything else is HTTP/1.1 and goes to the REST server.
 * So a single `CLOUD_TASKS_EMULATOR_HOST=host:port` serves gRPC clients, the
 * Node client's REST fallback and gcloud alike.
 */
import http from 'node:http';
import net from 'node:net';

const H2_PREFACE_START = Buffer.from('PRI * HTTP/2.0');

export interface SharedListener {
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on host:port and routes each connection by its first bytes.
 * Rejects with the listen error (EADDRINUSE...) when the port cannot be bound.
 */
export async function listenShared(
  host: string,
  port: number,
  onHttp2: (socket: net.Socket) => void,
  onHttp1: http.RequestListener,
): Promise<SharedListener> {
  const rest = http.createServer({ keepAlive: true }, onHttp1);
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      const prefix = first.subarray(0, Math.min(first.length, H2_PREFACE_START.length));
      // Three bytes suffice in practice ("PRI" starts no HTTP/1.1 method); compare what arrived.
      if (prefix.length >= 3 && H2_PREFACE_START.subarray(0, prefix.length).equals(prefix)) onHttp2(socket);
      else {
        rest.emit('connection', socket);
        // The HTTP/1.1 server reads through the stream, which the peek left paused.
        socket.resume();
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const address = tcp.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        rest.close();
        tcp.close(() => resolve());
      }),
  };
}
