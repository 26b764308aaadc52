/**
 * The answer to a caller whose token does not pass: one problem table for
 * both functions that verify callers, and the fan-out's check as one call.
 */
import { deliveryAudience, type Config } from '../config.ts';
import { CONTINUATION_CLOUDEVENT_TYPE } from '../tasks/index.ts';
import { errorToProblemReply, findProblemSpec, headerValue, problemRow, type HttpReply, type HttpRequestLike, type ProblemTable } from '../http/index.ts';
import { errorFields, log } from '../log.ts';
import { TASK_SIGNATURE_HEADER, TaskSignatureError, verifyTaskSignature } from '../tasks/index.ts';
import { callerAuthorization, ForbiddenCallerError, InvalidTokenError, MissingTokenError, TokenKeysUnavailableError, verifyFanoutCaller, verifyTaskToken } from './token.ts';

/** How each verification failure is answered: the caller's fault (401, 403), or ours (503: try again). */
export const AUTH_PROBLEMS: ProblemTable = [
  problemRow(MissingTokenError, { status: 401, type: 'missing-token', title: 'Missing OIDC token', headers: () => ({ 'www-authenticate': 'Bearer' }) }),
  problemRow(InvalidTokenError, { status: 401, type: 'invalid-token', title: 'Invalid OIDC token', headers: () => ({ 'www-authenticate': 'Bearer error="invalid_token"' }) }),
  problemRow(TaskSignatureError, {
    status: 401,
    type: 'invalid-task-signature',
    title: 'Task body not signed by the pipeline',
    errors: (e) => [{ header: e.field, detail: e.message }],
  }),
  problemRow(ForbiddenCallerError, { status: 403, type: 'forbidden-caller', title: 'Caller not allowed' }),
  problemRow(TokenKeysUnavailableError, { status: 503, type: 'token-keys-unavailable', title: 'Token signing keys unavailable', headers: () => ({ 'retry-after': '10' }) }),
]

/**
 * Checks a delivery task before anything is read: the caller's token
 * ({@link verifyTaskToken}, when RESTOCK_VERIFY_OIDC is on) and the body's
 * signature (lib/tasks, under RESTOCK_TASK_SIGNING_KEYS).
 * @throws MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError, TaskSignatureError
 */
export async function verifyDeliveryRequest(req: Pick<HttpRequestLike, 'headers' | 'rawBody'>, config: Config): Promise<void> {
  if (config.verifyOidc) await verifyTaskToken(callerAuthorization(req), config);
  verifyTaskSignature(config.taskSigningKeys, deliveryAudience(config), headerValue(req, TASK_SIGNATURE_HEADER), req.rawBody);
}

/**
 * Checks who calls `fanOutRestock` (the push subscription for events, the
 * tasks service account for continuations, see {@link verifyFanoutCaller}),
 * and that a continuation's body was signed by the pipeline (lib/tasks; a
 * Pub/Sub push is not signed). Resolves to the problem answer for a caller
 * that is refused, undefined when it may go on. Never throws for a
 * verification failure.
 */
export async function refuseUnverifiedFanoutCaller(req: Pick<HttpRequestLike, 'headers'> & { rawBody?: Uint8Array | undefined }, config: Config): Promise<HttpReply | undefined> {
  const kind = headerValue(req, 'ce-type') === CONTINUATION_CLOUDEVENT_TYPE ? 'continuation' : 'event';
  try {
    await verifyFanoutCaller(kind, callerAuthorization(req), config);
    if (kind === 'continuation') verifyTaskSignature(config.taskSigningKeys, config.fanoutUrl, headerValue(req, TASK_SIGNATURE_HEADER), req.rawBody);
    return undefined;
  } catch (err) {
    if (findProblemSpec(err, AUTH_PROBLEMS) === undefined) throw err;
    const reply = errorToProblemReply(err, AUTH_PROBLEMS);
    log[reply.status >= 500 ? 'error' : 'warn']('fan-out caller refused', { kind, status: reply.status, err: errorFields(err) });
    return reply;
  }
}

/**
 * Runs `verify` and turns a verification failure into its problem answer
 * (logged as `<what> caller refused`); undefined when the caller may go on.
 * Rethrows anything that is not a verification failure.
 */
export async function refuseCaller(what: string, verify: () => Promise<unknown>): Promise<HttpReply | undefined> {
  try {
    await verify();
    return undefined;
  } catch (err) {
    if (findProblemSpec(err, AUTH_PROBLEMS) === undefined) throw err;
    const reply = errorToProblemReply(err, AUTH_PROBLEMS);
    log[reply.status >= 500 ? 'error' : 'warn'](`${what} caller refused`, { status: reply.status, err: errorFields(err) });
    return reply;
  }
}
