/**
 * A Firestore emulator and the `restockSubscriptions` function served by
 * functions-framework, started for one test file. Stand-in until the shared
 * launcher in `test/helpers/` lands; same commands as the local stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Firestore } from '@google-cloud/firestore';

const FIRESTORE_JAR = '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';
const FIRESTORE_MAIN = 'com.google.cloud.datastore.emulator.firestore.CloudFirestore';
const PROJECT_ID = 'restock-subscriptions-test';

/** A free TCP port on 127.0.0.1 (asked from the OS, so runs never collide). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function waitForOutput(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} not ready after ${timeoutMs} ms:\n${seen.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready:\n${seen.slice(-2000)}`));
    });
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Detached: the pid is its own process group, so this reaches the JVM / node children too.
  process.kill(-child.pid, 'SIGTERM');
  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
  if ((await Promise.race([exited, timeout])) === 'timeout') process.kill(-child.pid, 'SIGKILL');
}

export interface LocalFunction {
  /** Base URL of the function, e.g. `http://127.0.0.1:23456`. */
  url: string;
  /** A Firestore client on the same emulator, for arranging and checking state. */
  db: Firestore;
  /** Lines the function wrote (its structured logs). */
  output: () => string;
  stop: () => Promise<void>;
}

/** Starts the emulator and the function with `env` added to the function's environment. */
export async function startLocalFunction(env: Record<string, string> = {}): Promise<LocalFunction> {
  const firestorePort = await freePort();
  // The jar has no Main-Class; this is what gcloud's `cloud_firestore_emulator` launcher runs.
  const emulator = spawn(
    'java',
    ['-Duser.language=en', '-cp', FIRESTORE_JAR, FIRESTORE_MAIN, 'start', '--host=127.0.0.1', `--port=${firestorePort}`],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let fn: ChildProcess | undefined;
  try {
    await waitForOutput(emulator, /Dev App Server is now running/, 'Firestore emulator', 60_000);
    const functionPort = await freePort();
    const emulatorHost = `127.0.0.1:${firestorePort}`;
    fn = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'node_modules/@google-cloud/functions-framework/build/src/main.js',
        '--target=restockSubscriptions',
        '--source=functions/restockSubscriptions.ts',
        `--port=${functionPort}`,
      ],
      {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          FIRESTORE_EMULATOR_HOST: emulatorHost,
          GOOGLE_CLOUD_PROJECT: PROJECT_ID,
          RESTOCK_NOTIFIER: 'log',
          // As deployed: an empty list turns off functions-framework's default ignored
          // routes (/favicon.ico, /robots.txt), which answer an empty 404 of their own.
          IGNORED_ROUTES: '',
          ...env,
        },
      },
    );
    let output = '';
    fn.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    fn.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    await waitForOutput(fn, /Serving function/, 'restockSubscriptions', 60_000);
    process.env.FIRESTORE_EMULATOR_HOST = emulatorHost;
    const db = new Firestore({ projectId: PROJECT_ID });
    const started = fn;
    return {
      url: `http://127.0.0.1:${functionPort}`,
      db,
      output: () => output,
      stop: async () => {
        await db.terminate();
        await stop(started);
        await stop(emulator);
      },
    };
  } catch (err) {
    await stop(fn);
    await stop(emulator);
    throw err;
  }
}

/** An answer read whole: status, headers, text and (when JSON) the parsed body. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

/** Sends one request; `json` is serialised with `content-type: application/json`. */
export async function send(
  baseUrl: string,
  method: string,
  path: string,
  options: { json?: unknown; body?: string | Uint8Array<ArrayBuffer>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array<ArrayBuffer> | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, text, body: /json/.test(type) && text ? JSON.parse(text) : undefined };
}
