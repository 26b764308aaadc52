/**
 * `deliverRestockBatch`'s handling of one Cloud Tasks request, without a
 * framework: who may call, whether the pipeline signed the body, the chunk, the answer. `functions/deliverRestockBatch.ts`
 * adapts functions-framework's request to it and writes the reply; the
 * simulation calls the same function, so what the deployed function answers
 * to a chunk (and so what Cloud Tasks retries) is what the simulation's queue sees.
 */
import { verifyDeliveryRequest } from '../auth/index.ts';
import { errorToProblemReply, headerValue, jsonReply, MethodNotAllowedError, type HttpReply, type HttpRequestLike } from '../http/index.ts';
import { errorFields } from '../log.ts';
import { queueLagMs } from '../metrics/index.ts';
import type { Notifier } from '../notify/index.ts';
import type { Runtime } from '../runtime.ts';
import { parseDeliveryTask } from '../tasks/index.ts';
import { deliverChunk } from './execute.ts';
import { ChunkNotSettledError, DELIVERY_PROBLEMS } from './problems.ts';

/** A request as `deliverRestockBatch` receives it: the method, headers, the parsed JSON body and the bytes it was parsed from (what the signature covers). */
export interface DeliveryRequest extends Pick<HttpRequestLike, 'method' | 'headers' | 'rawBody'> {
  body: unknown;
}

/**
 * Answers one delivery task. Never throws: 2xx once the chunk is settled, 503
 * while something retryable remains (Cloud Tasks retries; the ledger skips what
 * is done), 4xx for a caller or a body fan-out never sends, every answer from
 * `DELIVERY_PROBLEMS`.
 */
export async function handleDeliveryRequest(rt: Runtime, notifier: Notifier, req: DeliveryRequest): Promise<HttpReply> {
  const retryCount = Number(headerValue(req, 'x-cloudtasks-taskretrycount') ?? '0') || 0;
  let flowLog = rt.log.child({ taskName: headerValue(req, 'x-cloudtasks-taskname'), retryCount });
  try {
    if (req.method !== 'POST') throw new MethodNotAllowedError(req.method, ['POST']);
    const lagMs = queueLagMs(headerValue(req, 'x-cloudtasks-tasketa'), rt.now());
    if (lagMs !== undefined) rt.metrics?.queueLag(lagMs, 'delivery');
    // The caller's token, then the body's signature (only the pipeline signs tasks): before anything is read.
    await verifyDeliveryRequest(req, rt.config);
    const task = parseDeliveryTask(req.body);
    flowLog = flowLog.child({ eventKey: task.eventKey, productId: task.productId });
    const report = await deliverChunk(rt, notifier, task, { retryCount }, flowLog);
    if (!report.settled) throw new ChunkNotSettledError(report); // deliverChunk logged it
    return jsonReply(200, report);
  } catch (err) {
    const reply = errorToProblemReply(err, DELIVERY_PROBLEMS);
    if (!(err instanceof ChunkNotSettledError)) {
      const severity = reply.status < 500 && reply.status !== 400 ? 'warn' : 'error';
      flowLog[severity]('delivery refused or failed', { status: reply.status, err: errorFields(err) });
    }
    return reply;
  }
}
