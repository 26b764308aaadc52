import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ComponentStartError } from '../../../emulators/stack/errors.ts';
import { foldStackFrames, ManagedProcess } from '../../../emulators/stack/managed-process.ts';
import { retryableStart } from '../../../emulators/stack/retry.ts';

const dir = mkdtempSync(join(tmpdir(), 'start-failures-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A process that prints `output` and then sleeps (or exits with `exitCode`), never answering its probe. */
function component(name: string, output: string, exitCode?: number): ManagedProcess {
  const script = `process.stdout.write(${JSON.stringify(output)}); ${exitCode === undefined ? 'setInterval(() => {}, 1000);' : `process.exit(${exitCode});`}`;
  return new ManagedProcess({
    name,
    command: process.execPath,
    args: ['-e', script],
    env: process.env,
    cwd: dir,
    logFile: join(dir, `${name}.log`),
    ready: async () => false,
    readyTimeoutMs: 1_500,
  });
}

async function startError(p: ManagedProcess): Promise<ComponentStartError> {
  const err = await p.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ComponentStartError);
  return err as ComponentStartError;
}

/** The tail of a Java emulator's log as the Pub/Sub emulator left it in a failed CI run. */
const JAVA_TRACE = [
  'INFO: Server started, listening on 8085',
  'SEVERE: Exception caught in channel',
  'io.netty.handler.codec.http2.Http2Exception: Unexpected HTTP/1.x request: GET /',
  ...Array.from({ length: 25 }, (_, i) => `\tat io.netty.Frame${i}.run(Frame${i}.java:${i})`),
  'Caused by: java.io.IOException: the cause',
  '\tat io.netty.Cause0.run(Cause0.java:1)',
  '\t... 24 more',
];

describe('a component that does not start', () => {
  test('one that runs but never answers fails as a timeout, which startStack retries on fresh ports', async () => {
    const err = await startError(component('hung', 'listening\n'));

    expect(err.reason).toBe('timeout');
    expect(err.message).toContain('not ready after 1500 ms');
    expect(err.message).toContain('listening');
    expect(retryableStart(err)).toBe('hung never answered');
  });

  test('one that exits fails at once, and startStack does not retry it (it would only exit again)', async () => {
    const err = await startError(component('broken', 'RESTOCK_CHUNK_SIZE: must be a whole number\n', 3));

    expect(err.reason).toBe('exited');
    expect(err.message).toContain('exited (code 3');
    expect(err.message).toContain('RESTOCK_CHUNK_SIZE');
    expect(retryableStart(err)).toBeUndefined();
  });

  test('one that lost its port to another process is retried, whatever its reason', async () => {
    const err = await startError(component('raced', 'java.net.BindException: Address already in use\n', 1));

    expect(err.reason).toBe('exited');
    expect(retryableStart(err)).toBe('a port was taken while starting');
  });

  test('other errors are not retried', () => {
    expect(retryableStart(new Error('wiring failed'))).toBeUndefined();
    expect(retryableStart(new ComponentStartError('pubsub', 'topic creation failed'))).toBeUndefined();
  });

  test("the error quotes the exception's headline even when the log ends in a long Java trace", async () => {
    const err = await startError(component('pubsub', `${JAVA_TRACE.join('\n')}\n`));

    expect(err.message).toContain('Http2Exception: Unexpected HTTP/1.x request: GET /');
    expect(err.message).toContain('Caused by: java.io.IOException: the cause');
    expect(err.message).toContain('… 22 more frames');
  });
});

describe('folding Java stack frames', () => {
  test('keeps the first three frames of each trace and counts the rest', () => {
    expect(foldStackFrames(JAVA_TRACE)).toEqual([
      ...JAVA_TRACE.slice(0, 6),
      '\t… 22 more frames',
      'Caused by: java.io.IOException: the cause',
      '\tat io.netty.Cause0.run(Cause0.java:1)',
      '\t... 24 more',
    ]);
  });

  test('leaves a log without traces as it is', () => {
    const lines = ['INFO: one', 'INFO: two', '  not a frame'];
    expect(foldStackFrames(lines)).toEqual(lines);
  });
});
