/**
 * The chaos run's plan and verdict, without a stack: the same seed gives the
 * same faults, and the verdict (the exit code of `npm run chaos`) fails on a
 * missing shopper and on a key sent twice that no second claim explains.
 */
import { describe, expect, test } from 'vitest';
import { assess, type ChaosObservations, type LedgerEntry } from '../../../emulators/chaos/assess.ts';
import { planChaos } from '../../../emulators/chaos/plan.ts';
import type { NotificationRecord } from '../../../emulators/sink/index.ts';

function notification(key: string, overrides: Partial<NotificationRecord> = {}): NotificationRecord {
  return {
    idempotencyKey: key,
    productId: 'p',
    eventKey: 'e',
    channel: 'email',
    recipientRef: 'r',
    status: 'sent',
    requests: 1,
    firstReceivedAtMs: 1,
    lastReceivedAtMs: 1,
    sentAtMs: 1,
    resends: 0,
    ...overrides,
  };
}

/** Three shoppers, all sent once: a clean run. */
function cleanRun(): ChaosObservations {
  const ledger: LedgerEntry[] = ['a', 'b', 'c'].map((u) => ({ dedupKey: `k-${u}`, userId: u, state: 'sent', attempts: 1 }));
  return {
    seed: 1,
    productId: 'p',
    eventKey: 'e',
    subscribers: ['a', 'b', 'c'],
    removed: [],
    added: [],
    ledger,
    notifications: ledger.map((e) => notification(e.dedupKey)),
    stillSubscribed: [],
    faults: [],
    fanoutState: 'complete',
    fanoutAttempts: 1,
    elapsedMs: 1000,
    timedOut: false,
  };
}

describe('the chaos plan', () => {
  test('the same seed and size give the same faults and the same shoppers; another seed differs', () => {
    const [a, b, c] = [planChaos(5, 400), planChaos(5, 400), planChaos(6, 400)];
    expect(b.faults).toEqual(a.faults);
    expect(b.sink).toEqual(a.sink);
    expect(Array.from({ length: 400 }, (_, i) => [b.channelOf(i), b.undeliverable(i)])).toEqual(Array.from({ length: 400 }, (_, i) => [a.channelOf(i), a.undeliverable(i)]));
    expect(c.faults).not.toEqual(a.faults);
  });

  test('every plan kills both functions, redelivers while running and after, and churns', () => {
    for (const seed of [1, 2, 3, 42, 1000]) {
      const kinds = planChaos(seed, 300).faults.map((f) => (f.kind === 'redeliver' ? `redeliver:${f.when}` : f.kind));
      expect(kinds).toEqual(expect.arrayContaining(['kill-fanout', 'kill-delivery', 'redeliver:fanout-running', 'redeliver:all-settled', 'churn']));
    }
  });
});

describe('the chaos verdict', () => {
  test('a run where everyone is sent once is ok', () => {
    expect(assess(cleanRun())).toMatchObject({ ok: true, missing: 0, duplicateKeys: 0, sent: 3, uniqueNotified: 3 });
  });

  test('a shopper with no final state is missing and fails the run', () => {
    const run = cleanRun();
    run.ledger = [...run.ledger.slice(0, 2), { dedupKey: 'k-c', userId: 'c', state: 'failed', attempts: 3 }];
    expect(assess(run)).toMatchObject({ ok: false, missing: 1 });
  });

  test('a shopper who unsubscribed mid-run is not owed a notification', () => {
    const run = cleanRun();
    run.ledger = run.ledger.slice(0, 2);
    run.removed = ['c'];
    expect(assess(run)).toMatchObject({ ok: true, expected: 2, missing: 0 });
  });

  test('a key sent twice after a second claim (a crash between send and record) is explained', () => {
    const run = cleanRun();
    run.ledger = run.ledger.map((e) => (e.userId === 'a' ? { ...e, attempts: 2 } : e));
    run.notifications = run.notifications.map((n) => (n.idempotencyKey === 'k-a' ? { ...n, requests: 2, resends: 1 } : n));
    expect(assess(run)).toMatchObject({ ok: true, duplicateKeys: 1, unexplainedDuplicateKeys: 0 });
  });

  test('a key sent twice with a single claim is unexplained and fails the run', () => {
    const run = cleanRun();
    run.notifications = run.notifications.map((n) => (n.idempotencyKey === 'k-a' ? { ...n, requests: 2, resends: 1 } : n));
    expect(assess(run)).toMatchObject({ ok: false, duplicateKeys: 1, unexplainedDuplicateKeys: 1 });
  });

  test('a key retried after a 503 (received twice, sent once) is not a duplicate send', () => {
    const run = cleanRun();
    run.notifications = run.notifications.map((n) => (n.idempotencyKey === 'k-a' ? { ...n, requests: 2 } : n));
    expect(assess(run)).toMatchObject({ ok: true, duplicateKeys: 0 });
  });

  test('a sent shopper still subscribed breaks one-shot and fails the run', () => {
    const run = cleanRun();
    run.stillSubscribed = ['b'];
    expect(assess(run)).toMatchObject({ ok: false, settledButSubscribed: 1 });
  });

  test('a run that timed out fails', () => {
    expect(assess({ ...cleanRun(), timedOut: true }).ok).toBe(false);
  });
});
