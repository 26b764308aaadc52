/**
 * The CLI's error classes and how they map to exit codes and to the one line
 * an operator reads on stderr.
 *
 * Exit codes: 0 ok, 1 operational failure (something out there did not work or
 * was not found), 2 usage error (the command line itself is wrong). Callers
 * branch on the class, never on message text.
 */
import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../lib/config.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Makes `program` (and the subcommands added after) exit 2 on a usage error
 * and 0 after --help / --version: the same code across the project's
 * commands (`npm start`, `npm run demo`, the console, the Tasks emulator),
 * where commander's own default of 1 could not be told from "it failed".
 */
export function exitTwoOnUsageError(program: Command): Command {
  return program.exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT_OK : EXIT_USAGE));
}

/** The command line is wrong: a flag is missing, malformed or contradicts another. Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The flag or argument at fault, e.g. `--available`. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What the operator asked about does not exist (no fan-out, no rejected event, no deliveries). Exit 1. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(
    message: string,
    /** The key looked up, e.g. the event key. */
    readonly key: string,
  ) {
    super(message);
  }
}

/** A call to Firestore, Pub/Sub or Cloud Tasks failed or did not answer in time. Exit 1. */
export class BackendError extends Error {
  override readonly name = 'BackendError';
  constructor(
    message: string,
    /** Which service and resource, e.g. `firestore fanouts/abc`. */
    readonly resource: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A watch or bulk operation ended without reaching the state it waited for. Exit 1. */
export class NotSettledError extends Error {
  override readonly name = 'NotSettledError';
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
  }
}

/** Some rows of a file were not published (`restock backfill`); the rest were. Exit 1. */
export class RowsRejectedError extends Error {
  override readonly name = 'RowsRejectedError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** The operator declined a confirmation prompt. Exit 1: nothing was done, on purpose. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor(message = 'aborted: nothing was changed') {
    super(message);
  }
}

/** The exit code for an error thrown anywhere in a command. */
export function exitCodeFor(err: unknown): number {
  // Commander exits 0 for --help and --version; anything else it raises is about the command line.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (err instanceof UsageError || err instanceof ConfigError) return EXIT_USAGE;
  return EXIT_FAILURE;
}

/**
 * One readable line: the message followed by its cause chain, each cause
 * only when it adds something (`cannot read fanouts/x: 14 UNAVAILABLE: ...`).
 */
export function errorLine(err: unknown): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    // google-gax appends every retried attempt's error ("Previous errors: [...]"): the first says it all.
    const text = clip(message.split(' : Previous errors')[0]!.replace(/\s+/g, ' ').trim());
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ') || 'unknown error';
}

const MAX_PART_CHARS = 300;

function clip(text: string): string {
  return text.length > MAX_PART_CHARS ? `${text.slice(0, MAX_PART_CHARS - 1)}…` : text;
}

/** What `--json` puts on stdout when a command fails: the error's class, its message and its exit code. */
export interface ErrorDocument {
  /** `UsageError` for any mistake on the command line (commander's included), else the error's class. */
  name: string;
  message: string;
  exitCode: number;
  /** The flag, argument, key or resource at fault, when the error names one. */
  field?: string;
}

/** The {@link ErrorDocument} of `err`, which exited with `exitCode`. */
export function errorDocument(err: unknown, exitCode: number): ErrorDocument {
  if (err instanceof CommanderError) {
    return { name: 'UsageError', message: err.message.replace(/^error:\s*/, '').trim(), exitCode };
  }
  const name = err instanceof Error ? err.name : 'Error';
  const field =
    err instanceof UsageError ? err.field : err instanceof NotFoundError || err instanceof NotSettledError ? err.key : err instanceof BackendError ? err.resource : err instanceof RowsRejectedError ? err.file : err instanceof ConfigError ? err.variable : undefined;
  return { name, message: errorLine(err), exitCode, ...(field !== undefined ? { field } : {}) };
}
