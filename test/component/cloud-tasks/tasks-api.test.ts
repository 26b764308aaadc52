/**
 * Task methods through Google's Node client over gRPC and the REST fallback:
 * named and unnamed creation, duplicate names and the reuse window, get/list
 * with views and paging, delete, and the INVALID_ARGUMENT / NOT_FOUND cases.
 */
import { CloudTasksClient, type protos } from '@google-cloud/tasks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { tasksClientOptions } from '../../../lib/clients.ts';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../../emulators/cloud-tasks/index.ts';
import { clientFor, codeOf, duration, sleep, startReceiver, TRANSPORTS, uniqueQueue, type Receiver } from './helpers.ts';

const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;
const INVALID_ARGUMENT = 3;
const inAnHour = (): { seconds: number } => ({ seconds: Math.floor(Date.now() / 1000) + 3600 });

let emulator: CloudTasksEmulator;
let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver(() => 200);
  emulator = await startCloudTasksEmulator({ port: 0, logLevel: 'warn' });
});
afterAll(async () => {
  await emulator?.stop();
  await receiver?.close();
});

describe.each(TRANSPORTS)('tasks over %s', (transport) => {
  let client: CloudTasksClient;
  beforeAll(() => {
    client = clientFor(emulator, transport);
  });
  afterAll(async () => {
    await client.close();
  });

  async function newQueue(): Promise<string> {
    const name = uniqueQueue(transport);
    await client.createQueue({ parent: name.replace(/\/queues\/.*$/, ''), queue: { name } });
    return name;
  }

  test('a named task is created as asked and readable until it runs', async () => {
    // Prepare
    const queue = await newQueue();
    const name = `${queue}/tasks/chunk-0001`;
    // Act
    const [created] = await client.createTask({
      parent: queue,
      task: { name, scheduleTime: inAnHour(), httpRequest: { url: `${receiver.url}/deliver`, httpMethod: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"a":1}') } },
    });
    const [got] = await client.getTask({ name });
    // Assess
    expect(created.name).toBe(name);
    expect(got.httpRequest).toMatchObject({ url: `${receiver.url}/deliver`, httpMethod: 'POST', headers: { 'Content-Type': 'application/json' } });
    expect(got.dispatchDeadline).toMatchObject({ seconds: '600' });
    expect(got.dispatchCount).toBe(0);
    expect(got.createTime?.seconds).toBeDefined();
  });

  test('an unnamed task gets a system-generated id in its queue', async () => {
    const queue = await newQueue();
    const [created] = await client.createTask({ parent: queue, task: { scheduleTime: inAnHour(), httpRequest: { url: receiver.url } } });
    expect(created.name).toMatch(new RegExp(`^${queue}/tasks/\\d{19}$`));
  });

  test('a second task with a waiting task’s name is ALREADY_EXISTS', async () => {
    const queue = await newQueue();
    const task = { name: `${queue}/tasks/dup`, scheduleTime: inAnHour(), httpRequest: { url: receiver.url } };
    await client.createTask({ parent: queue, task });
    expect(await codeOf(client.createTask({ parent: queue, task }))).toBe(ALREADY_EXISTS);
  });

  test('the name of a task that ran is ALREADY_EXISTS within the reuse window, and free after resetTaskNameReuse', async () => {
    // Prepare
    const queue = await newQueue();
    const task = { name: `${queue}/tasks/ran`, httpRequest: { url: `${receiver.url}/ran-${transport}` } };
    await client.createTask({ parent: queue, task });
    await waitUntilGone(client, task.name);
    // Act
    const during = await codeOf(client.createTask({ parent: queue, task }));
    emulator.resetTaskNameReuse();
    const after = await codeOf(client.createTask({ parent: queue, task }));
    // Assess
    expect(during).toBe(ALREADY_EXISTS);
    expect(after).toBeUndefined();
  });

  test('a deleted task is NOT_FOUND and its name is barred for the reuse window', async () => {
    const queue = await newQueue();
    const task = { name: `${queue}/tasks/deleted`, scheduleTime: inAnHour(), httpRequest: { url: receiver.url } };
    await client.createTask({ parent: queue, task });
    await client.deleteTask({ name: task.name });
    expect(await codeOf(client.getTask({ name: task.name }))).toBe(NOT_FOUND);
    expect(await codeOf(client.deleteTask({ name: task.name }))).toBe(NOT_FOUND);
    expect(await codeOf(client.createTask({ parent: queue, task }))).toBe(ALREADY_EXISTS);
  });

  test('list pages through 25 tasks ten at a time', async () => {
    // Prepare
    const queue = await newQueue();
    for (let i = 0; i < 25; i++) await client.createTask({ parent: queue, task: { name: `${queue}/tasks/t${i}`, scheduleTime: inAnHour(), httpRequest: { url: receiver.url } } });
    // Act
    const sizes: number[] = [];
    const names = new Set<string>();
    type ListRequest = protos.google.cloud.tasks.v2.IListTasksRequest;
    let request: ListRequest | null = { parent: queue, pageSize: 10 };
    while (request) {
      const [page, next]: [protos.google.cloud.tasks.v2.ITask[], ListRequest | null, unknown] = await client.listTasks(request, { autoPaginate: false });
      sizes.push(page.length);
      page.forEach((t) => names.add(t.name!));
      request = next;
    }
    // Assess
    expect(sizes).toEqual([10, 10, 5]);
    expect(names.size).toBe(25);
  });

  test('the BASIC view leaves out the body; FULL includes it', async () => {
    const queue = await newQueue();
    const name = `${queue}/tasks/viewed`;
    await client.createTask({ parent: queue, task: { name, scheduleTime: inAnHour(), httpRequest: { url: receiver.url, body: Buffer.from('secret payload') } } });
    const [basic] = await client.getTask({ name });
    const [full] = await client.getTask({ name, responseView: 'FULL' });
    const [listed] = await client.listTasks({ parent: queue, responseView: 'FULL' });
    expect(basic.view).toBe('BASIC');
    expect(basic.httpRequest?.body ?? Buffer.alloc(0)).toHaveLength(0);
    expect(full.view).toBe('FULL');
    expect(Buffer.from(full.httpRequest!.body as Uint8Array).toString()).toBe('secret payload');
    expect(Buffer.from(listed[0]!.httpRequest!.body as Uint8Array).toString()).toBe('secret payload');
  });

  test('an unknown queue is NOT_FOUND for create, list and get', async () => {
    const missing = uniqueQueue('missing');
    expect(await codeOf(client.createTask({ parent: missing, task: { httpRequest: { url: receiver.url } } }))).toBe(NOT_FOUND);
    expect(await codeOf(client.listTasks({ parent: missing }))).toBe(NOT_FOUND);
    expect(await codeOf(client.getTask({ name: `${missing}/tasks/x` }))).toBe(NOT_FOUND);
  });

  test.each([
    ['a task id with a space', (q: string) => ({ name: `${q}/tasks/has space`, httpRequest: { url: 'http://127.0.0.1:9/' } })],
    ['a task id over 500 characters', (q: string) => ({ name: `${q}/tasks/${'x'.repeat(501)}`, httpRequest: { url: 'http://127.0.0.1:9/' } })],
    ['a task name in another queue', (q: string) => ({ name: `${q}-other/tasks/a`, httpRequest: { url: 'http://127.0.0.1:9/' } })],
    ['no http request', () => ({})],
    ['a URL that is not http(s)', () => ({ httpRequest: { url: 'ftp://example.com/x' } })],
    ['a body on a GET', () => ({ httpRequest: { url: 'http://127.0.0.1:9/', httpMethod: 'GET' as const, body: Buffer.from('x') } })],
    ['a dispatch deadline under 15 s', () => ({ dispatchDeadline: duration(14_000), httpRequest: { url: 'http://127.0.0.1:9/' } })],
    ['a dispatch deadline over 30 min', () => ({ dispatchDeadline: duration(1_801_000), httpRequest: { url: 'http://127.0.0.1:9/' } })],
    ['a schedule time more than 30 days ahead', () => ({ scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 31 * 86_400 }, httpRequest: { url: 'http://127.0.0.1:9/' } })],
    ['an OIDC token without a service account', () => ({ httpRequest: { url: 'http://127.0.0.1:9/', oidcToken: { audience: 'x' } } })],
    ['a body over the 1 MiB task size limit', () => ({ httpRequest: { url: 'http://127.0.0.1:9/', body: Buffer.alloc(1024 * 1024 + 1, 97) } })],
  ])('%s is INVALID_ARGUMENT', async (_why, makeTask) => {
    const queue = await newQueue();
    expect(await codeOf(client.createTask({ parent: queue, task: makeTask(queue) }))).toBe(INVALID_ARGUMENT);
  });

  test('a task just under the size limit, with the longest task id and a 30 min deadline, is accepted', async () => {
    const queue = await newQueue();
    const name = `${queue}/tasks/${'x'.repeat(500)}`;
    const [created] = await client.createTask({
      parent: queue,
      task: { name, scheduleTime: inAnHour(), dispatchDeadline: duration(1_800_000), httpRequest: { url: receiver.url, body: Buffer.alloc(1000 * 1000, 97) } },
    });
    expect(created.name).toBe(name);
    expect(created.dispatchDeadline).toMatchObject({ seconds: '1800' });
  });

  test('a malformed queue name is INVALID_ARGUMENT, not NOT_FOUND', async () => {
    expect(await codeOf(client.listTasks({ parent: 'projects/p/locations/l/queues/bad_queue' }))).toBe(INVALID_ARGUMENT);
  });
});

