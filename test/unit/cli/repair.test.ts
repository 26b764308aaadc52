import { describe, expect, test } from 'vitest';
import { republishAttributes, whyItDied, type DeadLetter } from '../../../cli/commands/deadLetters.ts';
import { buildInventoryEvent } from '../../../cli/commands/publish.ts';
import { UsageError } from '../../../cli/errors.ts';
import type { ReplayResult } from '../../../lib/fanout/index.ts';
import type { RedriveResult } from '../../../lib/delivery/index.ts';
import { deadLetter, run, statusReport } from './fakes.ts';

const replayResult: ReplayResult = { eventKey: 'evt-1', productId: 'sku-1', dryRun: false, generation: 1, outcome: 'completed', pages: 1, chunks: 2, recipients: 150 };

describe('restock replay', () => {
  test('without --yes and without a terminal to ask, it refuses with a usage error and replays nothing', async () => {
    let replays = 0;
    const r = await run(['replay', 'evt-1'], {
      answer: undefined,
      ops: { readStatus: async () => statusReport(), countSubscribers: async () => 3, replay: async () => {
        replays++;
        return replayResult;
      } },
    });
    expect(r.code).toBe(2);
    expect(replays).toBe(0);
    expect(r.stderr).toMatch(/will replay the fan-out of evt-1 \(product sku-1, complete, generation 0 → 1\) over 3 current subscriber\(s\); 148 already sent are skipped/);
    expect(r.stderr).toMatch(/pass --yes/);
  });

  test('answering no aborts with exit 1 and replays nothing', async () => {
    let replays = 0;
    const r = await run(['replay', 'evt-1'], { answer: false, ops: { readStatus: async () => statusReport(), countSubscribers: async () => 3, replay: async () => {
        replays++;
        return replayResult;
      } } });
    expect(r.code).toBe(1);
    expect(r.asked).toEqual(['Replay the fan-out of evt-1?']);
    expect(replays).toBe(0);
  });

  test('--dry-run asks nothing and passes dryRun to the fan-out', async () => {
    const calls: unknown[] = [];
    const r = await run(['replay', 'evt-1', '--dry-run', '--json'], {
      ops: { readStatus: async () => statusReport(), countSubscribers: async () => 3, replay: async (k, o) => {
        calls.push([k, o.dryRun]);
        return { ...replayResult, dryRun: true, outcome: 'dry-run' as const };
      } },
    });
    expect(r.code).toBe(0);
    expect(r.asked).toEqual([]);
    expect(calls).toEqual([['evt-1', true]]);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: true, recipients: 150 });
  });

  test('an event that was rejected has nothing to replay: exit 1 saying why', async () => {
    const r = await run(['replay', 'evt-1', '--yes'], { ops: { readStatus: async () => statusReport({ fanout: null, rejected: { reason: 'bad json', field: null, receivedAtMs: 1 } }) } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no stored fan-out to replay \(it was rejected: bad json\)/);
  });
});

describe('restock redrive', () => {
  const redriven: RedriveResult = { eventKey: 'evt-1', states: ['exhausted'], deliveries: 1, tasks: 1, dryRun: false };

  test('defaults to exhausted deliveries, says how many, and with --yes re-enqueues them', async () => {
    const calls: unknown[] = [];
    const r = await run(['redrive', 'evt-1', '--yes', '--json'], { ops: { readStatus: async () => statusReport(), redrive: async (k, o) => {
      calls.push([k, o]);
      return redriven;
    } } });
    expect(r.code).toBe(0);
    expect(calls).toEqual([['evt-1', { states: ['exhausted'], dryRun: false }]]);
    expect(r.stderr).toMatch(/will re-enqueue 1 delivery of evt-1 in state exhausted/);
    expect(JSON.parse(r.stdout)).toEqual(redriven);
  });

  test('--state takes both states, comma-separated or repeated', async () => {
    const calls: unknown[] = [];
    const ops = { readStatus: async () => statusReport(), redrive: async (_k: string, o: { states: string[]; dryRun: boolean }) => {
      calls.push(o.states);
      return redriven;
    } };
    await run(['redrive', 'evt-1', '--state', 'exhausted,failed', '--yes'], { ops });
    await run(['redrive', 'evt-1', '--state', 'failed', '--state', 'exhausted', '--yes'], { ops });
    expect(calls).toEqual([['exhausted', 'failed'], ['failed', 'exhausted']]);
  });
});

