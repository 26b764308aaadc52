/**
 * `restock backfill` as the real binary against the shared stack: the stock it
 * records notifies nobody (even shoppers already waiting), makes the product's
 * next ordinary event a non-restock, survives a second run, reports bad rows
 * by line and field while publishing the good ones, and resumes after being
 * killed mid-file without losing a row (counted on a topic of the test's own).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v1 } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BackfillCheckpoint, BackfillResult } from '../../../cli/commands/backfill.ts';
import { COLLECTIONS, type FanoutDoc, type ProductDoc } from '../../../lib/model.ts';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';
import { restock, restockJson, spawnRestock } from '../../helpers/cli.ts';

const s = stack();
const dir = mkdtempSync(join(tmpdir(), 'restock-backfill-'));

async function product(productId: string): Promise<ProductDoc | undefined> {
  return (await s.firestore.collection(COLLECTIONS.products).doc(productId).get()).data() as ProductDoc | undefined;
}

async function fanout(eventKey: string): Promise<FanoutDoc | undefined> {
  return (await s.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).get()).data() as FanoutDoc | undefined;
}

describe('restock backfill through the pipeline', () => {
  const inStock = uniqueProductId('backfill-in');
  const soldOut = uniqueProductId('backfill-out');
  const path = join(dir, 'stock.csv');

  test('records each product as it is, notifies nobody, and reports the bad row by line and field', async () => {
    // Shoppers already wait for both (the API let them: the pipeline had never heard of either product).
    await seedSubscribers(inStock, 5, { product: false });
    await seedSubscribers(soldOut, 5, { product: false });
    writeFileSync(path, ['productId,available,sequence,name', `${inStock},12,40,Trail shoe`, `${soldOut},0,7,`, `${inStock}-typo,twelve,41,`].join('\n') + '\n');

    const run = await restock(['backfill', '--file', path, '--json'], { stack: s.description });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('line 4: available: must be a whole number, got "twelve"');
    expect(JSON.parse(run.stdout)).toMatchObject({ published: 2, complete: true, rejected: [{ line: 4, field: 'available' }] });
    const settled = await waitFor(async () => {
      const both = [await fanout(`backfill:${inStock}:40`), await fanout(`backfill:${soldOut}:7`)];
      return both.every((f) => f !== undefined && f.state !== 'running') ? (both as FanoutDoc[]) : undefined;
    }, { what: 'both backfill events judged', timeoutMs: 60_000 });
    expect(settled.map((f) => [f.state, f.recipients])).toEqual([['ignored', 0], ['ignored', 0]]);
    expect(await product(inStock)).toMatchObject({ available: 12, sequence: 40, name: 'Trail shoe' });
    expect(await product(soldOut)).toMatchObject({ available: 0, sequence: 7 });
    expect((await s.sink.stats(inStock)).items).toBe(0);
    expect((await s.sink.stats(soldOut)).items).toBe(0);
  });

  test('a second run changes nothing, and the next ordinary event (12 → 11, no previousAvailable) is not taken for a restock', async () => {
    const again = await restock(['backfill', '--file', path, '--restart', '--json'], { stack: s.description });
    const next = await restockJson<{ eventId: string }>(['publish', '--product', inStock, '--available', '11', '--sequence', '41'], { stack: s.description });

    expect(JSON.parse(again.stdout)).toMatchObject({ published: 2, rejected: [{ line: 4 }] });
    const judged = await waitFor(async () => {
      const f = await fanout(next.eventId);
      return f !== undefined && f.state !== 'running' ? f : undefined;
    }, { what: 'the ordinary event judged', timeoutMs: 60_000 });
    expect(judged).toMatchObject({ state: 'ignored', reason: expect.stringMatching(/^not a restock: 12 -> 11 /) });
    // Whatever order the repeated backfill events arrived in, they moved nothing: the product keeps the first run's
    // snapshot (12 at sequence 40), and the ordinary sale, which stays in stock, is judged against it and not stored
    // (only a change that crosses the threshold is, lib/restock/rule.ts).
    await new Promise((r) => setTimeout(r, 2000));
    expect(await product(inStock)).toMatchObject({ available: 12, sequence: 40 });
    expect(await fanout(`backfill:${inStock}:40`)).toMatchObject({ state: 'ignored', generation: 0 });
    expect((await s.sink.stats(inStock)).items).toBe(0);
  });
});

describe('restock backfill interrupted', () => {
  const ROWS = 1000;
  const BATCH = 10;
  const names = { topic: `backfill-${randomUUID().slice(0, 8)}`, probe: `backfill-probe-${randomUUID().slice(0, 8)}` };
  const env = { RESTOCK_TOPIC: names.topic };
  let subscriber: v1.SubscriberClient;

  beforeAll(async () => {
    const [topic] = await s.pubsub.createTopic(names.topic);
    await topic.createSubscription(names.probe);
    const { port, ...config } = await s.pubsub.getClientConfig();
    subscriber = new v1.SubscriberClient({ ...config, ...(port !== undefined ? { port: Number(port) } : {}) });
  });

  afterAll(async () => {
    await subscriber?.close();
    await Promise.allSettled([s.pubsub.subscription(names.probe).delete(), s.pubsub.topic(names.topic).delete()]);
  });

  /** Every message on the test's topic: the receiving end. */
  async function received(): Promise<string[]> {
    const subscription = subscriber.subscriptionPath(s.description.projectId, names.probe);
    const ids: string[] = [];
    for (let empty = 0; empty < 3; ) {
      const [res] = await subscriber.pull({ subscription, maxMessages: 500, returnImmediately: true });
      const got = res.receivedMessages ?? [];
      if (got.length === 0) {
        empty++;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      for (const m of got) ids.push(m.message!.attributes!.eventId!);
      await subscriber.acknowledge({ subscription, ackIds: got.map((m) => m.ackId!) });
    }
    return ids;
  }

  test('killed mid-file, the same command resumes after the last whole batch: every row reaches the topic, at most one batch twice', async () => {
    const prefix = uniqueProductId('bulk');
    const path = join(dir, 'bulk.jsonl');
    const rows = Array.from({ length: ROWS }, (_, i) => ({ productId: `${prefix}-${i}`, available: i % 7, sequence: 1000 + i }));
    writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const checkpointPath = `${path}.checkpoint.json`;
    const args = ['backfill', '--file', path, '--batch-size', String(BATCH)];

    const first = spawnRestock(args, { stack: s.description, env });
    const killedAt = await waitFor(() => {
      const line = existsSync(checkpointPath) ? (JSON.parse(readFileSync(checkpointPath, 'utf8')) as BackfillCheckpoint).line : 0;
      return line >= 100 && line;
    }, { what: 'a checkpoint past line 100', intervalMs: 5, timeoutMs: 60_000 });
    first.kill('SIGKILL');
    const [, signal] = (await new Promise((r) => first.on('close', (...a) => r(a)))) as [number | null, string | null];
    const interrupted = JSON.parse(readFileSync(checkpointPath, 'utf8')) as BackfillCheckpoint;
    const resumed = await restockJson<BackfillResult>(args, { stack: s.description, env });

    expect(signal).toBe('SIGKILL');
    expect(interrupted.complete).toBe(false);
    expect(interrupted.line).toBeLessThan(ROWS);
    expect(killedAt).toBeGreaterThanOrEqual(100);
    expect(resumed).toMatchObject({ resumedAfterLine: interrupted.line, published: ROWS - interrupted.line, publishedInAll: ROWS, complete: true, rejected: [] });
    const ids = await received();
    expect(new Set(ids)).toEqual(new Set(rows.map((r) => `backfill:${r.productId}:${r.sequence}`)));
    expect(ids.length - ROWS).toBeLessThanOrEqual(BATCH);
  });
});
