/**
 * The network between a process and the services it calls, in virtual time.
 * Every call of every in-memory service goes through {@link Net.call}: it is
 * a scheduling point (the caller waits; other work runs), and it is where the
 * seed's faults land:
 *
 * - the calling process dies at this await point, before its request left
 *   (nothing happens) or after the service did the work (the answer is lost);
 * - the service answers a transient error without doing anything
 *   (UNAVAILABLE, ABORTED on a commit), or after doing the work (the caller
 *   sees an error for a write that happened: DEADLINE_EXCEEDED).
 *
 * The request reaches the service at half the round trip and is carried out
 * there even if its sender died meanwhile (it was already on the wire).
 */
import { status } from '@grpc/grpc-js';
import type { Prng } from './prng.ts';
import { never, type Scheduler, type SimProcess } from './scheduler.ts';

/** An error as the Google clients raise it: a gRPC `code` and its details. */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${code} ${status[code] ?? 'UNKNOWN'}: ${details}`);
  }
}

/** How likely each fault is on one call; all zero for a run without faults. */
export interface CallFaults {
  /** The caller dies before the request leaves. */
  dieBefore: number;
  /** The service does the work; the caller dies before the answer arrives. */
  dieAfter: number;
  /** A transient error without effect (UNAVAILABLE; ABORTED for a commit). */
  transient: number;
  /** The work is done but the caller gets DEADLINE_EXCEEDED (a mutating call only). */
  ambiguous: number;
}

/** Which process an error was delivered to: an unhandled rejection crashes that process. */
export const ERROR_OWNER = new WeakMap<object, SimProcess>();

function owned<E>(error: E, proc: SimProcess): E {
  if (error !== null && typeof error === 'object') ERROR_OWNER.set(error, proc);
  return error;
}

export const NO_FAULTS: CallFaults = { dieBefore: 0, dieAfter: 0, transient: 0, ambiguous: 0 };

export interface CallSpec<T> {
  /** Service name for the trace: `firestore`, `tasks`, `notifier`. */
  service: string;
  what: string;
  /** Round trip in ms. */
  latencyMs: number;
  /** Whether the call changes something (an ambiguous failure only makes sense for those). */
  mutating: boolean;
  /** The transient code this call fails with (default UNAVAILABLE). */
  transientCode?: number;
  /** Carried out at the service, at half the round trip. May throw (a failed precondition). */
  apply: () => T;
}

export class Net {
  /** Calls whose process died at them: the trace names each. */
  deaths = 0;

  constructor(
    readonly scheduler: Scheduler,
    private readonly random: Prng,
    public faults: CallFaults,
  ) {}

  /** Kills `proc` now: every call it waits on stays pending forever. */
  kill(proc: SimProcess, why: string): void {
    if (!proc.alive) return;
    proc.alive = false;
    this.deaths++;
    this.scheduler.log(proc.name, `DIES ${why}`);
  }

  call<T>(proc: SimProcess, spec: CallSpec<T>): Promise<T> {
    if (!proc.alive) return never();
    const f = this.faults;
    const r = this.random;
    if (r.chance(f.dieBefore)) {
      this.kill(proc, `before ${spec.service} ${spec.what}`);
      return never();
    }
    const transient = r.chance(f.transient);
    const dieAfter = !transient && r.chance(f.dieAfter);
    const ambiguous = !transient && !dieAfter && spec.mutating && r.chance(f.ambiguous);
    const half = Math.max(0, Math.floor(spec.latencyMs / 2));
    return new Promise<T>((resolve, reject) => {
      this.scheduler.at(half, () => {
        if (transient) {
          const code = spec.transientCode ?? status.UNAVAILABLE;
          this.scheduler.at(spec.latencyMs - half, () => proc.alive && reject(owned(new GrpcError(code, `simulated ${status[code]} on ${spec.what}`), proc)));
          return;
        }
        let result: { ok: true; value: T } | { ok: false; error: unknown };
        try {
          result = { ok: true, value: spec.apply() };
          if (spec.mutating) this.scheduler.log(proc.name, `${spec.service} ${spec.what}`);
        } catch (error) {
          result = { ok: false, error };
          if (spec.mutating) this.scheduler.log(proc.name, `${spec.service} ${spec.what} refused: ${(error as Error)?.message?.slice(0, 80)}`);
        }
        if (dieAfter) {
          this.kill(proc, `after ${spec.service} ${spec.what} was carried out (answer lost)`);
          return;
        }
        this.scheduler.at(spec.latencyMs - half, () => {
          if (!proc.alive) return;
          if (ambiguous && result.ok) reject(owned(new GrpcError(status.DEADLINE_EXCEEDED, `simulated deadline after ${spec.what} was carried out`), proc));
          else if (result.ok) resolve(result.value);
          else reject(owned(result.error, proc));
        });
      });
    });
  }
}
