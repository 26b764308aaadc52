import { describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '../../../emulators/cloud-tasks/errors.ts';
import { generateTaskId, parseLocationName, parseQueueName, parseTaskName } from '../../../emulators/cloud-tasks/names.ts';

describe('resource names', () => {
  test('a queue name splits into its location and QUEUE_ID', () => {
    expect(parseQueueName('projects/my-proj/locations/us-central1/queues/q-1')).toEqual({
      parent: 'projects/my-proj/locations/us-central1',
      queueId: 'q-1',
      name: 'projects/my-proj/locations/us-central1/queues/q-1',
    });
  });

  test('domain-scoped project ids (colons, periods) are accepted', () => {
    expect(parseLocationName('projects/example.com:proj/locations/europe-west1')).toBe('projects/example.com:proj/locations/europe-west1');
  });

  test('a task name yields its queue and TASK_ID; underscores are allowed in task ids', () => {
    const n = parseTaskName('projects/p/locations/l/queues/q/tasks/chunk_0001-a');
    expect(n.queue).toBe('projects/p/locations/l/queues/q');
    expect(n.taskId).toBe('chunk_0001-a');
  });

  test.each([
    ['underscore in a queue id', 'projects/p/locations/l/queues/bad_queue'],
    ['queue id over 100 characters', `projects/p/locations/l/queues/${'q'.repeat(101)}`],
    ['missing locations segment', 'projects/p/queues/q'],
    ['empty', ''],
  ])('a queue name with %s is INVALID_ARGUMENT naming the field', (_why, name) => {
    const err = (() => {
      try {
        parseQueueName(name, 'parent');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).field).toBe('parent');
    expect((err as InvalidArgumentError).code).toBe(3);
  });

  test.each([
    ['a space', 'has space'],
    ['a period', 'a.b'],
    ['over 500 characters', 't'.repeat(501)],
    ['nothing', ''],
  ])('a task id with %s is refused', (_why, id) => {
    expect(() => parseTaskName(`projects/p/locations/l/queues/q/tasks/${id}`)).toThrow(InvalidArgumentError);
  });

  test('a 500-character task id is accepted', () => {
    expect(parseTaskName(`projects/p/locations/l/queues/q/tasks/${'t'.repeat(500)}`).taskId).toHaveLength(500);
  });

  test('generated task ids are 19 digits, valid, and differ', () => {
    const ids = new Set(Array.from({ length: 100 }, generateTaskId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[1-9]\d{18}$/);
  });
});
