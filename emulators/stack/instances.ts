/**
 * `tsx emulators/stack/instances.ts <instances> <functions-framework main.js> [its args...]`:
 * serves one function from several processes on one port, as Cloud Run serves
 * it from several instances.
 *
 * A storm of subscribe calls keeps one functions-framework process busy on a
 * single core (its per-request domain and the Firestore client's gRPC work are
 * CPU, not waiting), while the machine has more; on Cloud Run the same storm
 * simply gets more instances. node:cluster forks the workers and hands each
 * new connection to the next one, so every worker is an unmodified
 * functions-framework process and callers see one address.
 *
 * The primary lives as long as its workers: a worker that dies takes the
 * function down (exit with its code), as a crash of the single process would,
 * so the stack's crash handling and the chaos tests' kills behave as before.
 * Stopping the stack signals the whole process group, workers included.
 */
import cluster from 'node:cluster';

const [countArg, main, ...args] = process.argv.slice(2);
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1 || !main) {
  process.stderr.write('usage: instances.ts <instances >= 1> <functions-framework main.js> [args...]\n');
  process.exit(2);
}

cluster.setupPrimary({ exec: main, args, execArgv: ['--import', 'tsx'] });
let stopping = false;
for (let i = 0; i < count; i++) cluster.fork();
cluster.on('exit', (_worker, code, signal) => {
  if (stopping) return;
  stopping = true;
  for (const w of Object.values(cluster.workers ?? {})) w?.process.kill((signal as NodeJS.Signals | null) ?? 'SIGTERM');
  process.exitCode = code ?? 1;
});
for (const s of ['SIGTERM', 'SIGINT'] as const) {
  process.on(s, () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(s);
  });
}
