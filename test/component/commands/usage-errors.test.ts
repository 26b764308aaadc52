/**
 * A wrong command line is exit 2 everywhere, through npm as a user types it:
 * `restock`, `npm start`, `npm run demo` and `npm run tasks-emulator` name
 * what is wrong on stderr and start nothing. And the CLI never dies on a
 * closed pipe (`restock … | head -1`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';
import { CHANNELS } from '../../../lib/model.ts';
import { BIN } from '../../helpers/cli.ts';

const npm = (args: string[]) =>
  spawnSync('npm', ['--silent', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    // Never find (or start) a real stack: the command line is refused before anything runs.
    env: { ...process.env, RESTOCK_STACK_FILE: resolve(REPO_ROOT, '.local', 'no-such-stack.json') },
  });

describe('usage errors exit 2', () => {
  test.each([
    [['start', '--', '--bogus'], "unknown option '--bogus'"],
    [['start', '--', '--sink-port', 'abc'], '--sink-port'],
    [['run', 'demo', '--', '--subscriber', '3'], "unknown option '--subscriber'"],
    [['run', 'demo', '--', '--subscribers', 'many'], '--subscribers must be a positive integer'],
    // The channels it names are the channel table's.
    [['run', 'demo', '--', '--channels', 'email,pigeon'], `--channels takes ${CHANNELS.join(', ')} (got "pigeon")`],
    [['run', 'demo', '--', '--click-rate', '1.5'], '--click-rate must be a share from 0 to 1 (got 1.5)'],
    [['run', 'demo', '--', '--buy-rate', '0.1'], '--buy-rate needs --click-rate'],
    [['run', 'tasks-emulator', '--', '--prot', '9499'], "unknown option '--prot'"],
  ])('npm %j exits 2 naming the problem', (args, message) => {
    const run = npm(args);
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain(message);
  });

  test.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['trace', '--usr', 'x'], "unknown option '--usr'"],
    [['stauts'], "unknown command 'stauts'"],
  ])('restock %j exits 2 naming the problem', (args, message) => {
    const run = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe('restock on a closed pipe', () => {
  test('exits quietly when the reader of stdout is gone, without an EPIPE stack trace', async () => {
    // Prepare: stdout is a pipe whose reader closes before the CLI writes (what `| head -1` does to later lines).
    const child = spawn(process.execPath, [BIN, 'status', '--help'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));

    // Act
    const code = await new Promise<number | null>((resolvePromise) => child.on('close', (c) => resolvePromise(c)));

    // Assess
    expect(stderr).not.toMatch(/EPIPE|at .+:\d+:\d+/);
    expect(code).toBe(0);
  });
});
