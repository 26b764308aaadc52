/**
 * Payload limits on every HTTP entry point: a body over RESTOCK_MAX_BODY_BYTES
 * is refused whether its size is declared (Content-Length, refused before it
 * is read) or not (a chunked upload), before any work or authentication; a
 * body at the limit is judged on its content. `fanOutRestock` acknowledges
 * and records an oversized push instead (Pub/Sub would resend it forever).
 * Nothing answers express's HTML page.
 */
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { COLLECTIONS, type RejectedEventDoc } from '../../../lib/model.ts';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../../../lib/http/index.ts';
import { stack } from '../../helpers/index.ts';
import { MAX_DELIVERY_TASK_BYTES } from '../../../lib/tasks/index.ts';

const MAX_BODY_BYTES = parseConfig(stack().description.env).maxBodyBytes;
/** Delivery accepts what Cloud Tasks can carry, so a chunk the fan-out made is never refused for its size. */
const limitOf = (entry: Entry): number => (entry === 'deliverRestockBatch' ? MAX_DELIVERY_TASK_BYTES : MAX_BODY_BYTES);
type Entry = 'fanOutRestock' | 'deliverRestockBatch' | 'restockSubscriptions';
const PATHS: Record<Entry, string> = {
  fanOutRestock: '',
  deliverRestockBatch: '',
  restockSubscriptions: 'v1/products/limits-sku/subscriptions/limits-user',
};
const METHODS: Record<Entry, string> = { fanOutRestock: 'POST', deliverRestockBatch: 'POST', restockSubscriptions: 'PUT' };

/** A JSON object of exactly `bytes` bytes. */
function jsonOfSize(bytes: number): string {
  const shell = '{"padding":""}';
  return `{"padding":"${'x'.repeat(bytes - shell.length)}"}`;
}

/** Sends `body` to an entry point, declared (Content-Length) or streamed in chunks without a length. */
async function send(entry: Entry, body: string, mode: 'declared' | 'chunked'): Promise<{ status: number; contentType: string; json: any }> {
  const url = stack().description.functions[entry] + PATHS[entry];
  const bytes = Buffer.from(body);
  const init: RequestInit & { duplex?: 'half' } =
    mode === 'declared'
      ? { method: METHODS[entry], headers: { 'content-type': 'application/json' }, body: bytes }
      : {
          method: METHODS[entry],
          headers: { 'content-type': 'application/json' },
          duplex: 'half',
          body: new ReadableStream({
            start(controller) {
              for (let i = 0; i < bytes.length; i += 16 * 1024) controller.enqueue(bytes.subarray(i, i + 16 * 1024));
              controller.close();
            },
          }),
        };
  const res = await fetch(url, init);
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, json: /json/.test(contentType) ? JSON.parse(text) : text };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe(`bodies over RESTOCK_MAX_BODY_BYTES (${MAX_BODY_BYTES})`, () => {
  for (const mode of ['declared', 'chunked'] as const) {
    for (const entry of ['deliverRestockBatch', 'restockSubscriptions'] as const) {
      test(`${entry}: a ${mode} body one byte over its limit is 413 body-too-large, before authentication`, async () => {
        // Act
        const res = await send(entry, jsonOfSize(limitOf(entry) + 1), mode);

        // Assess
        expect({ status: res.status, contentType: res.contentType }).toEqual({ status: 413, contentType: PROBLEM_CONTENT_TYPE });
        expect(res.json).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}body-too-large`, maxBytes: limitOf(entry) });
      });
    }

    test(`fanOutRestock: a ${mode} body one byte over is acknowledged and recorded as a rejected event naming the size`, async () => {
      // Act
      const res = await send('fanOutRestock', jsonOfSize(MAX_BODY_BYTES + 1), mode);

      // Assess
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ outcome: 'rejected', field: 'body' });
      const record = (await stack().firestore.collection(COLLECTIONS.rejectedEvents).doc(res.json.eventKey).get()).data() as RejectedEventDoc;
      expect(record.reason).toContain(String(MAX_BODY_BYTES));
    });
  }

  test('a body of exactly the limit is judged on its content, not refused for its size', async () => {
    // Act
    const body = jsonOfSize(MAX_BODY_BYTES);
    const [fanOut, delivery, subscriptions] = await Promise.all([
      send('fanOutRestock', body, 'declared'),
      send('deliverRestockBatch', jsonOfSize(MAX_DELIVERY_TASK_BYTES), 'declared'),
      send('restockSubscriptions', body, 'declared'),
    ]);

    // Assess
    expect(fanOut.json).toMatchObject({ outcome: 'rejected', field: 'message' });
    expect(delivery.status).toBe(401); // on to authentication
    expect(subscriptions.json).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}invalid-request` });
  });

  test('a 4 MB upload to each entry point is answered and every process stays up', async () => {
    // Act
    const huge = jsonOfSize(4 * 1024 * 1024);
    const answers = await Promise.all((['fanOutRestock', 'deliverRestockBatch', 'restockSubscriptions'] as const).map((e) => send(e, huge, 'chunked')));

    // Assess
    expect(answers.map((a) => a.status)).toEqual([200, 413, 413]);
    const pids = stack().description.pids;
    expect([pids.fanOutRestock, pids.deliverRestockBatch, pids.restockSubscriptions].map(isAlive)).toEqual([true, true, true]);
  });
});

describe('malformed bodies to the delivery function', () => {
  test('malformed JSON is a 400 malformed-json problem, not an HTML page', async () => {
    // Act
    const res = await fetch(stack().description.functions.deliverRestockBatch, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userIds": [' });

    // Assess
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    expect(await res.json()).toMatchObject({ type: `${PROBLEM_TYPE_PREFIX}malformed-json` });
  });
});