describe('the reuse window', () => {
  test('a name becomes usable again once the configured window has passed', async () => {
    // Prepare
    const shortWindow = await startCloudTasksEmulator({ port: 0, logLevel: 'warn', taskNameReuseWindowMs: 1000 });
    const queue = uniqueQueue('window');
    const client = clientFor(shortWindow, 'grpc');
    try {
      await client.createQueue({ parent: queue.replace(/\/queues\/.*$/, ''), queue: { name: queue } });
      const task = { name: `${queue}/tasks/again`, scheduleTime: inAnHour(), httpRequest: { url: receiver.url } };
      await client.createTask({ parent: queue, task });
      await client.deleteTask({ name: task.name });
      // Act
      const during = await codeOf(client.createTask({ parent: queue, task }));
      await sleep(1100);
      const after = await codeOf(client.createTask({ parent: queue, task }));
      // Assess
      expect(during).toBe(ALREADY_EXISTS);
      expect(after).toBeUndefined();
    } finally {
      await client.close();
      await shortWindow.stop();
    }
  });
});

describe('the pipeline’s own client options', () => {
  test('tasksClientOptions(CLOUD_TASKS_EMULATOR_HOST) reaches the emulator over gRPC and gets ALREADY_EXISTS as code 6', async () => {
    // Prepare
    const client = new CloudTasksClient(tasksClientOptions(emulator.address));
    const queue = uniqueQueue('pipeline');
    try {
      await client.createQueue({ parent: queue.replace(/\/queues\/.*$/, ''), queue: { name: queue } });
      const task = {
        name: `${queue}/tasks/chunk-a`,
        scheduleTime: inAnHour(),
        httpRequest: { url: receiver.url, httpMethod: 'POST' as const, headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{}'), oidcToken: { serviceAccountEmail: 'tasks@conformance.iam.gserviceaccount.com', audience: receiver.url } },
      };
      // Act
      const [created] = await client.createTask({ parent: queue, task });
      const duplicate = await codeOf(client.createTask({ parent: queue, task }));
      // Assess
      expect(created.name).toBe(task.name);
      expect(duplicate).toBe(ALREADY_EXISTS);
    } finally {
      await client.close();
    }
  });
});

async function waitUntilGone(client: CloudTasksClient, name: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await codeOf(client.getTask({ name }))) === NOT_FOUND) return;
    await sleep(50);
  }
  throw new Error(`task ${name} still present after ${timeoutMs} ms`);
}
