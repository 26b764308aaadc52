/**
 * The bench's latency phase (issue 15): the pipeline and the naive design,
 * both in full on the same audience size, with a latency proxy in front of
 * the Firestore emulator (bench/latency-proxy.ts, `--rtt-ms`) and the sink
 * answering each call after `--latency-sink-ms`. On loopback a Firestore call
 * is nearly free, so the naive design's one write per recipient in sequence
 * looks cheap; with a round trip per call, as in a region, it is what bounds
 * it, while the pipeline overlaps its calls.
 *
 * The functions that talk to Firestore (fan-out and delivery) are restarted
 * with `FIRESTORE_EMULATOR_HOST` pointing at the proxy, and back afterwards;
 * the naive design gets a Firestore client through the proxy. Pub/Sub and
 * Cloud Tasks are not delayed: their latency is the platform's, the same for
 * both designs' inputs.
 */
import { randomUUID } from 'node:crypto';
import { clientsFor, type Stack, type StackClients } from '../emulators/stack/index.ts';
import { publishAndFollow, seedAudience, setSinkFaults } from '../emulators/scenario/index.ts';
import { startLatencyProxy } from './latency-proxy.ts';
import { runNaive } from './naive.ts';
import { cpuDiff, cpuSecondsByGroup, ownCpuSeconds, type CpuSeconds } from './cpu.ts';

/** What the latency phase measured. */
export interface LatencyBench {
  subscribers: number;
  rttMs: number;
  sinkLatencyMs: number;
  pipelineMs: number;
  firstNotificationMs: number | null;
  duplicates: number;
  missing: number;
  naiveMs: number;
  naiveSent: number;
  /** CPU seconds per stack component (and `bench`, this process, which runs the naive design) during each run. */
  cpuSeconds: { pipeline: CpuSeconds; naive: CpuSeconds };
}

export interface LatencyOptions {
  subscribers: number;
  rttMs: number;
  sinkLatencyMs: number;
  timeoutMs: number;
  say: (line: string) => void;
}

/** The functions whose Firestore calls go through the proxy. */
const FIRESTORE_FUNCTIONS = ['fanOutRestock', 'deliverRestockBatch'] as const;

/**
 * Runs the pipeline, then the naive design, each on its own `subscribers`
 * shoppers, through a latency proxy; restores the functions' direct access.
 * @throws Error when the pipeline run does not notify everyone exactly once.
 */
export async function runLatencyPhase(stack: Stack, clients: StackClients, o: LatencyOptions): Promise<LatencyBench> {
  const proxy = await startLatencyProxy(stack.description.firestore, o.rttMs);
  const n = o.subscribers.toLocaleString('en-US');
  try {
    await setSinkFaults(stack.description.sink, { latencyMs: o.sinkLatencyMs });
    for (const name of FIRESTORE_FUNCTIONS) await stack.restart(name, { env: { FIRESTORE_EMULATOR_HOST: proxy.address } });
    const warm = await publishAndFollow(stack.description, clients, await seedAudience(clients, { subscribers: 20 }), { timeoutMs: 60_000, settleMs: 200 });
    if (!warm.ok) throw new Error(`the warm-up restock through the latency proxy failed: ${warm.failure}`);

    o.say(`latency (${o.rttMs} ms round trip to Firestore, sink ${o.sinkLatencyMs} ms): seeding ${n} subscribers for the pipeline...`);
    const audience = await seedAudience(clients, { subscribers: o.subscribers });
    const cpuNow = (): CpuSeconds => ({ ...cpuSecondsByGroup(stack.description.pids), bench: ownCpuSeconds() });
    const pipelineCpuBefore = cpuNow();
    const pipeline = await publishAndFollow(stack.description, clients, audience, { timeoutMs: o.timeoutMs, settleMs: 1500 });
    const pipelineCpu = cpuDiff(cpuNow(), pipelineCpuBefore);
    o.say(`latency: pipeline ${n} in ${pipeline.elapsedMs} ms (first after ${pipeline.firstNotificationMs} ms), ${pipeline.ok ? 'exactly once' : `FAILED: ${pipeline.failure}`}`);
    if (!pipeline.ok) throw new Error(`the pipeline under latency did not notify everyone exactly once: ${pipeline.failure}`);

    o.say(`latency: seeding ${n} subscribers for the naive design...`);
    const naiveAudience = await seedAudience(clients, { subscribers: o.subscribers });
    const proxied = clientsFor({ ...stack.description, firestore: proxy.address });
    try {
      o.say('latency: naive design running (one write per recipient, each a round trip)...');
      const naiveCpuBefore = cpuNow();
      const naive = await runNaive(proxied.firestore, stack.description.sink, {
        productId: naiveAudience.productId,
        eventKey: randomUUID(),
        product: { ...naiveAudience.product, available: 25 },
      });
      const naiveCpu = cpuDiff(cpuNow(), naiveCpuBefore);
      o.say(`latency: naive ${naive.sent.toLocaleString('en-US')} in ${naive.elapsedMs} ms`);
      return {
        subscribers: o.subscribers,
        rttMs: o.rttMs,
        sinkLatencyMs: o.sinkLatencyMs,
        pipelineMs: pipeline.elapsedMs,
        firstNotificationMs: pipeline.firstNotificationMs,
        duplicates: pipeline.duplicates,
        missing: pipeline.missing,
        naiveMs: naive.elapsedMs,
        naiveSent: naive.sent,
        cpuSeconds: { pipeline: pipelineCpu, naive: naiveCpu },
      };
    } finally {
      await proxied.close();
    }
  } finally {
    for (const name of FIRESTORE_FUNCTIONS) await stack.restart(name, { env: {} });
    await proxy.close();
  }
}
