/**
 * Who is calling the subscription API, and for which shoppers it may act.
 *
 * The API is private: Cloud Run lets a request in only if it carries a
 * Google-signed ID token of a principal holding `roles/run.invoker` on the
 * function (the storefront backends' service accounts). Cloud Run checks the
 * token in `X-Serverless-Authorization` when present, else in `Authorization`,
 * and then hands it to the container with its signature removed, so the code
 * cannot verify it again and does not need to: the claims of the token Cloud
 * Run checked are the verified identity. The identity is read from that same
 * header (a second, unchecked `Authorization` next to
 * `X-Serverless-Authorization` is ignored), and never from anything else the
 * caller sends.
 *
 * With `RESTOCK_STOREFRONT_TENANTS` set, each storefront may act only for
 * shoppers whose user id starts with its tenant prefix; a caller that is not
 * listed may act for nobody. Unset, every invoker may act for every shopper
 * (one storefront, or storefronts that trust one another), as docs/api.md says.
 */
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { headerValue, type HttpRequestLike } from '../http/index.ts';
import { isServiceAccount } from '../log.ts';
import type { StorefrontTenant } from '../config.ts';

/** The caller of one request, as far as the token Cloud Run checked says. */
export interface Caller {
  /** The principal's email (a service account), when the token names one with a verified email. */
  email?: string;
  /**
   * What logs say about the caller: a service account's email in clear (an
   * identity of a system, not personal data of a shopper), another
   * principal (a person's account) as `account:<hash>`, or `anonymous` for a
   * request without a token (the local stack; never in production, where
   * Cloud Run refuses it first).
   */
  label: string;
}

/** The caller is not identified, and the operator scoped storefronts to tenants (401). */
export class CallerNotIdentifiedError extends Error {
  override readonly name = 'CallerNotIdentifiedError';
  readonly field = 'authorization';
  constructor() {
    super('This API is scoped to storefront tenants; call it with the ID token of a storefront service account');
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

function bearer(value: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(value ?? '')?.[1];
}

/** The caller named by the token Cloud Run checked (see the module's comment); never throws. */
export function callerOf(req: Pick<HttpRequestLike, 'headers'>): Caller {
  const token = bearer(headerValue(req, 'x-serverless-authorization')) ?? bearer(headerValue(req, 'authorization'));
  if (!token) return { label: 'anonymous' };
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch {
    return { label: 'anonymous' };
  }
  const email = typeof claims.email === 'string' && claims.email_verified !== false ? claims.email.toLowerCase() : undefined;
  const subject = email ?? (typeof claims.sub === 'string' ? claims.sub : undefined);
  if (!subject) return { label: 'anonymous' };
  const label = email && isServiceAccount(email) ? email : `account:${createHash('sha256').update(subject).digest('hex').slice(0, 12)}`;
  return email ? { email, label } : { label };
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
