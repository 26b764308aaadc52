/**
 * `fanOutRestock`: invoked by the Pub/Sub push subscription (or an Eventarc
 * trigger) with each `inventory.updated` message, and by its own continuation
 * tasks. Thin: it hands the request to `lib/fanout`'s entry handler, which the
 * simulation calls too, and writes the answer.
 *
 * It is an HTTP function rather than a CloudEvent one so that it can answer
 * each case with the status Pub/Sub needs (2xx acknowledges, anything else is
 * redelivered per the retry policy) and read push bodies functions-framework
 * does not convert (a message without `data`).
 */
import { answerRefusedFanoutRequest, handleFanoutRequest } from '../lib/fanout/index.ts';
import { writeReply } from '../lib/http/index.ts';
import { runtime } from '../lib/runtime.ts';
import { http } from './framework.ts';

http('fanOutRestock', { onRefused: (refused) => answerRefusedFanoutRequest(runtime(), refused) }, async (req, res) => {
  writeReply(res, await handleFanoutRequest(runtime(), { headers: req.headers, body: req.body, rawBody: req.rawBody }));
});
