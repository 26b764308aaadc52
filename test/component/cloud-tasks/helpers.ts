/**
 * What the Cloud Tasks conformance suite shares: a local HTTP receiver that
 * records what the emulator dispatches and answers as scripted, and Google's
 * official client built for each transport.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudTasksClient } from '@google-cloud/tasks';
import { grpcClientOptions, restClientOptions, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';

export type Transport = 'grpc' | 'rest';
export const TRANSPORTS: Transport[] = ['grpc', 'rest'];

export function clientFor(emulator: CloudTasksEmulator, transport: Transport): CloudTasksClient {
  return new CloudTasksClient(transport === 'grpc' ? grpcClientOptions(emulator.address) : restClientOptions(emulator.address));
}

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  atMs: number;
}

/** Decides the status of the `index`-th request (0-based); may delay. */
export type Responder = (req: Received, index: number) => number | Promise<number>;

export interface Receiver {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  received: Received[];
  /** Most requests the receiver was handling at the same time. */
  maxInFlight: number;
  respondWith(responder: Responder): void;
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(responder: Responder = () => 200): Promise<Receiver> {
  let respond = responder;
  let inFlight = 0;
  /** Each returns true once satisfied, and is then dropped. */
  let waiters: Array<() => boolean> = [];
  const receiver: Receiver = {
    url: '',
    received: [],
    maxInFlight: 0,
    respondWith: (r) => {
      respond = r;
    },
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (receiver.received.length < count) return false;
          clearTimeout(timer);
          resolve(receiver.received.slice(0, count));
          return true;
        };
        const timer = setTimeout(() => reject(new Error(`receiver got ${receiver.received.length} of ${count} requests within ${timeoutMs} ms`)), timeoutMs);
        if (!check()) waiters.push(check);
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      inFlight++;
      receiver.maxInFlight = Math.max(receiver.maxInFlight, inFlight);
      const entry: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), atMs: Date.now() };
      const index = receiver.received.push(entry) - 1;
      waiters = waiters.filter((satisfied) => !satisfied());
      void Promise.resolve(respond(entry, index)).then((status) => {
        inFlight--;
        res.writeHead(status).end();
      });
    });
  });
  server.keepAliveTimeout = 100;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiver;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let counter = 0;
/** A queue name unique within the test run. */
export function uniqueQueue(prefix = 'q'): string {
  counter++;
  return `projects/conformance/locations/us-central1/queues/${prefix}-${process.pid}-${counter}`;
}

/** A duration for the client: `{ seconds, nanos }` from milliseconds. */
export function duration(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
}

/** The gRPC status code a rejected client call carries. */
export async function codeOf(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    return (err as { code?: number }).code;
  }
}