describe('restock publish', () => {
  test('builds the event exactly as the inventory service does', () => {
    const event = buildInventoryEvent({ productId: 'sku-1', available: 12, previousAvailable: 0, sequence: 42, occurredAtMs: 1_700_000_000_000, name: 'Trail shoe' });
    expect(event).toEqual({ type: 'inventory.updated', version: 1, productId: 'sku-1', available: 12, previousAvailable: 0, sequence: 42, occurredAt: '2023-11-14T22:13:20.000Z', product: { name: 'Trail shoe' } });
  });

  test('a bad --url is a usage error naming the flag', () => {
    const attempt = () => buildInventoryEvent({ productId: 'sku-1', available: 1, sequence: 1, occurredAtMs: 0, url: 'not a url' });
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(/^--url:/);
  });

  test('publishes with a fresh UUID eventId, sequence defaulting to now, and prints both ids', async () => {
    const published: { topic: string; data: unknown; attributes: Record<string, string> }[] = [];
    const r = await run(['publish', '--product', 'sku-1', '--available', '5', '--json'], {
      nowMs: () => 1_700_000_000_000,
      ops: { publish: async (topic, data, attributes) => {
        published.push({ topic, data: JSON.parse(data.toString()), attributes });
        return 'msg-77';
      } },
    });
    expect(r.code).toBe(0);
    expect(published).toHaveLength(1);
    expect(published[0]!.topic).toBe('inventory-updated');
    expect(published[0]!.attributes.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(published[0]!.data).toMatchObject({ productId: 'sku-1', available: 5, sequence: 1_700_000_000_000 });
    expect(JSON.parse(r.stdout)).toMatchObject({ eventId: published[0]!.attributes.eventId, messageId: 'msg-77', topic: 'inventory-updated' });
  });
});

describe('restock dead-letters', () => {
  test('republished attributes are the original ones: dead-letter attributes dropped, eventId kept', () => {
    expect(republishAttributes(deadLetter())).toEqual({ eventId: 'evt-1' });
  });

  test('a message without eventId whose event key was recovered is republished with it as eventId, so dedup holds', () => {
    const m = deadLetter({ attributes: { origin: 'outbox', CloudPubSubDeadLetterSourceDeliveryCount: '5' }, eventId: null, eventKey: '1234567', eventKeySource: 'fanout-match' });
    expect(republishAttributes(m)).toEqual({ origin: 'outbox', eventId: '1234567' });
  });

  test('why a message died comes from the most specific record', () => {
    expect(whyItDied(deadLetter())).toBe('fan-out running: DEADLINE_EXCEEDED creating tasks');
    expect(whyItDied(deadLetter({ cause: { rejected: { reason: 'not JSON', field: null }, fanout: null } }))).toBe('rejected: not JSON');
    expect(whyItDied(deadLetter({ eventKey: null, cause: { rejected: null, fanout: null } }))).toMatch(/^unknown: no eventId and no matching fan-out after 5 delivery attempt/);
  });

  test('list shows each message and releases them all, acknowledging none', async () => {
    const settled: [string[], string][] = [];
    const r = await run(['dead-letters', 'list', '--json'], {
      ops: { pullDeadLetters: async () => [deadLetter(), deadLetter({ messageId: 'm2', ackId: 'ack-m2' })], settleDeadLetters: async (ms, how) => void settled.push([ms.map((m) => m.messageId), how]) },
    });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.count).toBe(2);
    expect(doc.messages[0]).toMatchObject({ messageId: 'm1', eventKey: 'evt-1', deliveryAttempts: 5, sourceSubscription: 'fan-out-restock', why: 'fan-out running: DEADLINE_EXCEEDED creating tasks' });
    expect(doc.messages[0].ackId).toBeUndefined();
    expect(settled).toEqual([[['m1', 'm2'], 'release']]);
  });

  test('replay acknowledges each message only after its publish resolved; a failed publish is released, not acknowledged, and exits 1', async () => {
    const events: string[] = [];
    const ops = {
      pullDeadLetters: async () => [deadLetter(), deadLetter({ messageId: 'm2', ackId: 'ack-m2', eventId: 'evt-2', eventKey: 'evt-2', attributes: { eventId: 'evt-2' } })],
      publish: async (_t: string, _d: Buffer, attributes: Record<string, string>) => {
        events.push(`publish ${attributes.eventId}`);
        if (attributes.eventId === 'evt-2') throw new Error('PERMISSION_DENIED');
        return 'new-1';
      },
      settleDeadLetters: async (ms: DeadLetter[], how: 'ack' | 'release') => void events.push(`${how} ${ms.map((m) => m.messageId).join(',')}`),
    };
    const r = await run(['dead-letters', 'replay', '--yes', '--json'], { ops });
    expect(r.code).toBe(1);
    expect(events).toEqual(['publish evt-1', 'ack m1', 'publish evt-2', 'release m2']);
    expect(JSON.parse(r.stdout).outcomes).toEqual([
      { messageId: 'm1', eventKey: 'evt-1', action: 'republished', newMessageId: 'new-1' },
      { messageId: 'm2', eventKey: 'evt-2', action: 'failed', error: 'PERMISSION_DENIED' },
    ]);
    expect(r.stderr).toMatch(/1 of 2 republish\(es\) failed/);
  });

  test('--message chooses by messageId or event key; the others are released untouched', async () => {
    const events: string[] = [];
    const ops = {
      pullDeadLetters: async () => [deadLetter(), deadLetter({ messageId: 'm2', ackId: 'ack-m2', eventKey: 'evt-2' })],
      publish: async () => {
        events.push('publish');
        return 'new';
      },
      settleDeadLetters: async (ms: DeadLetter[], how: 'ack' | 'release') => void events.push(`${how} ${ms.map((m) => m.messageId).join(',')}`),
    };
    const r = await run(['dead-letters', 'replay', '--message', 'evt-2', '--yes'], { ops });
    expect(r.code).toBe(0);
    expect(events).toEqual(['release m1', 'publish', 'ack m2']);
  });

  test('--dry-run says what it would republish and releases everything', async () => {
    const events: string[] = [];
    const r = await run(['dead-letters', 'replay', '--dry-run', '--json'], {
      ops: { pullDeadLetters: async () => [deadLetter()], settleDeadLetters: async (ms, how) => void events.push(`${how} ${ms.map((m) => m.messageId).join(',')}`) },
    });
    expect(r.code).toBe(0);
    expect(events).toEqual(['release m1']);
    expect(JSON.parse(r.stdout).outcomes).toEqual([{ messageId: 'm1', eventKey: 'evt-1', action: 'would-republish' }]);
    expect(r.stderr).toMatch(/would republish 1 of 1 dead letter\(s\) from inventory-updated-dead-letter to inventory-updated/);
  });
});

describe('replay and redrive without the settings tasks need', () => {
  test('refuse before asking anything, naming the missing variable (exit 2)', async () => {
    let replays = 0;
    const r = await run(['replay', 'evt-1', '--yes'], {
      ops: {
        readStatus: async () => statusReport(),
        countSubscribers: async () => 3,
        replay: async () => {
        replays++;
        return replayResult;
      },
        assertCanEnqueue: () => {
          throw new UsageError('this creates Cloud Tasks as the functions do: set RESTOCK_DELIVERY_URL', 'RESTOCK_DELIVERY_URL');
        },
      },
    });
    expect(r.code).toBe(2);
    expect(r.asked).toEqual([]);
    expect(replays).toBe(0);
    expect(r.stderr).toMatch(/set RESTOCK_DELIVERY_URL/);
  });
});
