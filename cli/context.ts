/**
 * What every command receives: the streams, a lazily connected set of
 * {@link Operations}, and a clock (injected so tests can run `--watch` without waiting).
 */
import type { Command } from 'commander';
import type { Operations } from './ports.ts';
import { AbortedError, UsageError } from './errors.ts';
import { Output, type Io } from './output.ts';

export interface Context {
  io: Io;
  /** Connects to the pipeline on first use (so `--help` and usage errors never touch the network). */
  ops(): Promise<Operations>;
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

/** The {@link Output} for a command, honouring its `--json` flag. */
export function outputFor(ctx: Context, command: Command): Output {
  const opts = command.optsWithGlobals<{ json?: boolean }>();
  return new Output(ctx.io, opts.json === true);
}

/**
 * Asks before a destructive or bulk action, unless `--yes` was given.
 * @throws UsageError when nobody can answer (stdin is not a terminal) and `--yes` is missing.
 * @throws AbortedError when the operator says no.
 */
export async function confirmOrAbort(ctx: Context, yes: boolean | undefined, question: string): Promise<void> {
  if (yes) return;
  const answer = await ctx.io.confirm(question);
  if (answer === undefined) throw new UsageError('confirmation needed but stdin is not a terminal: pass --yes (or --dry-run to look first)', '--yes');
  if (!answer) throw new AbortedError();
}
