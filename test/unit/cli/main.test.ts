import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BackendError, NotFoundError } from '../../../cli/errors.ts';
import { run, statusReport } from './fakes.ts';

describe('restock: exit codes and error lines', () => {
  test('--help on the program and on every command prints usage with an example and exits 0', async () => {
    for (const argv of [['--help'], ['status', '--help'], ['trace', '--help'], ['replay', '--help'], ['redrive', '--help'], ['dead-letters', 'list', '--help'], ['dead-letters', 'replay', '--help'], ['publish', '--help'], ['subscribers', '--help']]) {
      const r = await run(argv);
      expect(r.code, argv.join(' ')).toBe(0);
      expect(r.stdout, argv.join(' ')).toMatch(/Usage: restock/);
      expect(r.stdout, argv.join(' ')).toMatch(/\$ restock /);
    }
  });

  test('--version prints the version in package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const r = await run(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  test('an unknown command is a usage error: exit 2, message on stderr, nothing on stdout', async () => {
    const r = await run(['stauts', 'evt-1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown command 'stauts'/);
    expect(r.stderr).toMatch(/Did you mean status\?/);
  });

  test.each([
    [['status'], /missing required argument 'eventKey'/],
    [['status', 'evt-1', '--interval', 'soon'], /--interval <ms>.*expected an integer/],
    [['trace'], /required option '--user <userId>' not specified/],
    [['trace', '--user', 'a/b'], /not a valid id/],
    [['redrive', 'evt-1', '--state', 'sent'], /expected exhausted, failed, sending, got "sent"/],
    [['publish', '--product', 'sku-1'], /required option '--available <n>'/],
    [['publish', '--product', 'sku-1', '--available', '-3'], /expected an integer from 0/],
    [['dead-letters', 'list', '--limit', '0'], /expected an integer from 1 to 1000/],
  ])('%j is a usage error (exit 2) naming what is wrong', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });

  test('an event that is not recorded anywhere is an operational failure: exit 1, one line on stderr', async () => {
    const r = await run(['status', 'nope'], {
      ops: {
        readStatus: async () => {
          throw new NotFoundError('no fan-out, rejected event or delivery is recorded for event nope', 'nope');
        },
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual(['restock: error: no fan-out, rejected event or delivery is recorded for event nope']);
  });

  test('a backend failure prints its cause on the same line and exits 1', async () => {
    const r = await run(['status', 'evt-1'], {
      ops: {
        readStatus: async () => {
          throw new BackendError('cannot read fanouts/evt-1', 'fanouts/evt-1', { cause: new Error('14 UNAVAILABLE: No connection established') });
        },
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['restock: error: cannot read fanouts/evt-1: 14 UNAVAILABLE: No connection established']);
  });

  test('no arguments prints the help and exits 0', async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Commands:/);
  });
});

describe('restock: output conventions', () => {
  test('--json writes exactly one JSON document on stdout and nothing else', async () => {
    const report = statusReport();
    const r = await run(['status', 'evt-1', '--json'], { ops: { readStatus: async () => report } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(report);
  });

  test('human output has no colour codes when stdout is not a TTY', async () => {
    const r = await run(['status', 'evt-1'], { ops: { readStatus: async () => statusReport() }, tty: false });
    expect(r.stdout).toMatch(/fan-out complete/);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  test('human output is coloured on a TTY, unless NO_COLOR is set', async () => {
    const coloured = await run(['status', 'evt-1'], { ops: { readStatus: async () => statusReport() }, tty: true });
    const plain = await run(['status', 'evt-1'], { ops: { readStatus: async () => statusReport() }, tty: true, env: { NO_COLOR: '1' } });
    expect(coloured.stdout).toMatch(/\x1b\[32mcomplete/);
    expect(plain.stdout).not.toMatch(/\x1b\[/);
  });

  test('--json output has no colour codes even on a TTY', async () => {
    const r = await run(['status', 'evt-1', '--json'], { ops: { readStatus: async () => statusReport() }, tty: true });
    expect(r.stdout).not.toMatch(/\x1b\[/);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });
});

describe('restock: error lines stay readable', () => {
  test("a Google client's retry history is cut to its first error, and every part is bounded", async () => {
    const gax = new Error(`Total timeout of API exceeded 20000 milliseconds retrying error Error: 14 UNAVAILABLE: No connection established. : Previous errors : [${'{message: 14 UNAVAILABLE}, '.repeat(50)}]`);
    const r = await run(['status', 'evt-1'], {
      ops: {
        readStatus: async () => {
          throw new BackendError('cannot list tasks of projects/p/locations/l/queues/q', 'q', { cause: gax });
        },
      },
    });
    const line = r.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toBe('restock: error: cannot list tasks of projects/p/locations/l/queues/q: Total timeout of API exceeded 20000 milliseconds retrying error Error: 14 UNAVAILABLE: No connection established.');
  });
});

describe('restock: the command line is checked before anything runs', () => {
  test('an unknown option is named even when a required option is missing too (trace --usr x)', async () => {
    const r = await run(['trace', '--usr', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--usr'/);
    expect(r.stderr).toMatch(/Did you mean --user\?/);
    expect(r.stderr).not.toMatch(/--user <userId>' not specified/);
  });

  test.each([
    [['dead-letters', 'list', '--limt', '3'], '--limt'],
    [['--projet', 'p', 'status', 'evt-1'], '--projet'],
    [['status', 'evt-1', '--jsno'], '--jsno'],
  ])('%j names the unknown option %s and exits 2', async (argv, flag) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`unknown option '${flag}'`);
  });

  test('global options before the command, values that look like options and --help still work', async () => {
    expect((await run(['trace', '--help'])).code).toBe(0);
    expect((await run(['dead-letters', 'list', '-h'])).code).toBe(0);
    const r = await run(['publish', '--product', 'sku-1', '--available', '-3']);
    expect(r.stderr).toMatch(/expected an integer from 0/);
  });
});

describe('restock --json: errors are a JSON document on stdout too', () => {
  test('an operational failure: exit 1, the error as {"error": {name, message, exitCode, field}} on stdout, the line on stderr', async () => {
    const r = await run(['status', 'nope', '--json'], {
      ops: {
        readStatus: async () => {
          throw new NotFoundError('no fan-out, rejected event or delivery is recorded for event nope', 'nope');
        },
      },
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      error: { name: 'NotFoundError', message: 'no fan-out, rejected event or delivery is recorded for event nope', exitCode: 1, field: 'nope' },
    });
    expect(r.stderr).toContain('restock: error: no fan-out');
  });

  test('a usage error: exit 2 and a UsageError document naming the problem', async () => {
    const r = await run(['trace', '--usr', 'x', '--json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout) as { error: { name: string; message: string; exitCode: number } };
    expect(doc.error).toMatchObject({ name: 'UsageError', exitCode: 2 });
    expect(doc.error.message).toContain("unknown option '--usr'");
  });

  test('a command that already printed its document and then failed prints no second one', async () => {
    const r = await run(['status', 'evt-1', '--watch', '--timeout', '1', '--interval', '500', '--json'], {
      ops: { readStatus: async () => statusReport({ settled: false }) },
      nowMs: (() => {
        let t = 0;
        return () => (t += 1000);
      })(),
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ settled: false });
  });

  test('without --json, stdout stays empty on an error', async () => {
    const r = await run(['trace', '--usr', 'x']);
    expect(r.stdout).toBe('');
  });
});
