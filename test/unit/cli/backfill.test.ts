/**
 * `restock backfill` in-process: what each row becomes, how bad rows are
 * reported without losing the good ones, and how a checkpoint resumes an
 * interrupted run. The same command against the real emulators is
 * test/integration/cli/backfill.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { backfillEventId, type BackfillCheckpoint, type BackfillResult, planBackfill, rowToEvent, startingCheckpoint, type StockRow } from '../../../cli/commands/backfill.ts';
import { errorDocument, exitCodeFor, RowsRejectedError } from '../../../cli/errors.ts';
import { isRestock } from '../../../lib/restock/index.ts';
import { run } from './fakes.ts';

interface Published {
  eventId: string;
  event: { productId: string; available: number; previousAvailable: number; sequence: number; product?: { name?: string; url?: string } };
}

function recorder(failOnCall?: number) {
  const published: Published[] = [];
  let calls = 0;
  return {
    published,
    publish: async (_topic: string, data: Buffer, attributes: Record<string, string>) => {
      calls++;
      if (calls === failOnCall) throw new Error('14 UNAVAILABLE: connection dropped');
      published.push({ eventId: attributes.eventId!, event: JSON.parse(data.toString()) });
      return `m-${calls}`;
    },
  };
}

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'backfill-')), name);
  writeFileSync(path, text);
  return path;
}

describe('restock backfill', () => {
  test('publishes each CSV row as unchanged stock with an event id its product and sequence decide', async () => {
    const path = file('stock.csv', 'productId,available,sequence,name\nsku-1,12,40,"Trail shoe, blue"\nsku-2,0,7,\n');
    const r = recorder();

    const result = await run(['backfill', '--file', path, '--json'], { ops: { publish: r.publish } });

    expect(result.code).toBe(0);
    expect(r.published).toEqual([
      { eventId: 'backfill:sku-1:40', event: expect.objectContaining({ productId: 'sku-1', available: 12, previousAvailable: 12, sequence: 40, product: { name: 'Trail shoe, blue' } }) },
      { eventId: 'backfill:sku-2:7', event: expect.objectContaining({ productId: 'sku-2', available: 0, previousAvailable: 0, sequence: 7 }) },
    ]);
    // Unchanged stock is never a restock, whatever the threshold: nobody is notified.
    for (const { event } of r.published) for (const threshold of [0, 5, 20]) expect(isRestock(event.previousAvailable, event.available, threshold)).toBe(false);
    expect(JSON.parse(result.stdout)).toMatchObject({ published: 2, rejected: [], complete: true } satisfies Partial<BackfillResult>);
  });

  test('a bad row is named by line and field, and the good rows around it are published', async () => {
    const path = file('stock.jsonl', ['{"productId":"sku-1","available":3,"sequence":1}', '{"productId":"sku-2","available":-1,"sequence":2}', 'not json', '', '{"productId":"sku-3","available":4,"sequnce":3}', '{"productId":"sku-5","available":"4.5","sequence":3}', '{"productId":"sku-1","available":5,"sequence":9}', '{"productId":"sku-4","available":4,"sequence":3}'].join('\n'));
    const r = recorder();

    const result = await run(['backfill', '--file', path], { ops: { publish: r.publish } });

    expect(result.code).toBe(1);
    expect(r.published.map((p) => p.event.productId)).toEqual(['sku-1', 'sku-4']);
    expect(result.stderr).toContain('line 2: available: must not be negative');
    expect(result.stderr).toContain('line 3: row: is not JSON');
    expect(result.stderr).toContain('line 5: sequnce: unknown field');
    expect(result.stderr).toContain('line 6: available: must be a whole number, got "4.5"');
    expect(result.stderr).toContain('line 7: productId: sku-1 is already on line 1');
    expect(result.stderr).toContain('5 row(s)');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('a CSV without the required columns is refused before anything is published', async () => {
    const path = file('stock.csv', 'product,available\nsku-1,3\n');

    const result = await run(['backfill', '--file', path], { ops: { publish: recorder().publish } });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('line 1: the header must name the columns productId, available, sequence (missing productId, sequence)');
  });

  test('an interrupted run resumes after its last whole batch, and a finished one publishes nothing again', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `sku-${i},${i},${100 + i}`);
    const path = file('stock.csv', ['productId,available,sequence', ...rows].join('\n') + '\n');
    const first = recorder(7);

    const interrupted = await run(['backfill', '--file', path, '--batch-size', '3'], { ops: { publish: first.publish } });

    expect(interrupted.code).toBe(1);
    expect(interrupted.stderr).toContain('backfill stopped after line 7 (rerun the same command to resume)');
    const checkpoint = JSON.parse(readFileSync(`${path}.checkpoint.json`, 'utf8')) as BackfillCheckpoint;
    expect(checkpoint).toMatchObject({ line: 7, published: 6, complete: false });

    const second = recorder();
    const resumed = await run(['backfill', '--file', path, '--batch-size', '3', '--json'], { ops: { publish: second.publish } });

    expect(resumed.code).toBe(0);
    expect(second.published.map((p) => p.event.productId)).toEqual(['sku-6', 'sku-7', 'sku-8', 'sku-9']);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ published: 4, resumedAfterLine: 7, publishedInAll: 10, complete: true });

    const third = recorder();
    const again = await run(['backfill', '--file', path], { ops: { publish: third.publish } });
    expect(again.code).toBe(0);
    expect(third.published).toEqual([]);
    expect(again.stderr).toContain('backfilled completely by an earlier run');
    expect(again.stdout).toBe('published nothing: an earlier run published all 10 stock events of ' + path + '\n');
  });

  test('a checkpoint of another version of the file is refused, and --restart publishes it whole', async () => {
    const path = file('stock.csv', 'productId,available,sequence\nsku-1,1,1\n');
    await run(['backfill', '--file', path], { ops: { publish: recorder().publish } });
    writeFileSync(path, 'productId,available,sequence\nsku-1,1,1\nsku-2,2,2\n');

    const refused = await run(['backfill', '--file', path], { ops: { publish: recorder().publish } });
    const r = recorder();
    const restarted = await run(['backfill', '--file', path, '--restart'], { ops: { publish: r.publish } });

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('belongs to another version');
    expect(restarted.code).toBe(0);
    expect(r.published.map((p) => p.eventId)).toEqual(['backfill:sku-1:1', 'backfill:sku-2:2']);
  });

  test('outside the emulators a script without --yes is refused, and nothing is published', async () => {
    const path = file('stock.csv', 'productId,available,sequence\nsku-1,1,1\n');
    const r = recorder();
    const production = { projectId: 'shop-prod', emulators: { firestore: false, pubsub: false, tasks: false } };

    const refused = await run(['backfill', '--file', path], { ops: { publish: r.publish, target: production } });
    const accepted = await run(['backfill', '--file', path, '--yes'], { ops: { publish: r.publish, target: production } });

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('pass --yes');
    expect(accepted.code).toBe(0);
    expect(r.published).toHaveLength(1);
  });

  test('rejected rows are a CLI error like the others: exit 1, and the error document names the file', () => {
    const err = new RowsRejectedError('2 row(s) of stock.csv were not published', 'stock.csv');

    expect(exitCodeFor(err)).toBe(1);
    expect(errorDocument(err, 1)).toEqual({ name: 'RowsRejectedError', message: '2 row(s) of stock.csv were not published', exitCode: 1, field: 'stock.csv' });
  });

  test('an event id never exceeds the 500 characters an event key may have', () => {
    expect(backfillEventId('x'.repeat(600), 1)).toMatch(/^backfill:[0-9a-f]{64}$/);
  });

  test('100,000 rows are streamed and published in batches: never more than --batch-size publishes at once, a checkpoint after each', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => `sku-${i},${i % 50},${i + 1}`);
    const path = file('stock.csv', ['productId,available,sequence', ...rows].join('\n') + '\n');
    let inFlight = 0;
    let mostInFlight = 0;
    let count = 0;
    const publish = async () => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      inFlight--;
      return `m-${++count}`;
    };

    const result = await run(['backfill', '--file', path, '--batch-size', '1000', '--json'], { ops: { publish } });

    expect(result.code).toBe(0);
    expect(count).toBe(100_000);
    expect(mostInFlight).toBe(1000);
    expect(JSON.parse(result.stdout)).toMatchObject({ published: 100_000, publishedInAll: 100_000, rejected: [], complete: true });
  }, 60_000);
});

describe('planning a backfill (pure)', () => {
  const good = (line: number, productId: string): StockRow => rowToEvent(line, { productId, available: 1, sequence: line }, 0);
  async function* of(rows: StockRow[]) {
    yield* rows;
  }
  async function plan(rows: StockRow[], resumedAfterLine: number, batchSize: number) {
    const out = [];
    for await (const b of planBackfill(of(rows), resumedAfterLine, batchSize)) out.push({ products: b.events.map((e) => e.productId), rejected: b.rejected.map((r) => `${r.line} ${r.field}`), lastLine: b.lastLine });
    return out;
  }

  test('batches hold --batch-size events; a bad row and a product\'s second row are rejected in the batch of their line; the run ends with a batch after the last line', async () => {
    const rows = [good(1, 'a'), good(2, 'b'), { line: 3, field: 'available', problem: 'is missing' }, good(4, 'a'), good(5, 'c'), good(6, 'd')];

    expect(await plan(rows, 0, 2)).toEqual([
      { products: ['a', 'b'], rejected: [], lastLine: 2 },
      { products: ['c', 'd'], rejected: ['3 available', '4 productId'], lastLine: 6 },
      { products: [], rejected: [], lastLine: 6 },
    ]);
  });

  test('a resumed run passes over the lines done, yet still catches a product whose first row was among them', async () => {
    const rows = [good(1, 'a'), good(2, 'b'), good(3, 'a'), good(4, 'c')];

    expect(await plan(rows, 2, 10)).toEqual([{ products: ['c'], rejected: ['3 productId'], lastLine: 4 }]);
  });

  test('a run with nothing left still ends with one (empty) batch at the line it resumed after', async () => {
    expect(await plan([good(1, 'a')], 1, 10)).toEqual([{ products: [], rejected: [], lastLine: 1 }]);
  });

  test('a checkpoint resumes only the same file: none starts fresh, the same sha256 resumes, another is refused', () => {
    const earlier: BackfillCheckpoint = { version: 1, file: '/s.csv', sha256: 'aa', line: 9, published: 9, rejected: [], complete: false };

    expect(startingCheckpoint(undefined, '/s.csv', 'aa', 's.csv', 'c.json')).toEqual({ version: 1, file: '/s.csv', sha256: 'aa', line: 0, published: 0, rejected: [], complete: false });
    expect(startingCheckpoint(earlier, '/s.csv', 'aa', 's.csv', 'c.json')).toBe(earlier);
    expect(() => startingCheckpoint(earlier, '/s.csv', 'bb', 's.csv', 'c.json')).toThrow(/c\.json belongs to another version of s\.csv \(it changed after line 9 was done\)/);
  });
});
