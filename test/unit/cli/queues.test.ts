import { describe, expect, test } from 'vitest';
import type { QueueAction, QueueView } from '../../../cli/commands/queues.ts';
import { run } from './fakes.ts';

const P = 'projects/restock-local/locations/us-central1/queues';

function view(id: string, role: QueueView['role'], shard: number | null, tasks: number | null, state = 'RUNNING'): QueueView {
  return { name: `${P}/${id}`, id, role, shard, state, tasks, maxDispatchesPerSecond: 500, maxConcurrentDispatches: 32, maxAttempts: 10 };
}

/** Three delivery queues and the continuation queue, as a pipeline with RESTOCK_TASKS_QUEUE_COUNT=3 has them. */
const QUEUES: QueueView[] = [
  view('restock-deliveries', 'delivery', 0, 12),
  view('restock-deliveries-1', 'delivery', 1, 7),
  view('restock-deliveries-2', 'delivery', 2, 0),
  view('restock-continuations', 'continuation', null, 1),
];

function recording() {
  const calls: [QueueAction, string[]][] = [];
  return {
    calls,
    ops: {
      readQueues: async () => QUEUES,
      changeQueues: async (action: QueueAction, names: readonly string[]) => {
        calls.push([action, [...names]]);
        return QUEUES.filter((q) => names.includes(q.name)).map((q) => ({ ...q, state: action === 'pause' ? 'PAUSED' : 'RUNNING', tasks: action === 'purge' ? 0 : q.tasks }));
      },
    },
  };
}

describe('restock queues', () => {
  test('lists every delivery queue and the continuation queue, with their tasks and the delivery total', async () => {
    const r = await run(['queues'], { ops: recording().ops });
    expect(r.code).toBe(0);
    for (const id of ['restock-deliveries ', 'restock-deliveries-1', 'restock-deliveries-2', 'restock-continuations']) expect(r.stdout).toContain(id);
    expect(r.stdout).toMatch(/restock-deliveries-1\s+delivery 1\s+RUNNING\s+7/);
    expect(r.stdout).toMatch(/restock-continuations\s+continuation\s+RUNNING\s+1/);
    expect(r.stdout).toContain('3 delivery queues, 19 delivery task(s) in all');
  });

  test('--json carries every queue, with or without the default `list` named', async () => {
    for (const argv of [['queues', 'list', '--json'], ['queues', '--json']]) {
      const r = await run(argv, { ops: recording().ops });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).queues.map((q: QueueView) => q.id)).toEqual(QUEUES.map((q) => q.id));
    }
  });

  test('pause --all pauses every queue of the pipeline, after asking', async () => {
    const rec = recording();
    const r = await run(['queues', 'pause', '--all'], { answer: true, ops: rec.ops });
    expect(r.code).toBe(0);
    expect(r.asked).toHaveLength(1);
    expect(r.asked[0]).toContain('restock-deliveries, restock-deliveries-1, restock-deliveries-2, restock-continuations');
    expect(rec.calls).toEqual([['pause', QUEUES.map((q) => q.name)]]);
    expect(r.stdout.match(/PAUSED/g)).toHaveLength(4);
  });

  test('resume takes queues by id and asks nothing', async () => {
    const rec = recording();
    const r = await run(['queues', 'resume', 'restock-deliveries-2', 'restock-deliveries'], { ops: rec.ops });
    expect(r.code).toBe(0);
    expect(r.asked).toEqual([]);
    expect(rec.calls).toEqual([['resume', [`${P}/restock-deliveries`, `${P}/restock-deliveries-2`]]]);
  });

  test('purge without --yes and without a terminal refuses and purges nothing', async () => {
    const rec = recording();
    const r = await run(['queues', 'purge', '--all'], { answer: undefined, ops: rec.ops });
    expect(r.code).toBe(2);
    expect(rec.calls).toEqual([]);
  });

  test('a queue that is not one of the pipeline\u2019s is refused with a usage error naming it and listing the real ones', async () => {
    const rec = recording();
    const r = await run(['queues', 'pause', 'restock-deliveries-7', '--yes'], { ops: rec.ops });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not a queue of this pipeline: restock-deliveries-7');
    expect(r.stderr).toContain('restock-continuations');
    expect(rec.calls).toEqual([]);
  });

  test('naming queues and --all together, or neither, is a usage error', async () => {
    expect((await run(['queues', 'pause', '--yes'], { ops: recording().ops })).code).toBe(2);
    expect((await run(['queues', 'pause', 'restock-deliveries', '--all', '--yes'], { ops: recording().ops })).code).toBe(2);
  });
});
