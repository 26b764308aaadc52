#!/usr/bin/env node
// `restock`, the operators' CLI, runnable from a checkout without a build step:
// tsx is registered programmatically (a development dependency: `npm ci` in the
// checkout installs it; the function images never carry it), then the
// TypeScript entry point is imported as is.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const { processIo } = await import('../cli/output.ts');

const code = await main(process.argv.slice(2), processIo());
process.exitCode = code;
// The command has answered. A query it gave up on (no answer within the bound) may still be retried by the
// Firestore client after close(), and fail with "The client has already been terminated": not the command's
// failure, and no reason to end with a stack trace under the one-line error already printed.
process.on('unhandledRejection', () => {});
// A Google client may keep a socket open for a moment after close(); do not let it
// hold the terminal. Unref'd, so a process that is already done exits at once.
setTimeout(() => process.exit(code), 3000).unref();
