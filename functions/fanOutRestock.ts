/**
 * `fanOutRestock`: invoked by the Pub/Sub push subscription (or an Eventarc
 * trigger) with each `inventory.updated` message, and by its own continuation
 * tasks. Thin: parse, call `lib/fanout`, map the outcome to a status.
 *
 * It is an HTTP function rather than a CloudEvent one so that it can answer
 * each case with the status Pub/Sub needs (2xx acknowledges, anything else is
 * redelivered per the retry policy) and read push bodies functions-framework
 * does not convert (a message without `data`).
 */
import { refuseUnverifiedFanoutCaller } from '../lib/auth/index.ts';
import { InvalidEventError, parseIncoming } from '../lib/events/index.ts';
import { FanoutNotFoundError, handleFanout, LeaseHeldError, LeaseLostError, recordRejectedEvent } from '../lib/fanout/index.ts';
import { errorFields, log } from '../lib/log.ts';
import { jsonReply, writeReply, type HttpReply } from '../lib/http/index.ts';
import { runtime } from '../lib/runtime.ts';
import { http, type RefusedRequest } from './framework.ts';

/** Which failures Pub/Sub should redeliver, and after how long. One table: the answer to "which errors retry?". */
function statusFor(err: unknown): { status: number; retryAfterSeconds?: number; severity: 'warn' | 'error' } {
  if (err instanceof LeaseHeldError) {
    return { status: 503, retryAfterSeconds: Math.max(1, Math.ceil((err.leaseExpiresAtMs - Date.now()) / 1000)), severity: 'warn' };
  }
  if (err instanceof LeaseLostError) return { status: 503, severity: 'warn' };
  // A continuation for an unknown fan-out can never succeed: acknowledge it.
  if (err instanceof FanoutNotFoundError) return { status: 200, severity: 'error' };
  return { status: 500, severity: 'error' }; // Firestore, Cloud Tasks: transient, redeliver
}

/** Poison never loops: record why, then acknowledge (promise 4). */
async function reject(err: InvalidEventError, raw: string): Promise<HttpReply> {
  const rt = runtime();
  const eventKey = await recordRejectedEvent(rt.db, err, raw, rt.now(), rt.config.ledgerTtlDays);
  log.warn('event rejected', { eventKey, field: err.field, problem: err.problem });
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
  const rt = runtime();
  const refusal = await refuseUnverifiedFanoutCaller(req, rt.config);
  if (refusal) return writeReply(res, refusal);
  let incoming;
  try {
    incoming = parseIncoming({ headers: req.headers, body: req.body, rawBody: req.rawBody });
  } catch (err) {
    if (!(err instanceof InvalidEventError)) throw err;
    writeReply(res, await reject(err, req.rawBody?.toString('utf8') ?? JSON.stringify(req.body ?? null)));
    return;
  }

  const flowLog = log.child({ eventKey: incoming.eventKey, ...(incoming.kind === 'event' ? { productId: incoming.event.productId } : {}) });
  try {
    const outcome = await handleFanout(rt, incoming, flowLog);
    res.status(200).json({ outcome: outcome.kind, ...outcome });
  } catch (err) {
    const { status, retryAfterSeconds, severity } = statusFor(err);
    flowLog[severity]('fan-out attempt ended without completing', { status, err: errorFields(err) });
    if (retryAfterSeconds !== undefined) res.set('Retry-After', String(retryAfterSeconds));
    res.status(status).json({ outcome: 'error', error: (err as Error).name, message: (err as Error).message });
  }
});
