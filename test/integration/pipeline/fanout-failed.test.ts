/**
 * Nothing stays `running` forever (docs/design.md fan-out states): a fan-out that
 * can no longer progress ends `failed` with its error, is logged as
 * `fan-out failed` at ERROR (the alert's message), shows in `restock status`,
 * and a replay finishes it.
 *
 * Two ways to get there: the queue refuses a task for good (PERMISSION_DENIED:
 * no retry changes that), and a continuation that fails on the queue's last
 * attempt (nobody else would ever continue it).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, onTestFinished, test } from 'vitest';
import type { StatusReport } from '../../../cli/commands/status.ts';
import type { ReceivedEvent } from '../../../lib/events/index.ts';
import { handleFanout, replayFanout, type ReplayResult } from '../../../lib/fanout/handle.ts';
import { Logger } from '../../../lib/log.ts';
import { COLLECTIONS, type FanoutDoc } from '../../../lib/model.ts';
import { inventoryEvent, seedSubscribers, signedTaskHeaders, stack, waitFor } from '../../helpers/index.ts';
import { startTestIssuer } from '../../helpers/test-issuer.ts';
import { startFunction } from '../../helpers/function-process.ts';
import { restockJson } from '../../helpers/cli.ts';
import { runtimeFor } from '../faults/support.ts';
import { expectNotifiedExactlyOnce, fanoutDoc, waitForDelivered } from './assertions.ts';

/** A Cloud Tasks client whose every createTask fails with this gRPC code. */
function refusingQueue(code: number, details: string): CloudTasksClient {
  return { createTask: async () => Promise.reject(Object.assign(new Error(`${code} ${details}`), { code, details })) } as unknown as CloudTasksClient;
}

function capturingLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { log: new Logger({ test: true }, 'INFO', (line) => lines.push(JSON.parse(line) as Record<string, unknown>)), lines };
}

