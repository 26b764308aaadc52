/**
 * The answer to a caller whose token does not pass: one problem table for
 * both functions that verify callers, and the fan-out's check as one call.
 */
import type { Config } from '../config.ts';
import { CONTINUATION_CLOUDEVENT_TYPE } from '../tasks/index.ts';
import { errorToProblemReply, findProblemSpec, headerValue, problemRow, type HttpReply, type HttpRequestLike, type ProblemTable } from '../http/index.ts';
import { errorFields, log } from '../log.ts';
import { callerAuthorization, ForbiddenCallerError, InvalidTokenError, MissingTokenError, TokenKeysUnavailableError, verifyFanoutCaller } from './token.ts';

/** How each verification failure is answered: the caller's fault (401, 403), or ours (503: try again). */
export const AUTH_PROBLEMS: ProblemTable = [
  problemRow(MissingTokenError, { status: 401, type: 'missing-token', title: 'Missing OIDC token', headers: () => ({ 'www-authenticate': 'Bearer' }) }),
  problemRow(InvalidTokenError, { status: 401, type: 'invalid-token', title: 'Invalid OIDC token', headers: () => ({ 'www-authenticate': 'Bearer error="invalid_token"' }) }),
  problemRow(ForbiddenCallerError, { status: 403, type: 'forbidden-caller', title: 'Caller not allowed' }),
  problemRow(TokenKeysUnavailableError, { status: 503, type: 'token-keys-unavailable', title: 'Token signing keys unavailable', headers: () => ({ 'retry-after': '10' }) }),
]

/**
 * Checks who calls `fanOutRestock` (the push subscription for events, the
 * tasks service account for continuations, see {@link verifyFanoutCaller}).
 * Resolves to the problem answer for a caller that is refused, undefined when
 * it may go on. Never throws for a verification failure.
 */
export async function refuseUnverifiedFanoutCaller(req: Pick<HttpRequestLike, 'headers'>, config: Config): Promise<HttpReply | undefined> {
  const kind = headerValue(req, 'ce-type') === CONTINUATION_CLOUDEVENT_TYPE ? 'continuation' : 'event';
  try {
    await verifyFanoutCaller(kind, callerAuthorization(req), config);
    return undefined;
  } catch (err) {
    if (findProblemSpec(err, AUTH_PROBLEMS) === undefined) throw err;
    const reply = errorToProblemReply(err, AUTH_PROBLEMS);
    log[reply.status >= 500 ? 'error' : 'warn']('fan-out caller refused', { kind, status: reply.status, err: errorFields(err) });
    return reply;
  }
}
