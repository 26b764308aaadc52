import { describe, expect, test } from 'vitest';
import { msToWireTime, taskToWire, viewOf, wireTimeToMs } from '../../../emulators/cloud-tasks/codec.ts';
import { etaHeader, rpcCodeForHttpStatus } from '../../../emulators/cloud-tasks/dispatcher.ts';
import type { TaskRecord } from '../../../emulators/cloud-tasks/model.ts';

const task = (over: Partial<TaskRecord> = {}): TaskRecord => ({
  name: { queue: 'projects/p/locations/l/queues/q', taskId: 't', name: 'projects/p/locations/l/queues/q/tasks/t' },
  http: { url: 'http://x/', httpMethod: 'POST', headers: { A: 'b' }, body: Buffer.from('payload') },
  scheduleTimeMs: 1_700_000_000_250,
  createTimeMs: 1_700_000_000_999,
  dispatchDeadlineMs: 600_000,
  dispatchCount: 2,
  responseCount: 1,
  executionCount: 1,
  inFlight: 0,
  firstAttempt: { scheduleTimeMs: 1, dispatchTimeMs: 2, responseTimeMs: 3, responseCode: 14 },
  lastAttempt: { scheduleTimeMs: 10, dispatchTimeMs: 20, responseTimeMs: 30, responseCode: 5, responseMessage: 'HTTP 404' },
  ...over,
});

describe('wire conversions', () => {
  test('Timestamps and Durations round-trip through milliseconds', () => {
    for (const ms of [0, 1, 999, 1000, 1_700_000_000_123]) expect(wireTimeToMs(msToWireTime(ms))).toBe(ms);
    expect(wireTimeToMs({ seconds: '30' })).toBe(30_000);
    expect(wireTimeToMs(undefined)).toBeUndefined();
  });

  test('a task in the BASIC view has no body; in FULL it has', () => {
    expect(taskToWire(task(), 'BASIC').httpRequest?.body).toBeUndefined();
    expect(Buffer.from(taskToWire(task(), 'FULL').httpRequest!.body as Uint8Array).toString()).toBe('payload');
  });

  test('create_time is truncated to the second; the first attempt keeps only its dispatch time', () => {
    const wire = taskToWire(task(), 'BASIC');
    expect(wire.createTime).toEqual({ seconds: 1_700_000_000, nanos: 0 });
    expect(wire.firstAttempt).toEqual({ dispatchTime: { seconds: 0, nanos: 2_000_000 } });
    expect(wire.lastAttempt?.responseStatus).toEqual({ code: 5, message: 'HTTP 404' });
  });

  test('an unspecified response view means BASIC', () => {
    expect([viewOf(undefined), viewOf('VIEW_UNSPECIFIED'), viewOf(1), viewOf('FULL'), viewOf(2)]).toEqual(['BASIC', 'BASIC', 'BASIC', 'FULL', 'FULL']);
  });
});

describe('dispatch details', () => {
  test.each([
    [200, 0],
    [204, 0],
    [404, 5],
    [429, 8],
    [503, 14],
    [504, 4],
    [500, 13],
    [418, 9],
  ])('HTTP %i is recorded as google.rpc.Code %i', (status, code) => {
    expect(rpcCodeForHttpStatus(status)).toBe(code);
  });

  test('X-CloudTasks-TaskETA is seconds since the epoch with a fraction', () => {
    expect(etaHeader(1_700_000_000_250)).toBe('1700000000.250000');
  });
});
