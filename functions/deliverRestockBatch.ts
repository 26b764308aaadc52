/**
 * `deliverRestockBatch`: the Cloud Tasks target. Thin: verify the caller,
 * parse the chunk, call `lib/delivery`, answer 2xx when the chunk is settled
 * and 503 when something retryable remains (Cloud Tasks retries; the ledger
 * skips what is done).
 */
import {
  deliverChunk,
  ForbiddenCallerError,
  InvalidDeliveryTaskError,
  InvalidTokenError,
  MAX_DELIVERY_TASK_BYTES,
  MissingTokenError,
  parseDeliveryTask,
  TokenKeysUnavailableError,
  verifyTaskToken,
} from '../lib/delivery/index.ts';
import { loadConfig } from '../lib/config.ts';
import { errorFields, log } from '../lib/log.ts';
import { createNotifier, type Notifier } from '../lib/notify/index.ts';
import { runtime } from '../lib/runtime.ts';
import { http } from './framework.ts';

let notifier: Notifier | undefined;

/** One table: which failures Cloud Tasks should retry (any non-2xx is retried up to the queue's limits). */
function statusFor(err: unknown): { status: number; severity: 'warn' | 'error' } {
  if (err instanceof MissingTokenError || err instanceof InvalidTokenError) return { status: 401, severity: 'warn' };
  if (err instanceof ForbiddenCallerError) return { status: 403, severity: 'warn' };
  if (err instanceof TokenKeysUnavailableError) return { status: 503, severity: 'error' };
  if (err instanceof InvalidDeliveryTaskError) return { status: 400, severity: 'error' };
  return { status: 500, severity: 'error' };
}

// Bodies over RESTOCK_MAX_BODY_BYTES and malformed JSON are answered as problems before this runs: ./framework.ts.
// A channel sender chosen without its settings stops the process at start, naming the setting.
const onStart = (): void => void (notifier ??= createNotifier(loadConfig(), log));
http('deliverRestockBatch', { maxBodyBytes: MAX_DELIVERY_TASK_BYTES, onStart }, async (req, res) => {
  const rt = runtime();
  notifier ??= createNotifier(rt.config, log);
  const retryCount = Number(req.get('x-cloudtasks-taskretrycount') ?? '0') || 0;
  const taskName = req.get('x-cloudtasks-taskname');
  let flowLog = log.child({ taskName, retryCount });
  try {
    if (req.method !== 'POST') {
      res.status(405).set('Allow', 'POST').json({ error: 'MethodNotAllowed', message: 'use POST' });
      return;
    }
    if (rt.config.verifyOidc) await verifyTaskToken(req.get('authorization'), rt.config);
    const task = parseDeliveryTask(req.body);
    flowLog = flowLog.child({ eventKey: task.eventKey, productId: task.productId });
    const report = await deliverChunk(rt, notifier, task, { retryCount }, flowLog);
    res.status(report.settled ? 200 : 503).json(report);
  } catch (err) {
    const { status, severity } = statusFor(err);
    flowLog[severity]('delivery refused or failed', { status, err: errorFields(err) });
    res.status(status).json({ error: (err as Error).name, message: (err as Error).message });
  }
});
