/**
 * `npm run bench -- [--subscribers N] [--json]`: the pipeline against the
 * naive design and against the storage floor, in one run, on a local stack of
 * its own (issue 8).
 *
 * 1. Pipeline at N/10, then at N: each on a freshly started fan-out process
 *    warmed by a 20-subscriber restock, so its peak RSS (`VmHWM`) belongs to
 *    that audience alone; the process has the V8 heap it has as deployed
 *    (bench/rss.ts). Firestore RPCs are counted inside the function
 *    processes (bench/preload-rpc-counter.ts).
 * 2. The naive baseline (bench/naive.ts) on its own N subscribers.
 * 3. The storage floor (bench/floor.ts) on its own N subscribers.
 * 4. The subscribe storm (bench/subscribe.ts): concurrent clients creating
 *    subscriptions on one product, then on many, through the real API.
 * 5. The outbox (bench/outbox.ts): the relay's throughput over a backlog of
 *    `--outbox-rows` rows, and commit-to-publish p50/p95 of `--outbox-updates`
 *    stock updates through the inventory stand-in.
 * The sink answers every request after `--sink-latency` ms for all three.
 * 6. Under latency (bench/latency.ts): the pipeline and the naive design in
 *    full on `--latency-subscribers` shoppers each, with `--rtt-ms` added to
 *    every Firestore round trip by a proxy and the sink at `--latency-sink-ms`
 *    a call: `speedupVsNaive`.
 * 7. Key ranges (bench/ranges.ts), last: the fan-out's paging (publish to the
 *    last delivery task created, delivery paused) of one `--ranges-subscribers`
 *    audience with K = 1, then split into K ranges (`--ranges-target`).
 * Every phase starts on an emptied database (`Stack.clearFirestore`): the
 * emulator's queries scan the whole database, not the one collection (a page
 * of 100 ids took 0.5-0.8 s beside 50,000 documents, 0.7-1.0 s beside
 * 150,000), so a phase run after another's ledger would pay for it and the
 * order of the phases would decide their figures. The pipeline and the floor
 * also run one page query over their audience before they are timed
 * (`warmEmulatorScan`): the emulator's first scan at a new scale is slow.
 * Prints a table on stdout; with `--json`, one JSON object on the last line.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Command } from 'commander';
import { parseConfig, type Config } from '../lib/config.ts';
import { publishAndFollow, seedAudience, setSinkFaults, type RestockRunSummary } from '../emulators/scenario/index.ts';
import { clientsFor, REPO_ROOT, startStack, type Stack, type StackClients } from '../emulators/stack/index.ts';
import { runStorageFloor, warmEmulatorScan } from './floor.ts';
import { formatSubscribeTable, runSubscribeBench, type SubscribeBenchResult } from './subscribe.ts';
import { runNaive } from './naive.ts';
import { runLatencyPhase } from './latency.ts';
import { runRangesPhase } from './ranges.ts';
import { runOutboxBench } from './outbox.ts';
import { formatTable, summarize, type Measurements } from './report.ts';
import { diffCounts, instrumentFirestore, rpcCountsOf, sumCounts, type RpcCounts } from './rpc-counter.ts';
import { FANOUT_HEAP_AS_DEPLOYED, processMemoryMb } from './rss.ts';
import { cpuDiff, cpuSecondsByGroup, ownCpuSeconds, type CpuSeconds } from './cpu.ts';

const program = new Command('bench')
  .description('Benchmark the pipeline against the naive design and the storage floor on a local stack.')
  .option('--subscribers <n>', 'audience size N', '50000')
  .option('--sink-latency <ms>', 'latency the notification sink adds to every request', '50')
  .option('--floor-concurrency <n>', 'chunks in flight in the storage floor', '32')
  .option('--timeout <seconds>', 'give up on a pipeline run after this long', '900')
  .option('--subscribe-creates <n>', 'creates per phase of the subscribe storm (0 skips it)', '5000')
  .option('--subscribe-clients <n>', 'concurrent clients of the subscribe storm', '64')
  .option('--outbox-rows <n>', 'pending rows the outbox relay drains (its throughput)', '2000')
  .option('--outbox-updates <n>', 'stock updates through the inventory stand-in (commit to publish)', '100')
  .option('--rtt-ms <ms>', 'round trip the latency proxy adds to every Firestore call in the latency phase', '10')
  .option('--latency-subscribers <n>', 'audience of the latency phase, for the pipeline and the naive design each (0 skips it)', '10000')
  .option('--latency-sink-ms <ms>', 'latency of the sink in the latency phase', '100')
  .option('--ranges-subscribers <n>', 'audience of the key-range phase, paged with K ranges and with K = 1 (0 skips it; 200000 with --ranges-target 50000 is the issue\'s size, ~20 min more here)', '50000')
  .option('--ranges-target <n>', 'RESTOCK_FANOUT_RANGE_TARGET of the split run (subscribers per range): 12500 splits 50,000 in K = 4, as the setting\'s default 50,000 splits 200,000', '12500')
  .option('--json', 'print the result as one JSON object on the last line')
  .parse();
const opts = program.opts<{
  subscribers: string;
  sinkLatency: string;
  floorConcurrency: string;
  timeout: string;
  subscribeCreates: string;
  subscribeClients: string;
  outboxRows: string;
  outboxUpdates: string;
  rttMs: string;
  latencySubscribers: string;
  latencySinkMs: string;
  rangesSubscribers: string;
  rangesTarget: string;
  json?: boolean;
}>();
const subscribeCreates = Number(opts.subscribeCreates);
const subscribeClients = Number(opts.subscribeClients);
const outboxRows = Number(opts.outboxRows);
const outboxUpdates = Number(opts.outboxUpdates);
const subscribers = Number(opts.subscribers);
const sinkLatencyMs = Number(opts.sinkLatency);
const floorConcurrency = Number(opts.floorConcurrency);
const timeoutMs = Number(opts.timeout) * 1000;
const rttMs = Number(opts.rttMs);
const latencySubscribers = Number(opts.latencySubscribers);
const latencySinkMs = Number(opts.latencySinkMs);
const rangesSubscribers = Number(opts.rangesSubscribers);
const rangesTarget = Number(opts.rangesTarget);
for (const [flag, v, min] of [
  ['--subscribers', subscribers, 10],
  ['--sink-latency', sinkLatencyMs, 0],
  ['--floor-concurrency', floorConcurrency, 1],
  ['--subscribe-creates', subscribeCreates, 0],
  ['--subscribe-clients', subscribeClients, 1],
  ['--outbox-rows', outboxRows, 1],
  ['--outbox-updates', outboxUpdates, 1],
  ['--rtt-ms', rttMs, 0],
  ['--latency-subscribers', latencySubscribers, 0],
  ['--latency-sink-ms', latencySinkMs, 0],
  ['--ranges-subscribers', rangesSubscribers, 0],
  ['--ranges-target', rangesTarget, 1],
] as const) {
  if (!Number.isInteger(v) || v < min) {
    process.stderr.write(`bench: ${flag} must be an integer >= ${min}\n`);
    process.exit(2);
  }
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

/** Every function process counts its Firestore RPCs. */
const FUNCTION_NODE_OPTIONS = `--import tsx --import ${join(REPO_ROOT, 'bench', 'preload-rpc-counter.ts')}`;

