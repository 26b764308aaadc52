/**
 * `restock`, the operators' CLI: see where an event or a shopper's
 * notification is, and repair safely (replay, redrive, dead letters).
 *
 * {@link main} runs one command line and resolves to the exit code (0 ok,
 * 1 operational failure, 2 usage error); it never calls `process.exit`, so
 * tests run it in-process with their own streams and operations.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerBackfill } from './commands/backfill.ts';
import { registerDeadLetters } from './commands/deadLetters.ts';
import { registerDemand } from './commands/demand.ts';
import { registerLedgerShards } from './commands/ledgerShards.ts';
import { registerOutbox } from './commands/outbox.ts';
import { registerProduct } from './commands/product.ts';
import { registerPublish } from './commands/publish.ts';
import { registerQueues } from './commands/queues.ts';
import { registerRedrive } from './commands/redrive.ts';
import { registerRestocks } from './commands/restocks.ts';
import { registerReplay } from './commands/replay.ts';
import { registerShopper } from './commands/shopper.ts';
import { registerStatus } from './commands/status.ts';
import { registerSubscribers } from './commands/subscribers.ts';
import { registerTemplates } from './commands/templates.ts';
import { registerTrace } from './commands/trace.ts';
import type { Context } from './context.ts';
import { EXIT_OK, errorDocument, errorLine, exitCodeFor } from './errors.ts';
import type { Operations } from './operations.ts';
import { Output, type Io } from './output.ts';
import { printable } from './printable.ts';

export interface MainOptions {
  /** Replaces the real connection (tests). Receives the global flags. */
  connect?: (flags: { project?: string | undefined; verbose?: boolean }) => Promise<Operations>;
  nowMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The package's version: package.json sits beside cli/ in a checkout and in the published package alike. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Builds the command tree; commands reach the pipeline only through `ctx.ops()`. */
export function buildProgram(ctx: Context, io: Io): Command {
  const program = new Command('restock');
  program
    .description('Operate the restock fan-out: where is an event, where is my notification, replay safely.')
    .version(version(), '-V, --version')
    .option('--project <id>', 'Google Cloud project (Application Default Credentials); overrides GOOGLE_CLOUD_PROJECT and the local stack')
    .option('-v, --verbose', 'log what the library code does (to stderr)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`restock: ${s}`),
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      [
        '',
        'Target: --project, else GOOGLE_CLOUD_PROJECT / *_EMULATOR_HOST, else the local stack in .local/stack.json.',
        'Exit codes: 0 ok, 1 operational failure, 2 usage error. Read commands take --json.',
        '',
        'Examples:',
        '  $ restock publish --product sku-123 --available 12 --previous 0',
        '  $ restock status <eventKey> --watch',
        '  $ restock trace --user u-1042 --product sku-123',
        '  $ restock --project my-prod dead-letters list --json',
      ].join('\n'),
    );
  registerStatus(program, ctx);
  registerTrace(program, ctx);
  registerRestocks(program, ctx);
  registerDemand(program, ctx);
  registerReplay(program, ctx);
  registerRedrive(program, ctx);
  registerLedgerShards(program, ctx);
  registerDeadLetters(program, ctx);
  registerPublish(program, ctx);
  registerBackfill(program, ctx);
  registerSubscribers(program, ctx);
  registerShopper(program, ctx);
  registerOutbox(program, ctx);
  registerQueues(program, ctx);
  registerProduct(program, ctx);
  registerTemplates(program, ctx);
  return program;
}

/**
 * Runs one command line (`argv` without the node and script paths) and
 * resolves to the exit code. Errors are printed as one line on stderr.
 */
export async function main(argv: string[], givenIo: Io, options: MainOptions = {}): Promise<number> {
  // Whether a command already put its document on stdout (status --watch prints its report, then fails).
  let wroteStdout = false;
  const io: Io = {
    ...givenIo,
    stdout: {
      isTTY: givenIo.stdout.isTTY,
      write: (text: string) => {
        wroteStdout ||= text.length > 0;
        return givenIo.stdout.write(text);
      },
    },
  };
  let opened: Operations | undefined;
  let program: Command | undefined;
  // The Google clients take about a second to load: only commands that talk to the pipeline pay for it.
  const connectWith =
    options.connect ??
    (async (flags) => {
      const [{ connect }, { backendOperations }] = await Promise.all([import('./backend.ts'), import('./operations.ts')]);
      return backendOperations(connect(io, flags));
    });
  const ctx: Context = {
    io,
    async ops() {
      opened ??= await connectWith(program?.opts<{ project?: string; verbose?: boolean }>() ?? {});
      return opened;
    },
    nowMs: options.nowMs ?? Date.now,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
  program = buildProgram(ctx, io);
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT_OK;
    }
    // Commander reports a missing required option before an unknown one: `trace --usr x`
    // would say "--user not specified" without naming the typo. Look for unknown options first.
    rejectUnknownOptions(buildProgram(ctx, io), argv);
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (err) {
    const code = exitCodeFor(err);
    // Commander has already printed its own message (usage errors, --help).
    if (!(err instanceof CommanderError)) {
      const out = new Output(io, false);
      io.stderr.write(printable(out.ce.red(`restock: error: ${errorLine(err)}`), out.ce.isColorSupported) + '\n');
    }
    // With --json a script reads stdout: the error is a JSON document there too, unless the command already wrote one.
    if (code !== EXIT_OK && wantsJson(argv) && !wroteStdout) io.stdout.write(JSON.stringify({ error: errorDocument(err, code) }, null, 2) + '\n');
    return code;
  } finally {
    await opened?.close().catch(() => undefined);
  }
}

/** Whether the command line asks for JSON output (`--json` before any `--`). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * Walks the command line down to the command it names and, if an option
 * there is unknown, reports it the way commander does (with a suggestion) by
 * throwing its `CommanderError`. `probe` is a throwaway program: parsing
 * options stores their values, which must not leak into the real parse.
 */
function rejectUnknownOptions(probe: Command, argv: string[]): void {
  let command = probe;
  let args = argv;
  for (;;) {
    const { operands, unknown } = command.parseOptions(args);
    const name = operands[0];
    const sub = name === undefined ? undefined : command.commands.find((c) => c.name() === name || c.aliases().includes(name));
    if (sub) {
      command = sub;
      args = [...operands.slice(1), ...unknown];
      continue;
    }
    const end = unknown.indexOf('--');
    const flag = (end === -1 ? unknown : unknown.slice(0, end)).find((a) => a.startsWith('-') && a !== '-' && !HELP_FLAGS.has(a));
    if (flag === undefined) return;
    // commander's own report, with its "(Did you mean --user?)"; not in its typings, so checked.
    const report = (command as unknown as { unknownOption?: (flag: string) => never }).unknownOption;
    if (typeof report === 'function') report.call(command, flag);
    command.error(`error: unknown option '${flag}'`, { code: 'commander.unknownOption', exitCode: 1 });
  }
}

const HELP_FLAGS = new Set(['-h', '--help']);
