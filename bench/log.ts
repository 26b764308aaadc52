/**
 * `npm run bench:log -- [--lines N]`: what a log line costs, written the way
 * the functions write it (lib/log.ts: scrubbed, pino with Google's Cloud
 * Logging configuration, synchronous writes to stdout), against pino's
 * asynchronous buffered destination, which the logger does not use because it
 * can lose the buffer when a process is killed or an instance frozen after its
 * answer. Each mode runs in a child process whose stdout is a pipe the parent
 * drains, as Cloud Run's log agent reads a function's stdout.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';

const MODES = ['logger (sync, as deployed)', 'pino sync', 'pino async (buffered)'] as const;
type Mode = (typeof MODES)[number];

/** A line like a delivery chunk's: a dozen fields, a nested one, a message. */
const FIELDS = { eventKey: 'c794266f-36c4-446f-a503-7a2cbad295de', productId: 'sku-123', settled: true, sent: 100, rejected: 0, failed: 0, recipients: 100, retryCount: 0, nested: { a: 1, b: 'two' } };

async function child(mode: Mode, lines: number): Promise<void> {
  const started = process.hrtime.bigint();
  if (mode === 'logger (sync, as deployed)') {
    const { Logger } = await import('../lib/log.ts');
    const log = new Logger({ service: 'bench' }, 'INFO').child({ taskName: 't-1' });
    for (let i = 0; i < lines; i++) log.info('chunk delivered', FIELDS);
  } else {
    const { pino } = await import('pino');
    const { createGcpLoggingPinoConfig } = await import('@google-cloud/pino-logging-gcp-config');
    const destination = pino.destination({ dest: 1, sync: mode === 'pino sync', ...(mode === 'pino sync' ? {} : { minLength: 4096 }) });
    const log = pino(createGcpLoggingPinoConfig({ serviceContext: { service: 'bench' }, traceGoogleCloudProjectId: 'p', inihibitDiagnosticMessage: true }, { base: null }), destination);
    for (let i = 0; i < lines; i++) log.info(FIELDS, 'chunk delivered');
    destination.flushSync();
  }
  const ns = Number(process.hrtime.bigint() - started);
  process.stderr.write(`${JSON.stringify({ ns })}\n`);
}

function run(mode: Mode, lines: number): Promise<{ mode: Mode; perLineUs: number; linesPerSecond: number; linesRead: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', mode, '--lines', String(lines)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let read = 0;
    let err = '';
    proc.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 10) read++;
    });
    proc.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      const last = err.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) return reject(new Error(`${mode}: exit ${code}: ${err}`));
      const { ns } = JSON.parse(last) as { ns: number };
      resolve({ mode, perLineUs: ns / 1000 / lines, linesPerSecond: Math.round(lines / (ns / 1e9)), linesRead: read });
    });
  });
}

const program = new Command()
  .option('--lines <n>', 'lines per mode', (v) => Number.parseInt(v, 10), 50_000)
  .option('--child <mode>', 'internal: write the lines in this process')
  .option('--json', 'one JSON object on the last line');
program.parse();
const opts = program.opts<{ lines: number; child?: Mode; json?: boolean }>();
if (opts.child) {
  await child(opts.child, opts.lines);
} else {
  const results = [];
  for (const mode of MODES) results.push(await run(mode, opts.lines));
  for (const r of results) console.log(`${r.mode.padEnd(28)} ${r.perLineUs.toFixed(2).padStart(7)} µs/line  ${String(r.linesPerSecond).padStart(8)} lines/s  (${r.linesRead} of ${opts.lines} lines read)`);
  if (opts.json) console.log(JSON.stringify({ lines: opts.lines, results }));
}
