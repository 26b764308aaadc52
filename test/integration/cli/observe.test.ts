/**
 * `restock publish`, `status`, `restocks`, `trace` and `subscribers`, run as the real
 * binary against the shared stack: a demo-sized restock (40 shoppers, 4 of
 * them with addresses the sink rejects) published by the CLI and followed to
 * the end by the CLI.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { RestocksReport } from '../../../cli/commands/restocks.ts';
import type { StatusReport } from '../../../cli/commands/status.ts';
import type { SubscribersReport } from '../../../cli/commands/subscribers.ts';
import type { TraceReport } from '../../../cli/commands/trace.ts';
import { seedSubscribers, stack, uniqueProductId } from '../../helpers/index.ts';
import { restock, restockJson, type CliRun } from '../../helpers/cli.ts';

const AUDIENCE = 40;
const REJECTED = 4;
const userId = (i: number) => `user-${String(i).padStart(2, '0')}`;

describe('restock CLI: following a restock from publish to settled', () => {
  const s = stack();
  const productId = uniqueProductId('cli-observe');
  let published: CliRun;
  let eventId: string;

  beforeAll(async () => {
    await seedSubscribers(productId, AUDIENCE, { email: (i, id) => (i % 10 === 3 ? `${id}@invalid.example` : `${id}@example.com`) });
    published = await restock(['publish', '--product', productId, '--available', '12', '--previous', '0', '--name', 'Trail shoe', '--json'], { stack: s.description });
    eventId = (JSON.parse(published.stdout) as { eventId: string }).eventId;
  });

  test('publish prints one JSON document with the new eventId, the messageId and the event it sent', () => {
    expect(published.code).toBe(0);
    const doc = JSON.parse(published.stdout);
    expect(doc.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(doc.messageId).toMatch(/^\S+$/);
    expect(doc.topic).toBe(s.description.topic);
    expect(doc.event).toMatchObject({ type: 'inventory.updated', version: 1, productId, available: 12, previousAvailable: 0, product: { name: 'Trail shoe' } });
    expect(published.stderr).toContain(`project ${s.description.projectId} on emulators`);
  });

  test('status --watch returns once the event is settled, with every delivery counted by state', async () => {
    const report = await restockJson<StatusReport>(['status', eventId, '--watch', '--interval', '300', '--timeout', '90'], { stack: s.description, timeoutMs: 100_000 });
    expect(report.settled).toBe(true);
    expect(report.fanout).toMatchObject({ eventKey: eventId, productId, state: 'complete', recipients: AUDIENCE });
    expect(report.deliveries).toEqual({ sending: 0, sent: AUDIENCE - REJECTED, failed: 0, rejected: REJECTED, exhausted: 0, unsubscribed: 0, soldOutBeforeSend: 0, held: 0, total: AUDIENCE });
    expect(report.oldestPending).toBeNull();
    expect(report.lastErrors.map((e) => e.state)).toEqual(Array(REJECTED).fill('rejected'));
    const sink = await s.sink.stats(productId);
    expect(sink.delivered).toBe(AUDIENCE - REJECTED);
  });

  test('restocks lists it among the last day\'s restocks, told of its audience and its failures counted', async () => {
    const report = await restockJson<RestocksReport>(['restocks', '--limit', '500'], { stack: s.description });
    const row = report.restocks.find((r) => r.fanout.eventKey === eventId);
    expect(row).toMatchObject({ told: AUDIENCE - REJECTED, audience: AUDIENCE, failures: REJECTED, fanout: { productId, state: 'complete' } });
    expect(report.restocks.every((r) => r.fanout.state !== 'ignored')).toBe(true);
    const human = await restock(['restocks', '--limit', '500'], { stack: s.description });
    expect(human.stdout).toMatch(new RegExp(`${eventId}\\s+${productId}\\s+complete\\s+${AUDIENCE - REJECTED}/${AUDIENCE} told\\s+${REJECTED} failure\\(s\\)`));
  });

  test('trace --user shows a sent delivery and the one-shot subscription gone', async () => {
    const report = await restockJson<TraceReport>(['trace', '--user', userId(1), '--product', productId], { stack: s.description });
    expect(report.subscriptions).toEqual([]);
    const event = report.events.find((e) => e.eventKey === eventId);
    expect(event?.fanout?.state).toBe('complete');
    expect(event?.deliveries).toHaveLength(1);
    expect(event?.deliveries[0]).toMatchObject({ userId: userId(1), channel: 'email', state: 'sent', attempts: 1, lastError: null });
    expect(event?.deliveries[0]?.sentAtMs).toEqual(expect.any(Number));
  });

  test('trace --user of a rejected address says rejected, with the reason, and no subscription left', async () => {
    // Without --product, trace spans every product; other files on the shared stack seed the same user ids.
    const report = await restockJson<TraceReport>(['trace', '--user', userId(3)], { stack: s.description });
    expect(report.subscriptions.filter((sub) => sub.productId === productId)).toEqual([]);
    const delivery = report.events.find((e) => e.eventKey === eventId)?.deliveries[0];
    expect(delivery).toMatchObject({ state: 'rejected', sentAtMs: null });
    expect(delivery?.lastError).toEqual(expect.stringMatching(/\S/));
  });

  test('human trace output names the event, the state and never the address', async () => {
    const r = await restock(['trace', '--user', userId(3), '--product', productId], { stack: s.description });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(eventId);
    expect(r.stdout).toMatch(/email\s+rejected/);
    expect(r.stdout).not.toContain('@invalid.example');
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  test('subscribers --count counts those still waiting (none after a restock), and lists them otherwise', async () => {
    const other = uniqueProductId('cli-subs');
    await seedSubscribers(other, 7, { channels: ['email', 'push'] });
    const counted = await restockJson<SubscribersReport>(['subscribers', productId, '--count'], { stack: s.description });
    const listed = await restockJson<SubscribersReport>(['subscribers', other, '--limit', '5'], { stack: s.description });
    expect(counted).toEqual({ productId, count: 0 });
    expect(listed.count).toBe(7);
    expect(listed.truncated).toBe(true);
    expect(listed.subscribers?.map((x) => x.userId)).toEqual(['user-0', 'user-1', 'user-2', 'user-3', 'user-4']);
    expect(listed.subscribers?.[0]?.channels).toEqual(['email', 'push']);
  });

  test('status of an event nobody recorded exits 1 with one line on stderr and, with --json, the error document on stdout', async () => {
    const r = await restock(['status', 'no-such-event', '--json'], { stack: s.description });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { name: 'NotFoundError', message: 'no outbox row, fan-out, rejected event or delivery is recorded for event no-such-event', exitCode: 1, field: 'no-such-event' },
    });
    const errorLines = r.stderr.split('\n').filter((l) => l.includes('error'));
    expect(errorLines).toEqual(['restock: error: no outbox row, fan-out, rejected event or delivery is recorded for event no-such-event']);
  });

  test('with no emulator variables, the CLI finds the stack through its state file and says which it uses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'restock-cli-'));
    const file = join(dir, 'stack.json');
    writeFileSync(file, JSON.stringify(s.description));
    const r = await restock(['subscribers', productId, '--count', '--json'], { env: { RESTOCK_STACK_FILE: file } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ productId, count: 0 });
    expect(r.stderr).toContain(`restock: local stack ${file}: project ${s.description.projectId} on emulators (firestore ${s.description.firestore}`);
  });

  test('with no target at all, the CLI refuses with a usage error', async () => {
    const r = await restock(['status', eventId]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no pipeline to talk to: pass --project/);
  });
});
