/**
 * The two entry points as the simulation calls them: what
 * `functions/fanOutRestock.ts` and `functions/deliverRestockBatch.ts` do,
 * minus express and the OIDC check. The real files register with
 * functions-framework and take the process-wide runtime at import, so the
 * simulation calls what they call — parsing, the fan-out, delivery, the
 * ledger, the notifier — and answers from the same problem tables
 * (`FANOUT_PROBLEMS`, `DELIVERY_PROBLEMS`) and last-attempt rule.
 */
import { InvalidEventError, parseIncoming } from '../lib/events/index.ts';
import { FANOUT_PROBLEMS, handleFanout, recordRejectedEvent } from '../lib/fanout/index.ts';
import { DELIVERY_PROBLEMS, deliverChunk, parseDeliveryTask } from '../lib/delivery/index.ts';
import { errorToProblemReply } from '../lib/http/index.ts';
import { isLastTaskAttempt } from '../lib/tasks/index.ts';
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
    const lastAttempt = incoming.kind === 'continuation' && isLastTaskAttempt(headers['x-cloudtasks-taskretrycount'], rt.config.deliveryMaxAttempts);
    const outcome = await handleFanout(rt, incoming, rt.log, { lastAttempt });
    return { status: 200, outcome: outcome.kind };
  } catch (err) {
    return { status: errorToProblemReply(err, FANOUT_PROBLEMS).status, outcome: (err as Error)?.name ?? 'error' };
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
    // A chunk not settled is the function's ChunkNotSettledError: 503.
    return { status: report.settled ? 200 : 503, outcome: `sent ${report.sent} failed ${report.failed} busy ${report.busy} exhausted ${report.exhausted}` };
  } catch (err) {
    return { status: errorToProblemReply(err, DELIVERY_PROBLEMS).status, outcome: (err as Error)?.name ?? 'error' };
  }
}
