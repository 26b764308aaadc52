/**
 * `deliverRestockBatch`: the Cloud Tasks target. Thin: it hands the request
 * to `lib/delivery`'s entry handler (the caller's token, the body's
 * signature, the chunk), which the simulation calls too, and writes the
 * answer (2xx when the chunk is settled, a problem otherwise).
 *
 * The notifier is built when the process starts, not at the first request:
 * a delivery function that cannot send (RESTOCK_NOTIFIER=http without
 * RESTOCK_NOTIFIER_URL) refuses to start, naming the setting, instead of
 * failing every task until Cloud Tasks gives up.
 */
import { loadConfig } from '../lib/config.ts';
import { handleDeliveryRequest } from '../lib/delivery/index.ts';
import { writeReply } from '../lib/http/index.ts';
import { log } from '../lib/log.ts';
import { createNotifier, type Notifier } from '../lib/notify/index.ts';
import { runtime } from '../lib/runtime.ts';
import { MAX_DELIVERY_TASK_BYTES } from '../lib/tasks/index.ts';
import { http } from './framework.ts';

let notifier: Notifier | undefined;

// Bodies over the limit and malformed JSON are answered as problems before this runs: ./framework.ts.
// A sender chosen without its settings stops the process at start, naming the setting (onStart runs only
// where this function is served: functions/index.ts loads every entry point in every function).
const onStart = (): void => {
  notifier ??= createNotifier(loadConfig(), log);
};
http('deliverRestockBatch', { maxBodyBytes: MAX_DELIVERY_TASK_BYTES, onStart }, async (req, res) => {
  const rt = runtime();
  notifier ??= createNotifier(rt.config, log);
  writeReply(res, await handleDeliveryRequest(rt, notifier, { method: req.method, headers: req.headers, body: req.body, rawBody: req.rawBody }));
});
