import { describe, expect, test } from 'vitest';
import type { ErasureReceipt, ShopperData, ShopperExport } from '../../../lib/shoppers/index.ts';
import { run } from './fakes.ts';

const RECEIPT: ErasureReceipt = {
  user: 'a1b2c3d4e5f6',
  erasedAtMs: 1_000,
  counts: { subscriptions: 2, pendingConfirmations: 1, shopperRecords: 1, ledgerEntriesPseudonymised: 4, ledgerKeysClosed: 4, rejectedEventsScrubbed: 0, fanoutCursorsMoved: 0, fanoutCursorsInFlight: 0, clicksPseudonymised: 0, ordersPseudonymised: 0 },
  outside: ['Cloud Tasks: ...'],
};

function recording() {
  const calls: string[] = [];
  const data: ShopperData = {
    export: async (userId, nowMs) => {
      calls.push(`export ${userId} at ${nowMs}`);
      return { userId, subscriptions: [{ productId: 'p1', channels: { email: 'ann@example.com' } }] } as unknown as ShopperExport;
    },
    erase: async (userId, nowMs) => {
      calls.push(`erase ${userId} at ${nowMs}`);
      return RECEIPT;
    },
  };
  return { calls, ops: { shoppers: () => data } };
}

describe('restock shopper', () => {
  test('export prints the whole document as JSON on stdout, addresses included (it is the shopper\'s own data)', async () => {
    const r = recording();
    const out = await run(['shopper', 'export', 'u-1'], { ops: r.ops, nowMs: () => 5_000 });
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ userId: 'u-1', subscriptions: [{ channels: { email: 'ann@example.com' } }] });
    expect(r.calls).toEqual(['export u-1 at 5000']);
  });

  test('erase --yes --json erases and prints the receipt; without --yes and no terminal it refuses and erases nothing', async () => {
    const r = recording();
    const done = await run(['shopper', 'erase', 'u-1', '--yes', '--json'], { ops: r.ops, nowMs: () => 5_000 });
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toEqual(RECEIPT);
    expect(r.calls).toEqual(['erase u-1 at 5000']);
    const asked = recording();
    const refused = await run(['shopper', 'erase', 'u-1'], { ops: asked.ops });
    expect(refused.code).not.toBe(0);
    expect(asked.calls).toEqual([]);
  });
});

describe('restock trace', () => {
  test("shows each subscription's consent record: how each channel was vouched for, when confirmed, the wording, the storefront", async () => {
    const consent = { givenAtMs: 0, storefront: 'shop@p.iam.gserviceaccount.com', wording: 'v7', channels: { email: 'confirmed' as const }, confirmedAtMs: 60_000 };
    const r = await run(['trace', '--user', 'u-1'], {
      ops: { readTrace: async () => ({ userId: 'u-1', productId: null, subscriptions: [{ productId: 'p1', channels: ['email'], locale: null, timeZone: null, createdAtMs: 0, consent }], events: [], outboxUnreadable: null }) },
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/p1 .*consent: email confirmed at .*, wording v7, by shop@p\.iam\.gserviceaccount\.com/);
  });
});
