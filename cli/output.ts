/**
 * The output layer every command writes through, so the conventions hold in
 * one place: with `--json`, stdout carries exactly one JSON document and
 * nothing else; otherwise human lines. Colour only when the stream is a TTY
 * (and `NO_COLOR` is unset). Progress bars and notices go to stderr, so they
 * never mix with what a script parses.
 */
import { createInterface } from 'node:readline/promises';
import cliProgress from 'cli-progress';
import picocolors from 'picocolors';
import { printable } from './printable.ts';

type Colors = ReturnType<typeof picocolors.createColors>;

/** Where a command's output goes: the process's streams, or strings in tests. */
export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Asks a yes/no question; resolves undefined when nobody can answer (stdin is not a TTY). */
  confirm(question: string): Promise<boolean | undefined>;
  env: Record<string, string | undefined>;
}

/**
 * Once the reader of stdout or stderr has gone (`restock status x | head -1`),
 * nothing more can reach anyone: exit quietly, as `cat` or `git log` do, instead
 * of dying on an unhandled EPIPE with a stack trace. The reader has what it wanted.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

/** The real process's streams; confirmation reads a line from stdin when it is a TTY. */
export function processIo(): Io {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    async confirm(question) {
      if (!process.stdin.isTTY) return undefined;
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** Minimal surface of a progress bar, so commands do not depend on cli-progress directly. */
export interface Progress {
  update(value: number, total?: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update() {}, stop() {} };

/** What a command uses to speak: results on stdout, notices and progress on stderr. */
export class Output {
  /** Colours for stdout (identity functions when stdout is not a TTY). */
  readonly c: Colors;
  /** Colours for stderr. */
  readonly ce: Colors;

  constructor(
    readonly io: Io,
    readonly json: boolean,
  ) {
    const noColor = io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '';
    this.c = picocolors.createColors(!noColor && !json && io.stdout.isTTY === true);
    this.ce = picocolors.createColors(!noColor && io.stderr.isTTY === true);
  }

  /** A human line on stdout; ignored in `--json` mode, where only {@link result} writes. */
  line(text = ''): void {
    if (!this.json) this.io.stdout.write(printable(text, this.c.isColorSupported) + '\n');
  }

  /** The command's JSON document (only in `--json` mode). */
  result(doc: unknown): void {
    if (this.json) this.io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  }

  /** A notice on stderr: which stack, what is about to happen. Never parsed. */
  notice(text: string): void {
    this.io.stderr.write(printable(text, this.ce.isColorSupported) + '\n');
  }

  /** A warning on stderr, in yellow on a TTY. */
  warn(text: string): void {
    this.io.stderr.write(printable(this.ce.yellow(`warning: ${text}`), this.ce.isColorSupported) + '\n');
  }

  /**
   * A progress bar on stderr, only when stderr is a TTY (a log file gains
   * nothing from redraws). Always stop it, or the terminal keeps the cursor hidden.
   */
  progress(label: string, total: number, unit = 'items'): Progress {
    if (this.io.stderr.isTTY !== true) return NO_PROGRESS;
    const bar = new cliProgress.SingleBar(
      {
        stream: this.io.stderr as NodeJS.WritableStream,
        format: `${label} {bar} {value}/{total} ${unit}`,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(total, 1), 0);
    return {
      update(value, newTotal) {
        if (newTotal !== undefined) bar.setTotal(Math.max(newTotal, 1));
        bar.update(value);
      },
      stop() {
        bar.stop();
      },
    };
  }
}

/** `2026-11-22T15:04:05.000Z`, or `-` when unknown. */
export function formatTime(ms: number | null | undefined): string {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : '-';
}

/** `1.2 s`, `3 min 4 s`, `-` when unknown: durations an operator can read at a glance. */
export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Left-aligned columns for small tables (the widest cell sets each column's width). */
export function table(rows: string[][], headers?: string[]): string[] {
  const all = headers ? [headers, ...rows] : rows;
  const visible = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').length;
  const widths: number[] = [];
  for (const row of all) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return all.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visible(cell))))
      .join('  ')
      .trimEnd(),
  );
}
