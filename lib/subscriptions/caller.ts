/**
 * Who is calling the subscription API, and for which shoppers it may act.
 *
 * The caller is named only by a token `lib/auth` verified, by the pipeline's
 * rules: signed by a published key (or, behind Cloud Run's IAM check with
 * RESTOCK_BEHIND_CLOUD_RUN_IAM on, checked by Cloud Run for this very service,
 * K_SERVICE), from an accepted issuer, for this API's audience, unexpired, and
 * with `email_verified: true` before its email names anyone. The token is read
 * from `X-Serverless-Authorization` whenever that header is present (the one
 * Cloud Run checked; an `Authorization` beside it is never a fallback), else
 * from `Authorization`. Nothing else the caller sends names it.
 *
 * Each storefront service account listed in `RESTOCK_STOREFRONT_TENANTS` may
 * act only for shoppers whose user id starts with its prefix; a caller that is
 * not listed may act for nobody. The setting is required outside the
 * emulators (lib/config.ts `deploymentProblems`): deny by default. Unset on
 * the emulators, every caller (the local stack has no Cloud Run in front, so
 * requests come without a token) may act for every shopper.
 */
import { callerAuthorization, InvalidTokenError, MissingTokenError, verifyIdToken, type TokenPolicy } from '../auth/index.ts';
import type { HttpRequestLike } from '../http/index.ts';
import { isServiceAccount, recipientRef } from '../log.ts';
import type { StorefrontTenant } from '../config.ts';

/** How callers' tokens are verified (lib/auth `apiCallerPolicy`); who may act for whom is decided by the tenants. */
export type CallerPolicy = Omit<TokenPolicy, 'callers'>;

/** The caller of one request, as its verified token says. */
export interface Caller {
  /** The principal's email, when its verified token names one with `email_verified: true`. */
  email?: string;
  /**
   * What logs say about the caller: a service account's email in clear (an
   * identity of a system, not personal data of a shopper), another
   * principal (a person's account) as `account:<hash>`, `unnamed` for a
   * verified token without a verified email, or `anonymous` for a request
   * without a token (the local stack; never in production, where Cloud Run
   * refuses it first).
   */
  label: string;
}

/** The caller is not identified (no token, or one that does not verify), and the operator scoped storefronts to tenants (401). */
export class CallerNotIdentifiedError extends Error {
  override readonly name = 'CallerNotIdentifiedError';
  readonly field = 'authorization';
  constructor(reason?: string, options?: { cause?: unknown }) {
    super(reason ?? 'This API is scoped to storefront tenants; call it with the ID token of a storefront service account', options);
  }
}

/** The caller may not act for this shopper (or for anyone): 403. */
export class CallerNotAllowedError extends Error {
  override readonly name = 'CallerNotAllowedError';
  constructor(
    readonly caller: string,
    readonly field: 'userId' | 'authorization',
    detail: string,
  ) {
    super(detail);
  }
}

/** The log label of a verified email: a service account in clear, a person's account hashed. */
function labelOf(email: string | undefined): string {
  if (!email) return 'unnamed';
  // A person's account is personal data: the keyed hash logs use for shoppers (RESTOCK_PSEUDONYM_KEY), not a plain one.
  return isServiceAccount(email) ? email : `account:${recipientRef(`account:${email}`)}`;
}

/**
 * The caller named by the request's verified token (see the module comment).
 * A request without any token is `anonymous` (and refused by
 * {@link requireScope} wherever tenants are set); without a policy nothing
 * can be verified, so nobody is named.
 * @throws CallerNotIdentifiedError for a token that does not verify (or an `X-Serverless-Authorization` that is not a bearer token); TokenKeysUnavailableError when the keys cannot be fetched (503).
 */
export async function identifyCaller(req: Pick<HttpRequestLike, 'headers'>, policy: CallerPolicy | undefined): Promise<Caller> {
  const authorization = callerAuthorization(req);
  if (authorization === undefined || !policy) return { label: 'anonymous' };
  try {
    const { email } = await verifyIdToken(authorization, { ...policy, callers: [] });
    const lower = email?.toLowerCase();
    return lower ? { email: lower, label: labelOf(lower) } : { label: labelOf(undefined) };
  } catch (err) {
    if (err instanceof MissingTokenError || err instanceof InvalidTokenError) {
      throw new CallerNotIdentifiedError(`The caller's token is not accepted: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

/**
 * Requires that `caller` may act for the shopper `userId` (or, without one,
 * may use the API at all) under `tenants`. No tenants configured: anyone may.
 * @throws CallerNotIdentifiedError, CallerNotAllowedError
 */
export function requireScope(caller: Caller, tenants: readonly StorefrontTenant[] | undefined, userId?: string): void {
  if (!tenants || tenants.length === 0) return;
  if (!caller.email) throw new CallerNotIdentifiedError();
  const tenant = tenants.find((t) => t.account === caller.email);
  if (!tenant) {
    throw new CallerNotAllowedError(caller.label, 'authorization', `${caller.label} is not a storefront of RESTOCK_STOREFRONT_TENANTS`);
  }
  if (userId !== undefined && tenant.prefix !== '*' && !userId.startsWith(tenant.prefix)) {
    throw new CallerNotAllowedError(caller.label, 'userId', `${caller.label} may act only for user ids starting with ${JSON.stringify(tenant.prefix)}`);
  }
}
