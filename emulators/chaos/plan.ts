/**
 * The faults of one chaos run, drawn from its seed: the same seed and size
 * give the same plan, so a failing run can be replayed. Pure.
 */
import type { FaultProfile } from '../sink/index.ts';
import { seededRandom } from '../sink/faults.ts';

/**
 * One action of the plan, triggered by the run's progress rather than the
 * clock (restarting a function takes seconds, which would shift every later
 * fault off the work it is meant to hit).
 */
export type PlannedFault =
  /** SIGKILL the fan-out once it checkpointed `afterChunks` chunks, restart it `downMs` later; Pub/Sub redelivers the unanswered push. */
  | { kind: 'kill-fanout'; afterChunks: number; downMs: number }
  /** SIGKILL the delivery function once `atSettled` of the shoppers are settled, while it holds claims (mid-chunk); restart it `downMs` later. */
  | { kind: 'kill-delivery'; atSettled: number; downMs: number }
  /** Push the restock message again, `copies` at once: while the fan-out runs, or after everyone is settled. */
  | { kind: 'redeliver'; when: 'fanout-running' | 'all-settled'; copies: number }
  /** Once `atSettled` of the shoppers are settled, unsubscribe `remove` (indices of seeded shoppers) and subscribe `add` new ones. */
  | { kind: 'churn'; atSettled: number; remove: number[]; add: number };

/** What a run does, from its seed. */
export interface ChaosPlan {
  seed: number;
  subscribers: number;
  /** Channel of subscriber `i` (one each, so one notification per subscriber). */
  channelOf: (i: number) => 'email' | 'push';
  /** Whether subscriber `i` has an address the sink refuses for good (bad address, unregistered token). */
  undeliverable: (i: number) => boolean;
  /** The sink's fault profile for the product (503s, 429s with Retry-After, timeouts, item retries, latency). */
  sink: Omit<FaultProfile, 'productId'>;
  /** Timed faults, in time order. */
  faults: PlannedFault[];
}

/** Recipients per delivery task in chaos runs (`RESTOCK_CHUNK_SIZE` of `CHAOS_STACK_ENV`). */
export const CHAOS_CHUNK_SIZE = 25;

/** Integer in [min, max]. */
function between(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/**
 * Draws a plan for `subscribers` shoppers. Every plan kills each function at
 * least once, redelivers the event (sequentially and concurrently), churns
 * the audience and makes the sink fail in every way it can; the seed decides
 * when, how often and how hard.
 */
export function planChaos(seed: number, subscribers: number): ChaosPlan {
  const random = seededRandom(seed);
  const chunks = Math.ceil(subscribers / CHAOS_CHUNK_SIZE);
  const fraction = (from: number, to: number): number => Math.round((from + random() * (to - from)) * 100) / 100;
  const faults: PlannedFault[] = [];
  faults.push({ kind: 'kill-fanout', afterChunks: between(random, 1, Math.max(1, Math.floor(chunks / 2))), downMs: between(random, 200, 1_500) });
  for (let i = between(random, 1, 3); i > 0; i--) faults.push({ kind: 'kill-delivery', atSettled: fraction(0.05, 0.8), downMs: between(random, 200, 1_500) });
  faults.push({ kind: 'redeliver', when: 'fanout-running', copies: between(random, 2, 4) });
  faults.push({ kind: 'redeliver', when: 'all-settled', copies: 1 });
  const removeCount = Math.max(1, Math.round(subscribers * (0.01 + random() * 0.02)));
  const remove = new Set<number>();
  while (remove.size < Math.min(removeCount, subscribers - 1)) remove.add(between(random, 0, subscribers - 1));
  faults.push({ kind: 'churn', atSettled: fraction(0.1, 0.6), remove: [...remove].sort((a, b) => a - b), add: between(random, 1, 10) });

  const undeliverableRate = 0.01 + random() * 0.04;
  const pushRate = 0.2 + random() * 0.3;
  // Per-subscriber draws from a hash of (seed, i), so they do not depend on the order of calls.
  const draw = (i: number, salt: number): number => seededRandom((seed * 2_654_435_761 + i * 40_503 + salt) | 0)();
  return {
    seed,
    subscribers,
    channelOf: (i) => (draw(i, 1) < pushRate ? 'push' : 'email'),
    undeliverable: (i) => draw(i, 2) < undeliverableRate,
    sink: {
      latencyMs: between(random, 5, 40),
      jitterMs: between(random, 0, 40),
      status503Rate: Math.round(random() * 0.15 * 1000) / 1000,
      status429Rate: Math.round(random() * 0.1 * 1000) / 1000,
      retryAfterSeconds: 1,
      timeoutRate: Math.round(random() * 0.03 * 1000) / 1000,
      retryRate: Math.round(random() * 0.05 * 1000) / 1000,
      seed,
    },
    faults,
  };
}
