import { describe, expect, test } from 'vitest';
import { BackendError, NotFoundError } from '../../../lib/cli/errors.ts';
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
    const r = await run(['status', 'nope', '--json'], {
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
