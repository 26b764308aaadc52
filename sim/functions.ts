/**
 * The two entry points as the simulation calls them: what
 * `functions/fanOutRestock.ts` and `functions/deliverRestockBatch.ts` do,
 * minus express and the OIDC check, with the same status for every outcome.
 * They are restated here (a dozen lines each) because the real files
 * register with functions-framework and take the process-wide runtime at
 * import; everything they call — parsing, the fan-out, delivery, the ledger,
 * the notifier — is the real code of lib/.
 */
import { InvalidEventError, parseIncoming } from '../lib/events/index.ts';
import { FanoutNotFoundError, handleFanout, LeaseHeldError, LeaseLostError, recordRejectedEvent } from '../lib/fanout/index.ts';
import { deliverChunk, InvalidDeliveryTaskError, parseDeliveryTask } from '../lib/delivery/index.ts';
import type { Notifier } from '../lib/notify/index.ts';
import type { Runtime } from '../lib/runtime.ts';

/** `fanOutRestock`: 2xx acknowledges (done, duplicate, ignored, poison recorded); anything else is redelivered. */
export async function fanOutRestock(rt: Runtime, headers: Record<string, string>, body: unknown): Promise<{ status: number; outcome: string }> {
  let incoming;
  try {
    incoming = parseIncoming({ headers, body });
  } catch (err) {
    if (!(err instanceof InvalidEventError)) throw err;
    await recordRejectedEvent(rt.db, err, JSON.stringify(body ?? null), rt.now(), rt.config.ledgerTtlDays);
    return { status: 200, outcome: 'rejected' };
  }
  try {
    const outcome = await handleFanout(rt, incoming, rt.log);
    return { status: 200, outcome: outcome.kind };
  } catch (err) {
    if (err instanceof LeaseHeldError || err instanceof LeaseLostError) return { status: 503, outcome: (err as Error).name };
    if (err instanceof FanoutNotFoundError) return { status: 200, outcome: err.name };
    return { status: 500, outcome: (err as Error)?.name ?? 'error' };
  }
}

/** `deliverRestockBatch`: 200 when the chunk is settled, 503 when something retryable remains, 400 for a body fan-out never sends. */
export async function deliverRestockBatch(
  rt: Runtime,
  notifier: Notifier,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; outcome: string }> {
  const retryCount = Number(headers['x-cloudtasks-taskretrycount'] ?? '0') || 0;
  try {
    const task = parseDeliveryTask(body);
    const report = await deliverChunk(rt, notifier, task, { retryCount }, rt.log);
    return { status: report.settled ? 200 : 503, outcome: `sent ${report.sent} failed ${report.failed} busy ${report.busy} exhausted ${report.exhausted}` };
  } catch (err) {
    if (err instanceof InvalidDeliveryTaskError) return { status: 400, outcome: err.name };
    return { status: 500, outcome: (err as Error)?.name ?? 'error' };
  }
}
