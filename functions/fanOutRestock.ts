/**
 * `fanOutRestock`: invoked by the Pub/Sub push subscription (or an Eventarc
 * trigger) with each `inventory.updated` message, and by its own continuation
 * tasks. Thin: parse, call `lib/fanout`, map the outcome to a status. Every
 * error is answered from one table (`FANOUT_PROBLEMS`), as RFC 9457
 * problem+json; an unexpected one is a 500 that says nothing of its cause.
 *
 * It is an HTTP function rather than a CloudEvent one so that it can answer
 * each case with the status Pub/Sub needs (2xx acknowledges, anything else is
 * redelivered per the retry policy) and read push bodies functions-framework
 * does not convert (a message without `data`).
 */
import { refuseUnverifiedFanoutCaller } from '../lib/auth/index.ts';
import { InvalidEventError, isLastPushAttempt, parseIncoming, type Incoming } from '../lib/events/index.ts';
import { FANOUT_PROBLEMS, handleFanout, LeaseHeldError, LeaseLostError, recordRejectedEvent } from '../lib/fanout/index.ts';
import { errorFields, log } from '../lib/log.ts';
import { errorToProblemReply, jsonReply, writeReply, type HttpReply } from '../lib/http/index.ts';
import { queueLagMs } from '../lib/metrics/index.ts';
import { runtime } from '../lib/runtime.ts';
import { isLastTaskAttempt } from '../lib/tasks/index.ts';
import { http, type RefusedRequest } from './framework.ts';

/** Poison never loops: record why, then acknowledge (promise 4). */
async function reject(err: InvalidEventError, raw: string): Promise<HttpReply> {
  const rt = runtime();
  const eventKey = await recordRejectedEvent(rt.db, err, raw, rt.now(), rt.config.ledgerTtlDays);
  log.warn('event rejected', { eventKey, field: err.field, problem: err.problem });
  rt.metrics?.eventHandled('rejected');
  return jsonReply(200, { outcome: 'rejected', eventKey, field: err.field, problem: err.problem });
}

/** A body the framework refused (not JSON, too large, bad charset): Pub/Sub would resend the same bytes forever. */
async function rejectRefused({ error, rawBody, declaredBytes, headers }: RefusedRequest): Promise<HttpReply | undefined> {
  // Only the pipeline's own callers get a record; anyone else gets the plain problem.
  if (await refuseUnverifiedFanoutCaller({ headers }, runtime().config)) return undefined;
  // An unread body is described instead, reason included, so different refusals get different keys.
  const raw = rawBody?.toString('utf8') ?? `[body of ${declaredBytes ?? 'unknown'} bytes not read: ${error.message}]`;
  return reject(new InvalidEventError('body', error.message, undefined, { cause: error }), raw);
}

http('fanOutRestock', { onRefused: rejectRefused }, async (req, res) => {
  let flowLog = log;
  try {
    const rt = runtime();
    // Only the push subscription's and the queue's identities may start or continue a fan-out.
    const refusal = await refuseUnverifiedFanoutCaller(req, rt.config);
    if (refusal) return writeReply(res, refusal);
    let incoming: Incoming;
    try {
      incoming = parseIncoming({ headers: req.headers, body: req.body, rawBody: req.rawBody });
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      writeReply(res, await reject(err, req.rawBody?.toString('utf8') ?? JSON.stringify(req.body ?? null)));
      return;
    }
    flowLog = log.child({ eventKey: incoming.eventKey, ...(incoming.kind === 'event' ? { productId: incoming.event.productId } : {}) });
    // The last try of whoever delivers the request: the queue's for a continuation, the push subscription's for an event.
    const lastAttempt =
      incoming.kind === 'continuation'
        ? isLastTaskAttempt(req.get('x-cloudtasks-taskretrycount'), rt.config.deliveryMaxAttempts)
        : isLastPushAttempt(incoming.deliveryAttempt, rt.config.pubsubMaxDeliveryAttempts);
    const lagMs = incoming.kind === 'continuation' ? queueLagMs(req.get('x-cloudtasks-tasketa'), rt.now()) : undefined;
    if (lagMs !== undefined) rt.metrics?.queueLag(lagMs, 'continuation');
    const outcome = await handleFanout(rt, incoming, flowLog, { lastAttempt });
    rt.metrics?.eventHandled(outcome.kind);
    writeReply(res, jsonReply(200, { outcome: outcome.kind, ...outcome }));
  } catch (err) {
    const reply = errorToProblemReply(err, FANOUT_PROBLEMS);
    const severity = err instanceof LeaseHeldError || err instanceof LeaseLostError ? 'warn' : 'error';
    flowLog[severity]('fan-out attempt ended without completing', { status: reply.status, err: errorFields(err) });
    writeReply(res, reply);
  }
});
