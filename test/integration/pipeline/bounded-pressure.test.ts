/**
 * docs/design.md promise 8, the per-chunk half: a chunk never has more than
 * RESTOCK_SEND_CONCURRENCY calls in flight toward the notification service,
 * each of at most RESTOCK_NOTIFY_BATCH_SIZE notifications. (The queue's half,
 * dispatch rate and concurrency, is proven by test/component/cloud-tasks/limits.)
 * One chunk is delivered in-process on the shared stack's Firestore through the
 * real `http` notifier, toward a loopback service that records its peak load.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deliverChunk } from '../../../lib/delivery/index.ts';
import type { DeliveryTask } from '../../../lib/tasks/index.ts';
import { createNotifier } from '../../../lib/notify/index.ts';
import { inventoryEvent, seedSubscribers, stack } from '../../helpers/index.ts';
import { runtimeFor } from '../faults/support.ts';
import { ledgerStates, remainingSubscribers } from './assertions.ts';

let server: Server;
let url: string;
const load = { inFlight: 0, peak: 0, requests: 0, largestBatch: 0 };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      load.requests++;
      load.peak = Math.max(load.peak, ++load.inFlight);
      const { notifications } = JSON.parse(body) as { notifications: { idempotencyKey: string }[] };
      load.largestBatch = Math.max(load.largestBatch, notifications.length);
      setTimeout(() => {
        load.inFlight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ results: notifications.map((n) => ({ idempotencyKey: n.idempotencyKey, status: 'sent' })) }));
      }, 100);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

describe('pressure toward the notification service', () => {
  test('one chunk keeps at most RESTOCK_SEND_CONCURRENCY calls in flight, each of at most RESTOCK_NOTIFY_BATCH_SIZE', async () => {
    // Prepare: 100 recipients, batches of 10, 3 calls at a time.
    const on = stack();
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 100, { on });
    const rt = runtimeFor(on, { RESTOCK_NOTIFIER: 'http', RESTOCK_NOTIFIER_URL: url, RESTOCK_SEND_CONCURRENCY: '3', RESTOCK_NOTIFY_BATCH_SIZE: '10' });
    const eventKey = `m-${event.productId}`;
    const task: DeliveryTask = { version: 1, eventKey, productId: event.productId, generation: 0, product: { available: 25 }, userIds: subs.map((s) => s.userId) };

    // Act
    const report = await deliverChunk(rt, createNotifier(rt.config, rt.log), task, { retryCount: 0 }, rt.log);

    // Assess
    expect(report).toMatchObject({ settled: true, sent: 100 });
    expect(load).toMatchObject({ requests: 10, largestBatch: 10, peak: 3, inFlight: 0 });
    expect(await ledgerStates(eventKey, on)).toEqual({ sent: 100 });
    expect(await remainingSubscribers(event.productId, on)).toBe(0);
  });
});
