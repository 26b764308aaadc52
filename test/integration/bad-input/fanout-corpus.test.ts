/**
 * docs/design.md promise 4 against a corpus of malformed input: every bad request
 * to `fanOutRestock` is acknowledged (so Pub/Sub never redelivers it),
 * recorded in `rejectedEvents` with its reason and field, and the function
 * keeps running; valid restocks sent in between are still delivered.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { COLLECTIONS, type RejectedEventDoc } from '../../../lib/model.ts';
import { inventoryEvent, pushDirect, seedSubscribers, stack, waitFor } from '../../helpers/index.ts';
import { fanOutCorpus, type BadRequest } from '../../helpers/corpus.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function send(url: string, bad: BadRequest): Promise<{ status: number; contentType: string; body: any }> {
  const res = await fetch(url, { method: 'POST', headers: bad.headers, body: bad.body });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return { status: res.status, contentType, body: /json/.test(contentType) ? JSON.parse(text) : text };
}

async function rejectedEvent(eventKey: string): Promise<RejectedEventDoc | undefined> {
  const snap = await stack().firestore.collection(COLLECTIONS.rejectedEvents).doc(eventKey).get();
  return snap.data() as RejectedEventDoc | undefined;
}

describe('fanOutRestock and a corpus of malformed input', () => {
  test('acknowledges and records every bad request with its reason, stays up, and still delivers the valid events in between', async () => {
    // Prepare: the corpus, and valid restocks (5 subscribers each) to interleave with it.
    const on = stack();
    const url = on.description.functions.fanOutRestock;
    const pid = on.description.pids.fanOutRestock;
    const corpus = fanOutCorpus();
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    const valid = Array.from({ length: 6 }, () => inventoryEvent());
    for (const event of valid) await seedSubscribers(event.productId, 5);

    // Act: every seventh request is a valid event.
    const answers: { bad: BadRequest; status: number; contentType: string; body: any }[] = [];
    let nextValid = 0;
    for (const [i, bad] of corpus.entries()) {
      if (i % 7 === 0 && nextValid < valid.length) {
        const res = await pushDirect(url, { data: valid[nextValid++] });
        expect(res.status, 'a valid event between bad ones').toBe(200);
      }
      answers.push({ bad, ...(await send(url, bad)) });
    }
    while (nextValid < valid.length) expect((await pushDirect(url, { data: valid[nextValid++] })).status).toBe(200);

    // Assess: each bad request acknowledged as rejected, and recorded with its reason.
    for (const { bad, status, contentType, body } of answers) {
      expect({ name: bad.name, status, contentType }).toEqual({ name: bad.name, status: 200, contentType: expect.stringContaining('application/json') });
      expect(body, bad.name).toMatchObject({ outcome: 'rejected', eventKey: expect.any(String), field: expect.stringContaining(bad.field) });
      const record = await rejectedEvent(body.eventKey);
      expect(record, `rejectedEvents/${body.eventKey} for ${bad.name}`).toBeDefined();
      expect(record!.reason.length, bad.name).toBeGreaterThan(0);
      expect(record!.field, bad.name).toContain(bad.field);
      expect(record!.raw.length, bad.name).toBeLessThanOrEqual(4096 + 64);
    }
    // Distinct bad inputs are distinct records (none overwrote another).
    expect(new Set(answers.map((a) => a.body.eventKey)).size).toBe(answers.length);
    // The process never went down, and the valid events were all delivered.
    expect(isAlive(pid)).toBe(true);
    for (const event of valid) {
      await waitFor(async () => (await on.sink.stats(event.productId)).delivered === 5, { timeoutMs: 60_000, what: `5 deliveries of ${event.productId}` });
    }
  });

  test('a redelivered bad request is recorded once, under the same key', async () => {
    // Prepare
    const url = stack().description.functions.fanOutRestock;
    const bad = fanOutCorpus().find((b) => b.name === 'not JSON')!;

    // Act
    const first = await send(url, bad);
    const second = await send(url, bad);

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.eventKey).toBe(first.body.eventKey);
  });

  test('bad events published through Pub/Sub are recorded and acknowledged on their first push, never redelivered', async () => {
    // Prepare: three poison messages with known event ids.
    const on = stack();
    const tag = `poison-${Date.now().toString(36)}`;
    const poison = [
      { eventId: `${tag}-json`, data: 'this is not JSON' },
      { eventId: `${tag}-version`, data: { ...inventoryEvent(), version: 7 } },
      { eventId: `${tag}-negative`, data: { ...inventoryEvent(), available: -3 } },
    ];

    // Act
    for (const p of poison) {
      await on.pubsub.topic(on.description.topic).publishMessage({
        data: Buffer.from(typeof p.data === 'string' ? p.data : JSON.stringify(p.data)),
        attributes: { eventId: p.eventId },
      });
    }

    // Assess: each recorded under its eventId...
    for (const p of poison) {
      const record = await waitFor(() => rejectedEvent(p.eventId), { timeoutMs: 30_000, what: `rejectedEvents/${p.eventId}` });
      expect(record.reason.length).toBeGreaterThan(0);
    }
    // ...and, a while later, each was pushed exactly once (acknowledged, so never redelivered).
    await new Promise((r) => setTimeout(r, 3_000));
    const logLines = readFileSync(join(on.description.logsDir, 'fanOutRestock.log'), 'utf8').split('\n');
    for (const p of poison) {
      const rejections = logLines.filter((l) => l.includes('"event rejected"') && l.includes(`"eventKey":"${p.eventId}"`));
      expect(rejections.length, p.eventId).toBe(1);
    }
  });
});
