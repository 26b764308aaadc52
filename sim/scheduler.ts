/**
 * Virtual time on one thread. Everything that would wait in production (a
 * Firestore round trip, a queue's backoff, p-retry's sleep) is an event on
 * this scheduler's heap; the loop takes the earliest, advances the clock to
 * it, runs it, and lets every promise it resolved run to its next wait
 * before taking the next. Nothing reads the wall clock, so a run is a pure
 * function of its seed.
 *
 * While a run is active, `setTimeout`/`clearTimeout`, `Date.now` and
 * `Math.random` are the scheduler's (the libraries the real code uses —
 * p-retry's backoff, its jitter — read them from the global object at call
 * time). They are restored when the run ends, even when it throws.
 */
import type { Prng } from './prng.ts';

interface Scheduled {
  atMs: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/** The epoch the virtual clock starts at: a fixed date, so ids and timestamps repeat. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

/** A line of the run's trace: when, who, what. */
export interface TraceLine {
  atMs: number;
  actor: string;
  what: string;
}

/**
 * A process of the simulated deployment: one function invocation. It dies at
 * an await point by never being resumed: every service call it made or makes
 * afterwards stays pending forever, which is exactly what a killed instance
 * looks like to the rest of the system.
 */
export class SimProcess {
  alive = true;
  /** Calls in flight toward the notification service (promise 8). */
  notifierInFlight = 0;
  constructor(
    readonly id: number,
    readonly name: string,
  ) {}
}

/** The promise that never settles: what a dead process waits on. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

export class Scheduler {
  nowMs = SIM_EPOCH_MS;
  private readonly heap: Scheduled[] = [];
  private seq = 0;
  private processes = 0;
  readonly trace: TraceLine[] = [];
  /** Events run so far (the run's length in steps). */
  steps = 0;

  constructor(
    /** Draws of the libraries the real code uses (p-retry's jitter): kept apart from the fault stream. */
    readonly libraryRandom: Prng,
    private readonly traceLimit = 200_000,
  ) {}

  /** Runs `fn` after `delayMs` of virtual time. */
  at(delayMs: number, fn: () => void): Scheduled {
    const item: Scheduled = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, run: fn, cancelled: false };
    this.push(item);
    return item;
  }

  /** A promise resolved after `delayMs` of virtual time. */
  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.at(delayMs, resolve));
  }

  spawn(name: string): SimProcess {
    return new SimProcess(++this.processes, name);
  }

  log(actor: string, what: string): void {
    if (this.trace.length < this.traceLimit) this.trace.push({ atMs: this.nowMs - SIM_EPOCH_MS, actor, what });
  }

  /**
   * Runs events until none is left or the clock passes `untilMs`. Between two
   * events every microtask runs (setImmediate comes after all of them), so a
   * resumed flow always reaches its next wait before time moves.
   */
  async run(untilMs: number, maxSteps = Infinity): Promise<void> {
    const restore = this.installGlobals();
    const onUnhandled = (reason: unknown) => this.onUnhandledRejection(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await drain();
      while (this.heap.length > 0 && this.steps < maxSteps) {
        const item = this.pop()!;
        if (item.cancelled) continue;
        if (item.atMs > untilMs) {
          this.push(item);
          break;
        }
        this.nowMs = Math.max(this.nowMs, item.atMs);
        this.steps++;
        item.run();
        await drain();
      }
    } finally {
      process.off('unhandledRejection', onUnhandled);
      restore();
    }
  }

  /**
   * A rejection nobody handled. functions-framework answers it by killing the
   * instance (its `unhandledRejection` handler), so the world kills the
   * process it belongs to; one that belongs to no process is the simulator's
   * own bug and is thrown.
   */
  onUnhandledRejection: (reason: unknown) => void = (reason) => {
    throw reason;
  };

  /** Whether events remain (work was cut off by the time limit). */
  get pending(): number {
    return this.heap.filter((h) => !h.cancelled).length;
  }

  private installGlobals(): () => void {
    const g = globalThis as unknown as Record<string, unknown>;
    const saved = { setTimeout: g.setTimeout, clearTimeout: g.clearTimeout, now: Date.now, random: Math.random };
    g.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const item = this.at(Number(ms) || 0, () => fn(...args));
      return { item, unref() { return this; }, ref() { return this; }, hasRef: () => true, [Symbol.toPrimitive]: () => item.seq };
    }) as unknown;
    g.clearTimeout = ((handle: { item?: Scheduled } | undefined) => {
      if (handle?.item) handle.item.cancelled = true;
    }) as unknown;
    Date.now = () => this.nowMs;
    Math.random = () => this.libraryRandom.next();
    return () => {
      g.setTimeout = saved.setTimeout;
      g.clearTimeout = saved.clearTimeout;
      Date.now = saved.now;
      Math.random = saved.random;
    };
  }

  private less(a: Scheduled, b: Scheduled): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
  }

  private push(item: Scheduled): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Scheduled | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Lets every queued microtask (and nextTick) run. */
function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