describe('a fan-out that cannot progress', () => {
  const on = stack();
  const stackFile = join(mkdtempSync(join(tmpdir(), 'restock-failed-')), 'stack.json');
  writeFileSync(stackFile, JSON.stringify(on.description));
  const cli = { env: { RESTOCK_STACK_FILE: stackFile }, timeoutMs: 100_000 };

  test('because the queue refuses for good ends failed with its error, alerts, shows in restock status, and a replay delivers everyone', async () => {
    // Prepare
    const event = inventoryEvent();
    const subs = await seedSubscribers(event.productId, 30, { on });
    const { log, lines } = capturingLogger();
    const rt = { ...runtimeFor(on), tasks: refusingQueue(7, 'PERMISSION_DENIED: cloudtasks.tasks.create denied'), log };
    const eventKey = `m-${event.productId}`;
    const received: ReceivedEvent = { kind: 'event', eventKey, messageId: eventKey, attributes: {}, event: { ...event, type: 'inventory.updated', version: 1 } };

    // Act
    const outcome = await handleFanout(rt, received, log.child({ eventKey, productId: event.productId }));

    // Assess: acknowledged as failed, recorded with its error, the lease free, one alertable line.
    expect(outcome).toMatchObject({ kind: 'failed', eventKey, productId: event.productId, error: expect.stringContaining('PERMISSION_DENIED') });
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'failed', error: expect.stringContaining('PERMISSION_DENIED'), leaseOwner: null });
    const alerts = lines.filter((l) => l.message === 'fan-out failed');
    expect(alerts).toEqual([expect.objectContaining({ severity: 'ERROR', eventKey, productId: event.productId, error: expect.stringContaining('PERMISSION_DENIED') })]);

    // ...a redelivery of the event does not reopen it by itself...
    const again = await handleFanout(runtimeFor(on), received, runtimeFor(on).log);
    expect(again).toMatchObject({ kind: 'duplicate', state: 'failed' });

    // ...restock status shows it...
    const status = await restockJson<StatusReport>(['status', eventKey], cli);
    expect(status.fanout).toMatchObject({ state: 'failed', error: expect.stringContaining('PERMISSION_DENIED') });

    // ...and a replay, once the queue accepts tasks again, tells everyone once.
    const replay = await restockJson<ReplayResult>(['replay', eventKey, '--yes'], cli);
    expect(replay).toMatchObject({ outcome: 'completed', generation: 1, recipients: 30 });
    await waitForDelivered(event.productId, 30, { on });
    await expectNotifiedExactlyOnce(eventKey, event.productId, subs.map((s) => s.userId), { on });
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'complete' });
  });

  test("whose continuation fails on the queue's last attempt ends failed; on an earlier attempt it stays running for the retry", async () => {
    // Prepare: a fan-out handed over to a continuation (lease released), then a queue that is down.
    const event = inventoryEvent();
    await seedSubscribers(event.productId, 10, { on });
    const eventKey = `m-${event.productId}`;
    const nowMs = Date.now();
    const handedOver: FanoutDoc = {
      eventKey,
      productId: event.productId,
      state: 'running',
      event: { ...event },
      product: { available: event.available },
      leaseOwner: null,
      leaseExpiresAtMs: 0,
      cursor: null,
      generation: 0,
      attempts: 1,
      pages: 0,
      chunks: 0,
      recipients: 0,
      startedAtMs: nowMs,
      updatedAtMs: nowMs,
    };
    await on.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).set(handedOver);
    const { log, lines } = capturingLogger();
    const rt = { ...runtimeFor(on), tasks: refusingQueue(14, 'UNAVAILABLE: queue unreachable'), log };

    // Act + Assess: an earlier attempt fails, and leaves the fan-out for the next one...
    await expect(handleFanout(rt, { kind: 'continuation', eventKey }, log, { lastAttempt: false })).rejects.toMatchObject({ name: 'EnqueueError' });
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'running', leaseOwner: null });

    // ...the last one records it failed.
    const outcome = await handleFanout(rt, { kind: 'continuation', eventKey }, log, { lastAttempt: true });
    expect(outcome).toMatchObject({ kind: 'failed', error: expect.stringContaining('UNAVAILABLE') });
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'failed', leaseOwner: null });
    expect(lines.filter((l) => l.message === 'fan-out failed')).toEqual([expect.objectContaining({ severity: 'ERROR', eventKey, productId: event.productId })]);
  });

  test("through the function: a continuation request on the queue's last attempt that cannot finish is acknowledged as failed", async () => {
    // Prepare: a stored fan-out whose paging cannot even start (its product id is not a document id).
    const eventKey = `broken-${Date.now()}`;
    const nowMs = Date.now();
    await on.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).set({
      eventKey, productId: '', state: 'running', event: {}, product: { available: 1 }, leaseOwner: null, leaseExpiresAtMs: 0, cursor: null,
      generation: 0, attempts: 1, pages: 0, chunks: 0, recipients: 0, startedAtMs: nowMs, updatedAtMs: nowMs,
    } satisfies FanoutDoc);
    const maxAttempts = Number(on.description.env.RESTOCK_DELIVERY_MAX_ATTEMPTS);
    // The function verifies a continuation's caller: a token of the tasks service account, from an issuer of the test's own.
    const issuer = await startTestIssuer();
    const audience = 'https://fanout.failed.example/';
    const fanout = await startFunction('fanOutRestock', { RESTOCK_OIDC_ISSUERS: issuer.issuer, RESTOCK_OIDC_JWKS_URL: issuer.jwksUrl, RESTOCK_FANOUT_URL: audience });
    onTestFinished(async () => {
      fanout.stop();
      await issuer.close();
    });
    const authorization = await issuer.bearer(on.description.env.RESTOCK_TASKS_SERVICE_ACCOUNT!, audience);
    const send = (retryCount: number) =>
      fetch(fanout.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-type': 'restock.fanout.continue',
          'ce-source': '//restock/fanout',
          'ce-id': `c-${retryCount}`,
          'x-cloudtasks-taskretrycount': String(retryCount),
          authorization,
          // Signed as fan-out signs its own continuations (issue 31, item 1).
          ...signedTaskHeaders(on.description, audience, JSON.stringify({ eventKey })),
        },
        body: JSON.stringify({ eventKey }),
      });

    // Act + Assess: before the last attempt, a 500 problem (retried) and still running...
    const early = await send(0);
    expect(early.status, await early.clone().text()).toBe(500);
    expect(early.headers.get('content-type')).toBe('application/problem+json');
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'running' });

    // ...on the last, acknowledged and failed.
    const last = await send(maxAttempts - 1);
    expect(last.status).toBe(200);
    expect(await last.json()).toMatchObject({ outcome: 'failed', eventKey });
    const doc = await waitFor(async () => ((await fanoutDoc(eventKey, on))?.state === 'failed' ? fanoutDoc(eventKey, on) : undefined), { what: 'the fan-out failed' });
    expect(doc?.error).toEqual(expect.any(String));
  });

  test('a replay that cannot finish leaves the fan-out failed with the error, not running', async () => {
    // Prepare: a completed fan-out to replay, and a queue that is down.
    const event = inventoryEvent();
    await seedSubscribers(event.productId, 5, { on });
    const eventKey = `m-${event.productId}`;
    const nowMs = Date.now();
    await on.firestore.collection(COLLECTIONS.fanouts).doc(eventKey).set({
      eventKey, productId: event.productId, state: 'complete', event: { ...event }, product: { available: event.available }, leaseOwner: null, leaseExpiresAtMs: 0,
      cursor: 'user-4', generation: 0, attempts: 1, pages: 1, chunks: 1, recipients: 5, startedAtMs: nowMs, updatedAtMs: nowMs, completedAtMs: nowMs,
    } satisfies FanoutDoc);
    const { log, lines } = capturingLogger();

    // Act
    const replay = replayFanout({ ...runtimeFor(on), tasks: refusingQueue(14, 'UNAVAILABLE: queue unreachable'), log }, eventKey, { dryRun: false });

    // Assess
    await expect(replay).rejects.toMatchObject({ name: 'EnqueueError' });
    expect(await fanoutDoc(eventKey, on)).toMatchObject({ state: 'failed', generation: 1, leaseOwner: null, error: expect.stringContaining('UNAVAILABLE') });
    expect(lines.filter((l) => l.message === 'fan-out failed')).toHaveLength(1);
  });
});
