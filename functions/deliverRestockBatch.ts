/**
 * `deliverRestockBatch`: the Cloud Tasks target. Thin: verify the caller and the body's signature,
 * parse the chunk, call `lib/delivery`, answer 2xx when the chunk is settled
 * and a problem otherwise (503 when something retryable remains: Cloud Tasks
 * retries; the ledger skips what is done). Every error is answered from one
 * table (`DELIVERY_PROBLEMS`), as RFC 9457 problem+json.
 *
 * The notifier is built when the process starts, not at the first request:
 * a delivery function that cannot send (RESTOCK_NOTIFIER=http without
 * RESTOCK_NOTIFIER_URL) refuses to start, naming the setting, instead of
 * failing every task until Cloud Tasks gives up.
 */
import { loadConfig } from '../lib/config.ts';
import {
  ChunkNotSettledError,
  DELIVERY_PROBLEMS,
  deliverChunk,
  MAX_DELIVERY_TASK_BYTES,
  parseDeliveryTask,
} from '../lib/delivery/index.ts';
import { verifyDeliveryRequest } from '../lib/auth/index.ts';
import { errorToProblemReply, jsonReply, MethodNotAllowedError, writeReply } from '../lib/http/index.ts';
import { errorFields, log } from '../lib/log.ts';
import { createNotifier, type Notifier } from '../lib/notify/index.ts';
import { queueLagMs } from '../lib/metrics/index.ts';
import { runtime } from '../lib/runtime.ts';
import { http } from './framework.ts';

let notifier: Notifier | undefined;

// Bodies over the limit and malformed JSON are answered as problems before this runs: ./framework.ts.
// A sender chosen without its settings stops the process at start, naming the setting (onStart runs only
// where this function is served: functions/index.ts loads every entry point in every function).
const onStart = (): void => {
  notifier ??= createNotifier(loadConfig(), log);
};
http('deliverRestockBatch', { maxBodyBytes: MAX_DELIVERY_TASK_BYTES, onStart }, async (req, res) => {
  const retryCount = Number(req.get('x-cloudtasks-taskretrycount') ?? '0') || 0;
  const taskName = req.get('x-cloudtasks-taskname');
  let flowLog = log.child({ taskName, retryCount });
  try {
    if (req.method !== 'POST') throw new MethodNotAllowedError(req.method, ['POST']);
    const rt = runtime();
    const lagMs = queueLagMs(req.get('x-cloudtasks-tasketa'), rt.now());
    if (lagMs !== undefined) rt.metrics?.queueLag(lagMs, 'delivery');
    notifier ??= createNotifier(rt.config, log);
    // The caller's token, then the body's signature (issue 31, item 1): before anything is read.
    await verifyDeliveryRequest(req, rt.config);
    const task = parseDeliveryTask(req.body);
    flowLog = flowLog.child({ eventKey: task.eventKey, productId: task.productId });
    const report = await deliverChunk(rt, notifier, task, { retryCount }, flowLog);
    if (!report.settled) throw new ChunkNotSettledError(report); // deliverChunk logged it
    writeReply(res, jsonReply(200, report));
  } catch (err) {
    const reply = errorToProblemReply(err, DELIVERY_PROBLEMS);
    if (!(err instanceof ChunkNotSettledError)) {
      const severity = reply.status < 500 && reply.status !== 400 ? 'warn' : 'error';
      flowLog[severity]('delivery refused or failed', { status: reply.status, err: errorFields(err) });
    }
    writeReply(res, reply);
  }
});
