import { describe, expect, test } from 'vitest';
import { newRow, stockChangeEvent } from '../../../lib/outbox/index.ts';
import type { Backend } from '../../../cli/backend.ts';
import { BackendError } from '../../../cli/errors.ts';
import { ConfigError } from '../../../lib/config.ts';
import { tryReadOutboxRows } from '../../../cli/queries/outbox.ts';
import { run, statusReport } from '../cli/fakes.ts';
import { MemoryOutboxStore } from './memory-store.ts';

const NOW = 1_700_000_000_000;

function storeWith(): MemoryOutboxStore {
  const store = new MemoryOutboxStore();
  const row = (id: string, seq: number) => newRow(id, stockChangeEvent({ productId: 'sku-1', available: seq }, { sequence: seq - 1 }, NOW - 60_000).event, NOW - 60_000);
  store.add(row('pending-1', 1));
  store.add({ ...row('sent-1', 2), state: 'sent', publishedAtMs: NOW - 59_900, publishedBy: 'fast-path' });
  store.add({ ...row('failed-1', 3), state: 'failed', attempts: 20, lastError: 'gave up after 20 attempts: UNAVAILABLE' });
  return store;
}

describe('restock outbox', () => {
  test('status counts rows per state and says how old the oldest pending one is', async () => {
    const store = storeWith();

    const r = await run(['outbox', 'status', '--json'], { ops: { outbox: () => store }, nowMs: () => NOW });

    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ pending: 1, sent: 1, failed: 1, oldestPendingStagedAtMs: NOW - 60_000, oldestPendingAgeMs: 60_000 });
  });

  test('list --state failed shows each failed row with its reason', async () => {
    const r = await run(['outbox', 'list', '--state', 'failed'], { ops: { outbox: () => storeWith() } });

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('failed-1');
    expect(r.stdout).toContain('gave up after 20 attempts: UNAVAILABLE');
    expect(r.stdout).not.toContain('pending-1');
  });

  test('list refuses an unknown state as a usage error', async () => {
    const r = await run(['outbox', 'list', '--state', 'lost'], { ops: { outbox: () => storeWith() } });

    expect(r.code).toBe(2);
  });

  test('redrive puts a failed row back to pending, and exits 1 naming a row that is not failed', async () => {
    const store = storeWith();

    const r = await run(['outbox', 'redrive', 'failed-1', 'sent-1', '--json'], { ops: { outbox: () => store }, nowMs: () => NOW });

    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).results).toEqual([
      { eventId: 'failed-1', outcome: 'redriven' },
      { eventId: 'sent-1', outcome: 'not-redrivable', state: 'sent' },
    ]);
    expect(await store.get('failed-1')).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAtMs: NOW });
    expect((await store.get('sent-1'))?.state).toBe('sent');
  });

  test('redrive --all-failed --yes redrives every failed row', async () => {
    const store = storeWith();

    const r = await run(['outbox', 'redrive', '--all-failed', '--yes'], { ops: { outbox: () => store }, nowMs: () => NOW });

    expect(r.code).toBe(0);
    expect((await store.get('failed-1'))?.state).toBe('pending');
  });

  test('redrive with neither ids nor --all-failed is a usage error', async () => {
    const r = await run(['outbox', 'redrive'], { ops: { outbox: () => storeWith() } });

    expect(r.code).toBe(2);
  });
});

