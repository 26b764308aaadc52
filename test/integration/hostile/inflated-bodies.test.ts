/**
 * Compressed and chunked bodies are bounded before anything is buffered:
 * a gzip bomb (61 KB on the wire, 63 MB inflated) and a 24 MB chunked upload
 * are refused while the function process's resident memory stays flat. Each
 * function runs here in a process of its own (functions-framework over HTTP,
 * as the stack runs it, pointed at the shared emulators), so its peak
 * resident memory (VmHWM) measures only what this test sends it.
 */
import { readFileSync } from 'node:fs';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROBLEM_TYPE_PREFIX } from '../../../lib/http/index.ts';
import { startFunction, type FunctionName, type FunctionProcess } from '../../helpers/function-process.ts';

/** Far below what inflating the bomb costs (hundreds of MB before the fix), far above the process's noise. */
const MAX_GROWTH_MIB = 64;
type Entry = FunctionName;
const ENTRIES: Entry[] = ['fanOutRestock', 'deliverRestockBatch', 'restockSubscriptions'];
const PATHS: Record<Entry, string> = { fanOutRestock: '', deliverRestockBatch: '', restockSubscriptions: 'v1/products/inflate-sku/subscriptions/inflate-user' };
const METHODS: Record<Entry, string> = { fanOutRestock: 'POST', deliverRestockBatch: 'POST', restockSubscriptions: 'PUT' };
const processes = new Map<Entry, FunctionProcess>();

/** Peak resident memory of a process so far, in MiB (/proc/<pid>/status VmHWM). */
function peakMiB(pid: number): number {
  const kib = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

async function send(entry: Entry, body: Uint8Array, headers: Record<string, string>, mode: 'declared' | 'chunked' = 'declared') {
  const init: RequestInit & { duplex?: 'half' } = {
    method: METHODS[entry],
    headers: { 'content-type': 'application/json', ...headers },
    ...(mode === 'declared'
      ? { body: body as unknown as BodyInit }
      : {
          duplex: 'half',
          body: new ReadableStream({
            start(controller) {
              for (let i = 0; i < body.length; i += 64 * 1024) controller.enqueue(body.subarray(i, i + 64 * 1024));
              controller.close();
            },
          }),
        }),
  };
  const res = await fetch(processes.get(entry)!.url + PATHS[entry], init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  const started = await Promise.all(ENTRIES.map(async (name) => [name, await startFunction(name)] as const));
  for (const [name, p] of started) processes.set(name, p);
});

afterAll(() => {
  for (const p of processes.values()) p.stop();
});

describe('bodies that are not bounded by their declared length', () => {
  const bomb = gzipSync(Buffer.from(`{"padding":"${'0'.repeat(63 * 1000 * 1000)}"}`), { level: 9 });
  const chunked = Buffer.from(`{"padding":"${'x'.repeat(24 * 1000 * 1000)}"}`);

  for (const entry of ENTRIES) {
    test(`${entry}: a gzip bomb and a 24 MB chunked upload are refused with resident memory bounded`, async () => {
      // Prepare
      const pid = processes.get(entry)!.child.pid!;
      await send(entry, Buffer.from('{}'), {}); // warm the parser and the handler, so the baseline includes them
      const before = peakMiB(pid);

      // Act
      const fromBomb = await send(entry, bomb, { 'content-encoding': 'gzip' });
      const fromUpload = await send(entry, chunked, {}, 'chunked');
      const growth = peakMiB(pid) - before;

      // Assess
      expect(bomb.length).toBeLessThan(64 * 1024);
      if (entry === 'fanOutRestock') {
        // Pub/Sub would resend the same bytes forever: acknowledged and recorded instead (promise 4).
        expect([fromBomb.status, fromBomb.json.outcome, fromBomb.json.field]).toEqual([200, 'rejected', 'body']);
        expect([fromUpload.status, fromUpload.json.outcome, fromUpload.json.field]).toEqual([200, 'rejected', 'body']);
      } else {
        expect([fromBomb.status, fromBomb.json.type]).toEqual([413, `${PROBLEM_TYPE_PREFIX}body-too-large`]);
        expect([fromUpload.status, fromUpload.json.type]).toEqual([413, `${PROBLEM_TYPE_PREFIX}body-too-large`]);
      }
      expect(growth).toBeLessThan(MAX_GROWTH_MIB);
    });
  }
});

describe('compressed bodies within the limit are read as usual', () => {
  const subscription = Buffer.from(JSON.stringify({ channels: { email: 'inflate@example.com' } }));
  const encodings: [string, (b: Buffer) => Buffer][] = [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ];
  for (const [encoding, compress] of encodings) {
    test(`a ${encoding} subscription is accepted`, async () => {
      // Act
      const res = await send('restockSubscriptions', compress(subscription), { 'content-encoding': encoding });

      // Assess
      expect(res.status).toBeLessThan(300);
      expect(res.json).toMatchObject({ productId: 'inflate-sku', userId: 'inflate-user', channels: ['email'] });
    });
  }

  test('an unknown content encoding is 415 naming it', async () => {
    // Act
    const res = await send('restockSubscriptions', subscription, { 'content-encoding': 'zstd' });

    // Assess
    expect(res.status).toBe(415);
    expect(res.json).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}unsupported-encoding` });
    expect(String(res.json.detail)).toContain('zstd');
  });

  test('a corrupt gzip body is 400 unreadable-body', async () => {
    // Act
    const res = await send('restockSubscriptions', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });

    // Assess
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}unreadable-body` });
  });
});
