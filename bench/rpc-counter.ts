/**
 * Counting Firestore RPCs by instrumenting the client: every unary call goes
 * through `Firestore.prototype.request` and every streaming one (queries,
 * `getAll`, transactions' reads) through `requestStream`, so wrapping the two
 * counts what the process asks of Firestore, per method, whatever code issued it.
 *
 * Retries inside the client (gax backoff, stream restarts) are not counted
 * again: the figure is the number of calls the code made, which is what a
 * design decides.
 */
import { Firestore } from '@google-cloud/firestore';

/** RPCs per method name (`commit`, `batchGetDocuments`, `runQuery`, ...). */
export type RpcCounts = Record<string, number>;

const PER_INSTANCE = Symbol('benchRpcCounts');
const processCounts: RpcCounts = {};
let installed = false;

type Counted = Firestore & { [PER_INSTANCE]?: RpcCounts };
type RequestFn = (this: Counted, methodName: string, ...rest: unknown[]) => unknown;

function count(instance: Counted, methodName: string): void {
  processCounts[methodName] = (processCounts[methodName] ?? 0) + 1;
  instance[PER_INSTANCE] ??= {};
  const own = instance[PER_INSTANCE];
  own[methodName] = (own[methodName] ?? 0) + 1;
}

/**
 * Wraps the client's two RPC funnels once per process. Idempotent.
 * Relies on internal (but long-stable) method names of `@google-cloud/firestore`;
 * throws if they are gone so a version bump cannot silently count zero.
 */
export function instrumentFirestore(): void {
  if (installed) return;
  const proto = Firestore.prototype as unknown as Record<'request' | 'requestStream', RequestFn>;
  for (const name of ['request', 'requestStream'] as const) {
    const original = proto[name];
    if (typeof original !== 'function') throw new Error(`@google-cloud/firestore has no Firestore.prototype.${name}: update bench/rpc-counter.ts`);
    proto[name] = function (this: Counted, methodName: string, ...rest: unknown[]) {
      count(this, methodName);
      return original.call(this, methodName, ...rest);
    };
  }
  installed = true;
}

/** A copy of the RPCs counted in this process since {@link instrumentFirestore}. */
export function processRpcCounts(): RpcCounts {
  return { ...processCounts };
}

/** A copy of the RPCs one client instance made. */
export function rpcCountsOf(firestore: Firestore): RpcCounts {
  return { ...((firestore as Counted)[PER_INSTANCE] ?? {}) };
}

/** Sum of every method's count. */
export function totalRpcs(counts: RpcCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** `after - before`, per method (methods absent before count from zero). */
export function diffCounts(after: RpcCounts, before: RpcCounts): RpcCounts {
  const out: RpcCounts = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** Adds counts together, per method. */
export function sumCounts(all: readonly RpcCounts[]): RpcCounts {
  const out: RpcCounts = {};
  for (const c of all) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
}
