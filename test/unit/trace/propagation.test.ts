/**
 * The next hop is sent the trace: a task created inside a request carries it
 * as its `traceparent` header, and the outbox relay publishes a row under the
 * trace of the stock change that staged it (the row keeps it), else under the
 * ambient one.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, test } from 'vitest';
import { loadConfig, queuePath } from '../../../lib/config.ts';
import { Logger } from '../../../lib/log.ts';
import { newRow, OutboxRelay, relayOptionsFrom, stockChangeEvent, type OutboundMessage, type Publisher } from '../../../lib/outbox/index.ts';
import { enqueueHttpTask } from '../../../lib/tasks/index.ts';
import { runWithTrace } from '../../../lib/trace/index.ts';
import { MemoryOutboxStore } from '../outbox/memory-store.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const ROW_TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = '00f067aa0ba902b7';
const NOW = 1_800_000_000_000;

/** A Cloud Tasks client that keeps the headers of each task it is asked to create. */
function recordingTasks(): { client: CloudTasksClient; headers: Record<string, string>[] } {
  const headers: Record<string, string>[] = [];
  const client = {
    createTask: async (request: { task: { httpRequest: { headers: Record<string, string> } } }) => {
      headers.push(request.task.httpRequest.headers);
      return [{}];
    },
  } as unknown as CloudTasksClient;
  return { client, headers };
}

describe('tasks carry the trace of the work that created them', () => {
  test('a task created inside a request has its traceparent header; one created outside has none', async () => {
    // Prepare
    const { client, headers } = recordingTasks();
    const config = loadConfig();
    const task = { queue: queuePath(config), taskId: 't1', url: 'http://127.0.0.1:1/deliver', audience: 'http://127.0.0.1:1/deliver', body: {}, headers: { 'ce-id': 'x' } };

    // Act
    await runWithTrace({ traceId: TRACE, spanId: SPAN, sampled: true }, () => enqueueHttpTask(client, config, task));
    await enqueueHttpTask(client, config, { ...task, taskId: 't2' });

    // Assess
    expect(headers[0]).toEqual({ 'Content-Type': 'application/json', traceparent: `00-${TRACE}-${SPAN}-01`, 'ce-id': 'x' });
    expect(headers[1]).not.toHaveProperty('traceparent');
  });
});

describe('the outbox relay publishes under the stock change trace', () => {
  function setup() {
    const store = new MemoryOutboxStore();
    const { event } = stockChangeEvent({ productId: 'sku-1', available: 5 }, { sequence: 0, available: 0 }, NOW);
    const published: OutboundMessage[] = [];
    const publisher: Publisher = {
      publish: async (m) => {
        published.push(m);
        return `m-${published.length}`;
      },
    };
    const relay = new OutboxRelay(store, publisher, { ...relayOptionsFrom(loadConfig(), new Logger({}, 'ERROR', () => {})), now: () => NOW });
    return { store, event, published, relay };
  }

  test("a row that kept its stock change's traceparent is published with it, even from another trace's sweep", async () => {
    // Prepare
    const { store, event, published, relay } = setup();
    store.add(newRow('e1', event, NOW, `00-${ROW_TRACE}-${SPAN}-00`));

    // Act
    await runWithTrace({ traceId: TRACE, spanId: SPAN, sampled: false }, () => relay.sweep(60_000));

    // Assess
    expect(published[0]!.attributes).toEqual({ eventId: 'e1', productId: 'sku-1', sequence: '1', traceparent: `00-${ROW_TRACE}-${SPAN}-00` });
  });

  test('a row without one is published under the ambient trace, and with none outside a trace', async () => {
    // Prepare
    const { store, event, published, relay } = setup();
    store.add(newRow('e1', event, NOW));

    // Act
    await runWithTrace({ traceId: TRACE, spanId: SPAN, sampled: false }, () => relay.sweep(60_000));
    store.add(newRow('e2', event, NOW));
    await relay.sweep(60_000);

    // Assess
    expect(published[0]!.attributes.traceparent).toBe(`00-${TRACE}-${SPAN}-00`);
    expect(published[1]!.attributes).not.toHaveProperty('traceparent');
  });
});
