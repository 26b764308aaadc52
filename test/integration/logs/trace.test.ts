/**
 * One restock's log lines group as one trace in Cloud Logging: the stock
 * change (inventory stand-in), the fan-out and every delivery chunk log under
 * the same `logging.googleapis.com/trace`, carried by the outbox row, the
 * Pub/Sub message's `traceparent` attribute and each Cloud Tasks task's
 * `traceparent` header through the real emulators, read back from the
 * processes' own log files (the stack writes each process's stdout to
 * `<logsDir>/<component>.log`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { seedSubscribers, stack, uniqueProductId, waitFor } from '../../helpers/index.ts';

const SHOPPERS = 150; // two chunks at the default chunk size of 100: two delivery tasks
const TRACE_FIELD = 'logging.googleapis.com/trace';
const PROCESSES = ['inventory', 'fanOutRestock', 'deliverRestockBatch'] as const;

type Line = Record<string, unknown>;

/** The JSON lines of `component`'s log that belong to the event `eventKey`. */
function linesOf(component: string, eventKey: string): Line[] {
  const text = readFileSync(join(stack().description.logsDir, `${component}.log`), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(eventKey))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.eventKey === eventKey);
}

/** Restocks a product of `SHOPPERS` waiting shoppers through the inventory stand-in, and waits for the last chunk's line. */
async function restock(headers: Record<string, string>): Promise<{ eventKey: string; lines: Record<(typeof PROCESSES)[number], Line[]> }> {
  const productId = uniqueProductId('trace');
  await seedSubscribers(productId, SHOPPERS, { product: { available: 0, sequence: 0 } });
  const res = await fetch(`${stack().description.inventory}/v1/products/${productId}/stock`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ available: 5 }),
  });
  expect(res.status).toBe(200);
  const eventKey = ((await res.json()) as { eventId: string }).eventId;
  const lines = await waitFor(
    async () => {
      const delivered = linesOf('deliverRestockBatch', eventKey).filter((l) => l.message === 'chunk delivered');
      const recipients = delivered.reduce((n, l) => n + Number(l.recipients), 0);
      return recipients >= SHOPPERS ? Object.fromEntries(PROCESSES.map((p) => [p, linesOf(p, eventKey)])) : undefined;
    },
    { timeoutMs: 90_000, what: `every chunk of ${eventKey} to be logged as delivered` },
  );
  return { eventKey, lines: lines as Record<(typeof PROCESSES)[number], Line[]> };
}

describe("a restock's log lines", () => {
  test("carry the caller's trace from the stock change to the last delivery chunk", async () => {
    // Prepare: the caller of the stock update is itself traced.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';

    // Act
    const { lines } = await restock({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` });

    // Assess: each process logged the restock, and every one of those lines is in the caller's trace.
    expect(lines.inventory.map((l) => l.message)).toContain('stock updated');
    expect(lines.fanOutRestock.map((l) => l.message)).toEqual(expect.arrayContaining(['fan-out started', 'fan-out complete']));
    expect(lines.deliverRestockBatch.filter((l) => l.message === 'chunk delivered').length).toBeGreaterThanOrEqual(2);
    const traces = new Set(PROCESSES.flatMap((p) => lines[p].map((l) => l[TRACE_FIELD])));
    expect([...traces]).toEqual([`projects/${stack().description.projectId}/traces/${traceId}`]);
  });

  test('start one trace at the stock change when the caller sent none, and keep it to the end', async () => {
    // Act
    const { lines } = await restock({});

    // Assess: the stand-in started a trace; fan-out and both chunks continued it instead of starting their own.
    const started = lines.inventory.find((l) => l.message === 'stock updated')?.[TRACE_FIELD];
    expect(started).toMatch(new RegExp(`^projects/${stack().description.projectId}/traces/[0-9a-f]{32}$`));
    const all = PROCESSES.flatMap((p) => lines[p]);
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(all.filter((l) => l[TRACE_FIELD] !== started)).toEqual([]);
  });
});