describe('restock trace with outbox rows', () => {
  const failedRow = { ...newRow('evt-failed', stockChangeEvent({ productId: 'sku-1', available: 4 }, { sequence: 6 }, NOW - 120_000).event, NOW - 120_000), state: 'failed' as const, attempts: 20, lastError: 'gave up after 20 attempts: UNAVAILABLE' };
  const report = {
    userId: 'u-1',
    productId: 'sku-1',
    subscriptions: [],
    events: [{ eventKey: 'evt-failed', fanout: null, deliveries: [], outbox: failedRow }],
    outboxUnreadable: null,
  };

  test('shows the outbox row under its event: state, attempts, staged time and the failure reason', async () => {
    const r = await run(['trace', '--user', 'u-1', '--product', 'sku-1'], { ops: { readTrace: async () => report } });

    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.findIndex((l) => l.includes('evt-failed'));
    expect(lines[at + 1]).toContain('outbox failed, sequence 7, 20 failed attempt(s), staged ');
    expect(lines[at + 1]).toContain('not published (redrive with: restock outbox redrive <eventId>); last error: gave up after 20 attempts: UNAVAILABLE');
  });

  test('--json carries the row as stored', async () => {
    const r = await run(['trace', '--user', 'u-1', '--product', 'sku-1', '--json'], { ops: { readTrace: async () => report } });

    expect(JSON.parse(r.stdout).events[0].outbox).toMatchObject({ eventId: 'evt-failed', state: 'failed', attempts: 20, lastError: 'gave up after 20 attempts: UNAVAILABLE', stagedAtMs: NOW - 120_000 });
  });
});

describe('status and trace when the outbox cannot be read', () => {
  const location = { backend: 'firestore' as const, projectId: 'inventory-prod', databaseId: 'inventory', collection: 'outbox' };
  /** A backend whose outbox (the inventory service's database) refuses every read, as without roles/datastore.viewer on it. */
  function deniedOutbox(): Backend {
    const store = new MemoryOutboxStore();
    store.get = async () => {
      throw Object.assign(new Error('7 PERMISSION_DENIED: Missing or insufficient permissions.'), { code: 7 });
    };
    return { outbox: () => ({ location, store, close: async () => undefined }) } as unknown as Backend;
  }

  test('the read reports why, with the location, instead of throwing', async () => {
    const read = await tryReadOutboxRows(deniedOutbox(), ['evt-1', 'evt-2']);

    expect(read.rows.size).toBe(0);
    expect(read.unreadable).toContain('cannot read firestore projects/inventory-prod/databases/inventory/outbox row evt-');
    expect(read.unreadable).toContain('PERMISSION_DENIED');
    expect(read.error).toBeInstanceOf(BackendError);
  });

  test('settings that cannot name the outbox are reported the same way', async () => {
    const misconfigured = {
      outbox: () => {
        throw new ConfigError('RESTOCK_OUTBOX_SPANNER_INSTANCE', 'is required with RESTOCK_OUTBOX_BACKEND=spanner');
      },
    } as unknown as Backend;

    const read = await tryReadOutboxRows(misconfigured, ['evt-1']);

    expect(read.unreadable).toContain('RESTOCK_OUTBOX_SPANNER_INSTANCE');
  });

  test('a readable outbox gives its rows and no complaint', async () => {
    const store = storeWith();
    const backend = { outbox: () => ({ location, store, close: async () => undefined }) } as unknown as Backend;

    const read = await tryReadOutboxRows(backend, ['failed-1', 'nope']);

    expect([...read.rows.keys()]).toEqual(['failed-1']);
    expect(read.unreadable).toBeNull();
  });

  test('status says the outbox is unreadable and still shows the fan-out and deliveries', async () => {
    const report = statusReport({ outboxUnreadable: 'cannot read firestore projects/inventory-prod/databases/inventory/outbox row evt-1: PERMISSION_DENIED' });

    const r = await run(['status', 'evt-1'], { ops: { readStatus: async () => report } });

    expect(r.code).toBe(0);
    expect(r.stdout).toContain("outbox unreadable: cannot read firestore projects/inventory-prod/databases/inventory/outbox row evt-1: PERMISSION_DENIED (the rest is read from the pipeline's database)");
    expect(r.stdout).toContain('fan-out complete');
    expect(r.stdout).toContain('deliveries 150');
  });

  test('trace says so above its events', async () => {
    const report = { userId: 'u-1', productId: null, subscriptions: [], events: [{ eventKey: 'evt-1', fanout: null, deliveries: [], outbox: null }], outboxUnreadable: 'cannot read spanner … : NOT_FOUND' };

    const r = await run(['trace', '--user', 'u-1'], { ops: { readTrace: async () => report } });

    expect(r.code).toBe(0);
    expect(r.stdout).toContain('outbox unreadable: cannot read spanner … : NOT_FOUND (events shown without their outbox rows)');
    expect(r.stdout).toContain('evt-1');
  });
});
