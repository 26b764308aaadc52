/**
 * The two entry points as the simulation calls them: the very handlers the
 * deployed `functions/fanOutRestock.ts` and `functions/deliverRestockBatch.ts`
 * call (`lib/fanout`'s and `lib/delivery`'s entry), given the simulation's
 * runtime instead of the process's. Nothing of their logic is restated here:
 * the last attempt of a push or of a task, poison recorded and acknowledged,
 * and the problem tables are the deployed code's.
 */
import { handleFanoutRequest } from '../lib/fanout/index.ts';
import { handleDeliveryRequest } from '../lib/delivery/index.ts';
import type { HttpReply } from '../lib/http/index.ts';
import type { Notifier } from '../lib/notify/index.ts';
import type { Runtime } from '../lib/runtime.ts';

/** What the simulation's trace says of an answer: the outcome of a 2xx, the problem's type otherwise. */
function described(reply: HttpReply): { status: number; outcome: string } {
  let outcome = String(reply.status);
  try {
    const body = JSON.parse(reply.body ?? '{}') as { outcome?: unknown; type?: unknown; sent?: unknown; failed?: unknown; busy?: unknown; exhausted?: unknown };
    if (typeof body.outcome === 'string') outcome = body.outcome;
    else if (typeof body.type === 'string') outcome = body.type.replace(/^.*\//, '');
    else if (typeof body.sent === 'number') outcome = `sent ${body.sent} failed ${body.failed} busy ${body.busy} exhausted ${body.exhausted}`;
  } catch {
    // A body that is not JSON is described by its status alone.
  }
  return { status: reply.status, outcome };
}

/** `fanOutRestock`: 2xx acknowledges (done, duplicate, ignored, poison recorded); anything else is redelivered. */
export async function fanOutRestock(rt: Runtime, headers: Record<string, string>, body: unknown, rawBody?: Buffer): Promise<{ status: number; outcome: string }> {
  return described(await handleFanoutRequest(rt, { headers, body, ...(rawBody ? { rawBody } : {}) }));
}

/** `deliverRestockBatch`: 200 when the chunk is settled, 503 when something retryable remains, 400 for a body fan-out never sends. */
export async function deliverRestockBatch(rt: Runtime, notifier: Notifier, headers: Record<string, string>, body: unknown, rawBody?: Buffer): Promise<{ status: number; outcome: string }> {
  return described(await handleDeliveryRequest(rt, notifier, { method: 'POST', headers, body, ...(rawBody ? { rawBody } : {}) }));
}