/** Sum of the RPC counts every instrumented function process has written so far. */
function functionRpcs(dir: string): RpcCounts {
  const all: RpcCounts[] = [];
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.json')) all.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as RpcCounts);
  }
  return sumCounts(all);
}

interface PipelineRun {
  summary: RestockRunSummary;
  rpcs: RpcCounts;
  peakRssMb: number;
  cpu: CpuSeconds;
}

/** CPU seconds of every stack component and of this process (the poller, or the naive baseline and floor themselves). */
function cpuNow(stack: Stack): CpuSeconds {
  return { ...cpuSecondsByGroup(stack.description.pids), bench: ownCpuSeconds() };
}

async function pipelineRun(stack: Stack, clients: StackClients, rpcDir: string, n: number, settings: Config): Promise<PipelineRun> {
  await stack.clearFirestore();
  // A fresh fan-out process, so its peak RSS is this run's; warmed so the first event does not pay for connecting.
  await stack.restart('fanOutRestock', { env: { NODE_OPTIONS: `${FUNCTION_NODE_OPTIONS} ${FANOUT_HEAP_AS_DEPLOYED.nodeOptions}` } });
  const warm = await publishAndFollow(stack.description, clients, await seedAudience(clients, { subscribers: 20 }), { timeoutMs: 60_000, settleMs: 200 });
  if (!warm.ok) throw new Error(`the warm-up restock failed: ${warm.failure}`);

  say(`pipeline: seeding ${n.toLocaleString('en-US')} subscribers...`);
  const audience = await seedAudience(clients, { subscribers: n });
  await warmEmulatorScan(clients.firestore, audience.productId, settings);
  say(`pipeline: seeded in ${audience.seedMs} ms; publishing`);
  const pid = stack.description.pids.fanOutRestock;
  const before = functionRpcs(rpcDir);
  const cpuBefore = cpuNow(stack);
  let lastLineMs = Date.now();
  const summary = await publishAndFollow(stack.description, clients, audience, {
    timeoutMs,
    settleMs: 1500,
    onTick: ({ delivered, fanout, elapsedMs }) => {
      if (Date.now() - lastLineMs < 5000) return;
      lastLineMs = Date.now();
      say(`  ${delivered.toLocaleString('en-US')}/${n.toLocaleString('en-US')} notified after ${(elapsedMs / 1000).toFixed(1)} s (fan-out ${fanout?.state ?? '-'}, ${fanout?.pages ?? 0} pages)`);
    },
  });
  const cpu = cpuDiff(cpuNow(stack), cpuBefore);
  await sleep(500); // the counters are flushed every 100 ms
  const rpcs = diffCounts(functionRpcs(rpcDir), before);
  const { peakRssMb } = processMemoryMb(pid);
  say(`pipeline: ${n.toLocaleString('en-US')} in ${summary.elapsedMs} ms (first after ${summary.firstNotificationMs} ms), ${summary.ok ? 'exactly once' : `FAILED: ${summary.failure}`}`);
  return { summary, rpcs, peakRssMb, cpu };
}

