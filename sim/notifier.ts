/**
 * The notification service, in memory, behind the real `HttpNotifier`
 * (lib/notify): the simulation hands it a `fetch` whose calls go through the
 * {@link Net} of the calling process. The service has latency; answers 503,
 * 429 with Retry-After, or nothing at all (the client's timeout; sometimes
 * after it did the work); rejects bad addresses for good; and may answer
 * `retry` for single notifications. Every notification it takes is recorded
 * with the time, so the invariants can tell a duplicate send.
 */
import type { Prng } from './prng.ts';
import { never, type Scheduler, type SimProcess } from './scheduler.ts';
import type { Net } from './net.ts';

export interface NotifierFaults {
  unavailable: number;
  tooManyRequests: number;
  /** No answer within the client's timeout. */
  timeout: number;
  /** Of the timeouts, the share where the service did the work anyway. */
  timeoutAfterWork: number;
  /** Per notification of an accepted batch: answered `retry`. */
  itemRetry: number;
}

/** One notification the service took (the call reached it and it did the work). */
export interface Receipt {
  key: string;
  atMs: number;
  actor: string;
  to: string;
}

export class NotificationService {
  readonly receipts: Receipt[] = [];
  calls = 0;
  /** Addresses the service refuses for good (bad address, unregistered token). */
  readonly badAddresses = new Set<string>();
  readonly listeners: ((r: Receipt) => void)[] = [];
  /** Told each time a process starts a call, with how many it now has in flight. */
  readonly inFlightListeners: ((proc: SimProcess, inFlight: number) => void)[] = [];

  constructor(
    private readonly scheduler: Scheduler,
    private readonly net: Net,
    private readonly random: Prng,
    public faults: NotifierFaults,
    private readonly latencyMs: () => number,
  ) {}

  /** A `fetch` for one process's HttpNotifier. `timeoutMs` is the client's own (it uses AbortSignal.timeout, real time, which cannot fire here). */
  fetchFor(proc: SimProcess, timeoutMs: number): typeof fetch {
    return (async (_url: unknown, init?: { body?: unknown }) => {
      const { notifications } = JSON.parse(String(init?.body)) as { notifications: { idempotencyKey: string; to: string }[] };
      const f = this.faults;
      const r = this.random;
      const outcome = r.chance(f.unavailable) ? 503 : r.chance(f.tooManyRequests) ? 429 : r.chance(f.timeout) ? 'timeout' : 200;
      const didWork = outcome === 200 || (outcome === 'timeout' && r.chance(f.timeoutAfterWork));
      const itemStates = notifications.map((n) => (this.badAddresses.has(n.to) ? 'rejected' : r.chance(f.itemRetry) ? 'retry' : 'sent'));
      proc.notifierInFlight++;
      for (const l of this.inFlightListeners) l(proc, proc.notifierInFlight);
      const latency = outcome === 'timeout' ? timeoutMs : Math.min(this.latencyMs(), timeoutMs);
      try {
        await this.net.call(proc, {
          service: 'notifier',
          what: `send ${notifications.length} notification(s) → ${outcome}`,
          latencyMs: latency,
          mutating: true,
          apply: () => {
            this.calls++;
            if (!didWork) return;
            notifications.forEach((n, i) => {
              if (itemStates[i] !== 'sent') return;
              const receipt = { key: n.idempotencyKey, atMs: this.scheduler.nowMs, actor: proc.name, to: n.to };
              this.receipts.push(receipt);
              for (const l of this.listeners) l(receipt);
            });
          },
        });
      } finally {
        proc.notifierInFlight--;
      }
      if (!proc.alive) return never();
      if (outcome === 'timeout') {
        throw Object.assign(new Error(`The operation was aborted due to timeout`), { name: 'TimeoutError' });
      }
      const body =
        outcome === 200
          ? JSON.stringify({
              results: notifications.map((n, i) => ({
                idempotencyKey: n.idempotencyKey,
                status: itemStates[i],
                ...(itemStates[i] === 'rejected' ? { reason: 'address refused' } : {}),
              })),
            })
          : '';
      const headers = new Headers(outcome === 429 ? { 'retry-after': String(r.int(1, 10)) } : {});
      // A real Response: the notifier reads its body as a bounded stream (lib/notify/http.ts).
      return new Response(body === '' ? null : body, { status: outcome, headers });
    }) as typeof fetch;
  }
}
