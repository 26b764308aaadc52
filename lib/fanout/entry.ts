/**
 * `fanOutRestock`'s handling of one request, without a framework: who may
 * call, what was sent, which try of its sender this is, and the answer.
 * `functions/fanOutRestock.ts` adapts functions-framework's request to it and
 * writes the reply; the simulation calls the same function with its own
 * requests, so a rule here (the last attempt of either sender, poison
 * acknowledged, one problem table) is exercised under seeded faults too.
 */
import { refuseUnverifiedFanoutCaller } from '../auth/index.ts';
import { InvalidEventError, isLastPushAttempt, parseIncoming, type Incoming, type IncomingRequest } from '../events/index.ts';
import { errorToProblemReply, headerValue, jsonReply, type HttpReply } from '../http/index.ts';
import { errorFields } from '../log.ts';
import { queueLagMs } from '../metrics/index.ts';
import type { Runtime } from '../runtime.ts';
import { isLastTaskAttempt } from '../tasks/index.ts';
import { LeaseHeldError, LeaseLostError } from './errors.ts';
import { handleFanout, type FanoutAttempt } from './handle.ts';
import { FANOUT_PROBLEMS } from './problems.ts';
import { recordRejectedEvent } from './rejected.ts';

/** A request as `fanOutRestock` receives it: headers, the parsed body and, when the framework kept them, its bytes. */
export type FanoutRequest = IncomingRequest;

/** A request refused before the entry point saw it (body not JSON, too large, bad charset), as the framework describes it. */
export interface RefusedFanoutRequest {
  error: Error;
  rawBody: Buffer | undefined;
  declaredBytes: number | undefined;
  headers: IncomingRequest['headers'];
}

/** Poison never loops: record why, then acknowledge (promise 4). */
async function reject(rt: Runtime, err: InvalidEventError, raw: string): Promise<HttpReply> {
  const eventKey = await recordRejectedEvent(rt.db, err, raw, rt.now(), rt.config.ledgerTtlDays);
  rt.log.warn('event rejected', { eventKey, field: err.field, problem: err.problem });
  rt.metrics?.eventHandled('rejected');
  return jsonReply(200, { outcome: 'rejected', eventKey, field: err.field, problem: err.problem });
}

/**
 * Which try of its sender this request is: the queue's count for a
 * continuation, the push subscription's `deliveryAttempt` for an event. On
 * the last one a fan-out that cannot finish ends `failed` rather than
 * `running` behind a dead letter or an exhausted task.
 */
export function fanoutAttemptOf(rt: Runtime, req: Pick<FanoutRequest, 'headers'>, incoming: Incoming): FanoutAttempt {
  return {
    lastAttempt:
      incoming.kind === 'continuation'
        ? isLastTaskAttempt(headerValue(req, 'x-cloudtasks-taskretrycount'), rt.config.deliveryMaxAttempts)
        : isLastPushAttempt(incoming.deliveryAttempt, rt.config.pubsubMaxDeliveryAttempts),
  };
}

/**
 * Answers one request to `fanOutRestock`. Never throws: every error is a
 * problem from `FANOUT_PROBLEMS` (an unexpected one a 500 that says nothing
 * of its cause); 2xx acknowledges (done, duplicate, ignored, poison recorded),
 * anything else asks the sender to try again.
 */
export async function handleFanoutRequest(rt: Runtime, req: FanoutRequest): Promise<HttpReply> {
  let flowLog = rt.log;
  try {
    // Only the push subscription's and the queue's identities may start or continue a fan-out.
    const refusal = await refuseUnverifiedFanoutCaller(req, rt.config);
    if (refusal) return refusal;
    let incoming: Incoming;
    try {
      incoming = parseIncoming(req);
    } catch (err) {
      if (!(err instanceof InvalidEventError)) throw err;
      return await reject(rt, err, req.rawBody?.toString('utf8') ?? JSON.stringify(req.body ?? null));
    }
    flowLog = flowLog.child({ eventKey: incoming.eventKey, ...(incoming.kind === 'event' ? { productId: incoming.event.productId } : {}) });
    if (incoming.kind === 'continuation') {
      const lagMs = queueLagMs(headerValue(req, 'x-cloudtasks-tasketa'), rt.now());
      if (lagMs !== undefined) rt.metrics?.queueLag(lagMs, 'continuation');
    }
    const outcome = await handleFanout(rt, incoming, flowLog, fanoutAttemptOf(rt, req, incoming));
    rt.metrics?.eventHandled(outcome.kind);
    return jsonReply(200, { outcome: outcome.kind, ...outcome });
  } catch (err) {
    const reply = errorToProblemReply(err, FANOUT_PROBLEMS);
    const severity = err instanceof LeaseHeldError || err instanceof LeaseLostError ? 'warn' : 'error';
    flowLog[severity]('fan-out attempt ended without completing', { status: reply.status, err: errorFields(err) });
    return reply;
  }
}

/**
 * Answers a body the framework refused (not JSON, too large, bad charset):
 * Pub/Sub would resend the same bytes forever, so a caller of the pipeline's
 * own gets it recorded as a rejected event and acknowledged. Resolves
 * undefined for anyone else (the plain problem answer stands).
 */
export async function answerRefusedFanoutRequest(rt: Runtime, { error, rawBody, declaredBytes, headers }: RefusedFanoutRequest): Promise<HttpReply | undefined> {
  if (await refuseUnverifiedFanoutCaller({ headers }, rt.config)) return undefined;
  // An unread body is described instead, reason included, so different refusals get different keys.
  const raw = rawBody?.toString('utf8') ?? `[body of ${declaredBytes ?? 'unknown'} bytes not read: ${error.message}]`;
  return reject(rt, new InvalidEventError('body', error.message, undefined, { cause: error }), raw);
}