async function main(): Promise<{ measurements: Measurements; subscribe: SubscribeBenchResult | undefined }> {
  instrumentFirestore();
  const loadAverage = loadavg() as [number, number, number];
  const rpcDir = mkdtempSync(join(tmpdir(), 'restock-bench-rpcs-'));
  say(`starting a local stack (load average ${loadAverage.map((l) => l.toFixed(2)).join(' ')})...`);
  const stack = await startStack({
    env: {
      NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
      RESTOCK_BENCH_RPC_DIR: rpcDir,
    },
    // No periodic outbox sweep: its Firestore reads would count as the pipeline's. The outbox phase sweeps itself.
    sweepIntervalMs: 0,
  });
  const clients = clientsFor(stack.description);
  // The floor must do the pipeline's work with the pipeline's settings: the ones the
  // stack gave its functions, not this process's environment (the stack drops RESTOCK_*).
  const settings = parseConfig(stack.description.env);
  const stopAll = async (): Promise<void> => {
    await clients.close();
    await stack.stop();
    rmSync(rpcDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().finally(() => process.exit(130)));
  try {
    await setSinkFaults(stack.description.sink, { latencyMs: sinkLatencyMs });

    const tenthN = Math.max(1, Math.round(subscribers / 10));
    const tenth = await pipelineRun(stack, clients, rpcDir, tenthN, settings);
    const full = await pipelineRun(stack, clients, rpcDir, subscribers, settings);

    await stack.clearFirestore();
    say(`naive: seeding ${subscribers.toLocaleString('en-US')} subscribers...`);
    const naiveAudience = await seedAudience(clients, { subscribers });
    const naiveClients = clientsFor(stack.description);
    say('naive: running (one process, one call per 100 in sequence, one write per dedup document and per deletion)...');
    const naiveCpuBefore = cpuNow(stack);
    const naive = await runNaive(naiveClients.firestore, stack.description.sink, {
      productId: naiveAudience.productId,
      eventKey: randomUUID(),
      product: { ...naiveAudience.product, available: 25 },
    });
    const naiveCpu = cpuDiff(cpuNow(stack), naiveCpuBefore);
    const naiveRpcs = rpcCountsOf(naiveClients.firestore);
    await naiveClients.close();
    say(`naive: ${naive.sent.toLocaleString('en-US')} in ${naive.elapsedMs} ms`);

    await stack.clearFirestore();
    say(`floor: seeding ${subscribers.toLocaleString('en-US')} subscribers...`);
    const floorAudience = await seedAudience(clients, { subscribers });
    await warmEmulatorScan(clients.firestore, floorAudience.productId, settings);
    const floorClients = clientsFor(stack.description);
    const floorCpuBefore = cpuNow(stack);
    const floor = await runStorageFloor(floorClients.firestore, {
      productId: floorAudience.productId,
      eventKey: randomUUID(),
      pageSize: settings.pageSize,
      chunkSize: settings.chunkSize,
      concurrency: floorConcurrency,
    });
    const floorCpu = cpuDiff(cpuNow(stack), floorCpuBefore);
    const floorRpcs = rpcCountsOf(floorClients.firestore);
    await floorClients.close();
    say(`floor: ${floor.recipients.toLocaleString('en-US')} in ${floor.elapsedMs} ms`);

    await stack.clearFirestore();
    const outbox = await runOutboxBench(stack.description, clients, { rows: outboxRows, updates: outboxUpdates, say, sweep: () => stack.sweepNow() });

    await stack.clearFirestore();
    const subscribe =
      subscribeCreates > 0
        ? await runSubscribeBench(stack.description, { clients: subscribeClients, subscriptions: subscribeCreates, products: 100, onProgress: say })
        : undefined;

    await stack.clearFirestore();
    // Last but one: it restarts fan-out and delivery through the proxy and changes the sink's latency.
    const latency = latencySubscribers > 0 ? await runLatencyPhase(stack, clients, { subscribers: latencySubscribers, rttMs, sinkLatencyMs: latencySinkMs, timeoutMs, say }) : undefined;

    await stack.clearFirestore();
    // After every other phase: it pauses delivery and leaves its audiences in the database.
    const ranges = rangesSubscribers > 0 ? await runRangesPhase(stack, clients, { subscribers: rangesSubscribers, rangeTarget: rangesTarget, timeoutMs, say }) : undefined;

    const measurements: Measurements = {
      subscribers,
      loadAverage,
      sinkLatencyMs,
      pipeline: {
        elapsedMs: full.summary.elapsedMs,
        firstNotificationMs: full.summary.firstNotificationMs,
        p50LatencyMs: full.summary.p50LatencyMs,
        p95LatencyMs: full.summary.p95LatencyMs,
        notified: full.summary.notified,
        duplicates: full.summary.duplicates,
        missing: full.summary.missing,
        tasks: full.summary.tasks,
        rpcs: full.rpcs,
      },
      naive: { elapsedMs: naive.elapsedMs, sent: naive.sent, rpcs: naiveRpcs },
      floor: { elapsedMs: floor.elapsedMs, firstClaimMs: floor.firstClaimMs, rpcs: floorRpcs },
      cpuSeconds: { pipeline: full.cpu, naive: naiveCpu, floor: floorCpu },
      fanoutPeakRssMb: full.peakRssMb,
      fanoutPeakRssMbTenth: tenth.peakRssMb,
      tenth: { subscribers: tenthN, elapsedMs: tenth.summary.elapsedMs, firstNotificationMs: tenth.summary.firstNotificationMs, ok: tenth.summary.ok },
      outbox,
      ...(latency ? { latency } : {}),
      ...(ranges ? { ranges } : {}),
    };
    return { measurements, subscribe };
  } finally {
    await stopAll();
  }
}

try {
  const { measurements, subscribe } = await main();
  const result = summarize(measurements);
  process.stdout.write(`${formatTable(result)}\n`);
  if (subscribe) process.stdout.write(`${formatSubscribeTable(subscribe)}\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify(subscribe ? { ...result, subscribe } : result)}\n`);
  process.exit(0);
} catch (err) {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}
