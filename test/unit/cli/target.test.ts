import { describe, expect, test } from 'vitest';
import { UsageError } from '../../../cli/errors.ts';
import { missingTaskSettings, parseCliSettings, parseLocalStack, resolveTarget, type LocalStack } from '../../../cli/target.ts';

const stack: LocalStack = {
  projectId: 'restock-local',
  firestore: '127.0.0.1:8086',
  pubsub: '127.0.0.1:8085',
  tasks: '127.0.0.1:9499',
  topic: 'inventory-updated',
  deadLetterSubscription: 'inventory-updated-dead-letter',
  functions: { fanOutRestock: 'http://127.0.0.1:8081/', deliverRestockBatch: 'http://127.0.0.1:8082/', restockSubscriptions: 'http://127.0.0.1:8083/' },
  env: { RESTOCK_TASKS_QUEUE: 'restock-deliveries', RESTOCK_NOTIFIER: 'http', RESTOCK_NOTIFIER_URL: 'http://127.0.0.1:8090' },
};

describe('which pipeline the CLI talks to', () => {
  test('with nothing set and a stack file, the local stack is used: emulators, project, function URLs', () => {
    const target = resolveTarget({ env: {}, stack: { path: '.local/stack.json', value: stack } });
    expect(target.source).toBe('stack');
    expect(target.overrides).toMatchObject({
      GOOGLE_CLOUD_PROJECT: 'restock-local',
      FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086',
      PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
      CLOUD_TASKS_EMULATOR_HOST: '127.0.0.1:9499',
      RESTOCK_FANOUT_URL: 'http://127.0.0.1:8081/',
      RESTOCK_DELIVERY_URL: 'http://127.0.0.1:8082/',
    });
    expect(target.config.tasksEmulatorHost).toBe('127.0.0.1:9499');
    expect(target.description).toBe('local stack .local/stack.json: project restock-local on emulators (firestore 127.0.0.1:8086, pubsub 127.0.0.1:8085, tasks 127.0.0.1:9499)');
  });

  test('emulator variables in the environment win over the stack file', () => {
    const target = resolveTarget({ env: { FIRESTORE_EMULATOR_HOST: '127.0.0.1:20001', GOOGLE_CLOUD_PROJECT: 'demo-x' }, stack: { path: 's.json', value: stack } });
    expect(target.source).toBe('environment');
    expect(target.overrides).toEqual({ METADATA_SERVER_DETECTION: 'none' });
    expect(target.config.projectId).toBe('demo-x');
  });

  test('--project wins over everything and names the project', () => {
    const target = resolveTarget({ env: { GOOGLE_CLOUD_PROJECT: 'other-project' }, project: 'shop-prod-1', stack: { path: 's.json', value: stack } });
    expect(target.source).toBe('project');
    expect(target.config.projectId).toBe('shop-prod-1');
    expect(target.description).toBe('project shop-prod-1 on Google Cloud (Application Default Credentials)');
  });

  test('with no flag, no variable and no stack file, the CLI refuses to guess a project', () => {
    expect(() => resolveTarget({ env: {} })).toThrow(UsageError);
    expect(() => resolveTarget({ env: {} })).toThrow(/pass --project/);
  });

  test('a malformed --project is a usage error naming the flag', () => {
    expect(() => resolveTarget({ env: {}, project: 'Not_A_Project' })).toThrow(/^--project: not a Google Cloud project id/);
  });

  test('the http notifier without a URL does not stop the CLI (it never sends)', () => {
    const target = resolveTarget({ env: { GOOGLE_CLOUD_PROJECT: 'demo-x', RESTOCK_NOTIFIER: 'http' } });
    expect(target.config.projectId).toBe('demo-x');
  });

  test('CLI settings default to the topic and dead-letter subscription the stack creates, and can be overridden', () => {
    expect(parseCliSettings({})).toEqual({ topic: 'inventory-updated', deadLetterSubscription: 'inventory-updated-dead-letter' });
    expect(parseCliSettings({ RESTOCK_TOPIC: 'inv-2', RESTOCK_DEAD_LETTER_SUBSCRIPTION: 'inv-2-dlq' })).toEqual({ topic: 'inv-2', deadLetterSubscription: 'inv-2-dlq' });
    expect(() => parseCliSettings({ RESTOCK_TOPIC: 'a b' })).toThrow(/^RESTOCK_TOPIC:/);
  });

  test('a stack file that is not a stack description is a usage error naming the file and field', () => {
    expect(() => parseLocalStack('{"projectId":"p"}', '/x/stack.json')).toThrow(/^\/x\/stack\.json: firestore:/);
    expect(() => parseLocalStack('not json', '/x/stack.json')).toThrow(/is not JSON/);
  });
});

describe('settings replay and redrive must be given', () => {
  test('the local stack file provides the function URLs, so nothing is missing', () => {
    expect(resolveTarget({ env: {}, stack: { path: 's.json', value: stack } }).missingTaskSettings).toEqual([]);
  });

  test('emulator variables alone leave the function URLs unset', () => {
    expect(missingTaskSettings({ CLOUD_TASKS_EMULATOR_HOST: '127.0.0.1:9499', FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' })).toEqual(['RESTOCK_DELIVERY_URL', 'RESTOCK_FANOUT_URL']);
  });

  test('on Google Cloud the tasks service account and the task signing keys are required too', () => {
    expect(missingTaskSettings({ RESTOCK_DELIVERY_URL: 'https://d', RESTOCK_FANOUT_URL: 'https://f' })).toEqual(['RESTOCK_TASKS_SERVICE_ACCOUNT', 'RESTOCK_TASK_SIGNING_KEYS']);
  });
});
