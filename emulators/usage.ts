/**
 * One exit code for a wrong command line across the project's commands
 * (`restock`, `npm start`, `npm run demo`, `npm run tasks-emulator`): 2, as
 * the CLI's convention says. Commander's own default is 1, which a script
 * cannot tell from "the stack failed".
 */
import type { Command } from 'commander';

export const EXIT_USAGE = 2;

/** Makes `program` (and the subcommands added after) exit 2 on a usage error, 0 after --help / --version. */
export function exitTwoOnUsageError(program: Command): Command {
  return program.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE));
}
