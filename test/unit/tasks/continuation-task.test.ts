/**
 * The continuation task's contract (lib/tasks/continuation-task.ts): what the
 * fan-out enqueues toward itself is exactly what `fanOutRestock` reads back,
 * on the continuation queue, marked as a continuation by its headers alone;
 * anything else in such a body is refused naming the field.
 */
import type { CloudTasksClient } from '@google-cloud/tasks';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../../lib/config.ts';
import { parseIncoming } from '../../../lib/events/index.ts';
import { CONTINUATION_CLOUDEVENT_TYPE, continuationQueuePath, enqueueContinuationTask, InvalidContinuationTaskError, parseContinuationTask } from '../../../lib/tasks/index.ts';

const config = parseConfig({ GOOGLE_CLOUD_PROJECT: 'p', RESTOCK_FANOUT_URL: 'https://fanout.example/', RESTOCK_NOTIFIER: 'log' });

interface Created {
  parent: string;
  task: { name: string; scheduleTime?: { seconds: number }; httpRequest: { url: string; headers: Record<string, string>; body: Buffer } };
}

function recordingClient(): { client: CloudTasksClient; created: Created[] } {
  const created: Created[] = [];
  return { created, client: { createTask: async (req: Created) => void created.push(req) } as unknown as CloudTasksClient };
}

describe('a continuation task', () => {
  test.each([
    ['the fan-out\u2019s own chain', { taskId: 'evt-1-c0-start' }, { kind: 'continuation', eventKey: 'evt-1' }],
    ['a key range', { taskId: 'evt-1-g2r3', range: { generation: 2, index: 3 } }, { kind: 'continuation', eventKey: 'evt-1', range: { generation: 2, index: 3 } }],
  ])('enqueued for %s, is read back by the fan-out as what was sent', async (_what, task, expected) => {
    // Prepare
    const { client, created } = recordingClient();
    // Act
    await enqueueContinuationTask(client, config, 'evt-1', task);
    const [sent] = created;
    const incoming = parseIncoming({ headers: sent!.task.httpRequest.headers, body: JSON.parse(sent!.task.httpRequest.body.toString('utf8')) });
    // Assess: on the continuation queue, toward the fan-out, marked by its CloudEvent type.
    expect(sent!.parent).toBe(continuationQueuePath(config));
    expect(sent!.task.httpRequest.url).toBe('https://fanout.example/');
    expect(sent!.task.httpRequest.headers['ce-type']).toBe(CONTINUATION_CLOUDEVENT_TYPE);
    expect(incoming).toEqual(expected);
  });

  test('a later wave is scheduled for its time', async () => {
    const { client, created } = recordingClient();
    await enqueueContinuationTask(client, config, 'evt-1', { taskId: 'evt-1-w2', scheduleTimeMs: 1_800_000_000_000 });
    expect(created[0]!.task.scheduleTime?.seconds).toBe(1_800_000_000);
  });

  test.each([
    [{}, 'eventKey', 'is required'],
    [{ eventKey: 'a/b' }, 'eventKey', 'must be the key of a stored fan-out'],
    [{ eventKey: 'e', range: { generation: -1, index: 0 } }, 'range.generation', 'Too small'],
    [{ eventKey: 'e', range: { generation: 1 } }, 'range.index', 'is required'],
    [{ eventKey: 'e', userIds: ['u1'] }, 'userIds', 'is not a known field'],
  ])('refuses %j naming %s', (body, field, problem) => {
    const err = (() => {
      try {
        parseContinuationTask(body);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidContinuationTaskError);
    expect((err as InvalidContinuationTaskError).field).toBe(field);
    expect((err as InvalidContinuationTaskError).problem).toContain(problem);
  });
});
