/**
 * Verifying the Google-signed OIDC tokens that Cloud Tasks and Pub/Sub push
 * attach to each request: delivery tasks, fan-out continuations and pushed
 * events. In production Cloud Run's IAM check runs first; this is the second
 * lock, the one that names the caller (any holder of `run.invoker`, including
 * project-wide grants, passes the first), and the only one on the local stack
 * (where the Cloud Tasks emulator signs tokens with its own key and publishes
 * its JWKS).
 *
 * Behind Cloud Run's IAM check the container never sees a signature: Cloud
 * Run verifies the token it authorized the request with and passes it on
 * with the signature replaced by `SIGNATURE_REMOVED_BY_GOOGLE` (Cloud Run's
 * troubleshooting guide, "signature removed"). The token Cloud Run checked is
 * the one in `X-Serverless-Authorization` when the caller sent that header,
 * else the one in `Authorization` (Pub/Sub push and Cloud Tasks use the
 * latter). So with `RESTOCK_BEHIND_CLOUD_RUN_IAM` on, such a token's claims
 * are trusted as verified and checked like any other's; a stripped token is
 * refused everywhere else, and a token that still has a signature is always
 * verified in full.
 */
import { createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { headerValue, type HttpRequestLike } from '../http/index.ts';
import { deliveryAudience, list, taskCallers, type Config } from '../config.ts';

/** No bearer token on the request: 401. */
export class MissingTokenError extends Error {
  override readonly name = 'MissingTokenError';
  constructor() {
    super('Authorization: Bearer <OIDC token> is required');
  }
}

/** The token is malformed, unsigned, expired, or for another audience or issuer: 401. */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`invalid OIDC token: ${reason}`, options);
  }
}

/**
 * The signing keys could not be fetched, so no token can be judged now: 503,
 * for Cloud Tasks to retry (a 401 would blame the caller for our outage).
 */
export class TokenKeysUnavailableError extends Error {
  override readonly name = 'TokenKeysUnavailableError';
  constructor(jwksUrl: string, options?: { cause?: unknown }) {
    super(`cannot fetch the token signing keys from ${jwksUrl}`, options);
  }
}

/** A valid token of a caller that may not deliver: 403. */
export class ForbiddenCallerError extends Error {
  override readonly name = 'ForbiddenCallerError';
  constructor(readonly email: string | undefined) {
    super(`caller ${email ?? '(no email claim)'} may not invoke this function`);
  }
}

const keySets = new Map<string, JWTVerifyGetKey>();

function keySet(url: string): JWTVerifyGetKey {
  let set = keySets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { cooldownDuration: 30_000, cacheMaxAge: 3_600_000 });
    keySets.set(url, set);
  }
  return set;
}

/** What a token must show to be accepted. */
export interface TokenPolicy {
  /** The `aud` expected; when absent, `service` decides (a URL of that Cloud Run service). */
  audience?: string | undefined;
  /**
   * The Cloud Run service that received the request (`K_SERVICE`). A stripped
   * token (behind Cloud Run's IAM check) is accepted only when its audience
   * is a URL of this service: Cloud Run checked it for the service it was
   * minted for, and a public copy of a service with the same settings must
   * not trust a forged one. Without it no stripped token is accepted.
   */
  service?: string | undefined;
  issuers: string[];
  jwksUrl: string;
  /** Service accounts accepted; empty accepts any caller of a trusted issuer (refused at start outside the emulators). */
  callers: string[];
  /** Accept the claims of a token Cloud Run verified and stripped of its signature (`RESTOCK_BEHIND_CLOUD_RUN_IAM`). */
  behindCloudRunIam?: boolean;
}

/** What Cloud Run puts in place of the signature of a token it verified. */
export const SIGNATURE_REMOVED = 'SIGNATURE_REMOVED_BY_GOOGLE';

/** Seconds of clock skew tolerated on `exp` (and `iat`), verified or stripped alike. */
const CLOCK_TOLERANCE_S = 30;

/**
 * The `Authorization`-style header that carries the caller's token: the one
 * Cloud Run checked, `X-Serverless-Authorization` when present (an
 * `Authorization` beside it was not checked by anyone, and is ignored), else
 * `Authorization`.
 */
export function callerAuthorization(req: Pick<HttpRequestLike, 'headers'>): string | undefined {
  return headerValue(req, 'x-serverless-authorization') ?? headerValue(req, 'authorization');
}

/**
 * Verifies `authorization` (the header's value) against `policy`: an RS256
 * token signed by a key of the JWKS (or, behind Cloud Run's IAM check, one
 * Cloud Run verified and stripped), from one of the issuers, for the
 * audience, unexpired, and — when callers are named — from one of them with
 * `email_verified` true (a token without the claim is refused).
 * @throws MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError
 */
export async function verifyIdToken(authorization: string | undefined, policy: TokenPolicy): Promise<{ email?: string }> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) throw new MissingTokenError();
  const token = match[1]!;
  const payload =
    policy.behindCloudRunIam && token.split('.')[2] === SIGNATURE_REMOVED ? checkStrippedClaims(token, policy) : await verifySigned(token, policy);
  const email = typeof payload.email === 'string' ? payload.email : undefined;
  if (policy.callers.length > 0 && (!email || !policy.callers.includes(email) || payload.email_verified !== true)) {
    throw new ForbiddenCallerError(email);
  }
  // An email the issuer does not vouch for names nobody.
  return email && payload.email_verified === true ? { email } : {};
}

/**
 * Whether `audience` is a URL of the Cloud Run service `service` (its
 * `K_SERVICE`): `https://<service>-<project number>.<region>.run.app`,
 * `https://<service>-<hash>-<region code>.a.run.app`, or a function's
 * `https://<region>-<project>.cloudfunctions.net/<name>`. Pure.
 */
export function audienceNamesService(audience: string, service: string): boolean {
  let url: URL;
  try {
    url = new URL(audience);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || service === '') return false;
  const name = service.toLowerCase();
  const [label = '', ...rest] = url.hostname.toLowerCase().split('.');
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (rest.join('.') === 'a.run.app') return new RegExp(`^${escaped}-[a-z0-9]+-[a-z]+$`).test(label);
  if (rest.length === 3 && rest[1] === 'run' && rest[2] === 'app') return new RegExp(`^${escaped}-\\d+$`).test(label);
  if (url.hostname.endsWith('.cloudfunctions.net')) return url.pathname.replace(/\/+$/, '').slice(1).toLowerCase() === name;
  return false;
}

/** Whether a token's `aud` claim (a string or a list) satisfies `policy`; for a stripped token the service must match too. */
function audienceAccepted(aud: unknown, policy: TokenPolicy, stripped: boolean): boolean {
  const audiences = (Array.isArray(aud) ? aud : [aud]).filter((a): a is string => typeof a === 'string');
  const service = policy.service;
  return audiences.some((a) => {
    if (policy.audience !== undefined && a !== policy.audience) return false;
    // Stripped: Cloud Run checked it for some service; it must be this one. No audience set: this service's URL is the audience.
    if (stripped || policy.audience === undefined) return service !== undefined && audienceNamesService(a, service);
    return true;
  });
}

async function verifySigned(token: string, policy: TokenPolicy): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keySet(policy.jwksUrl), {
      issuer: policy.issuers,
      algorithms: ['RS256'],
      clockTolerance: CLOCK_TOLERANCE_S,
    });
    if (!audienceAccepted(payload.aud, policy, false)) throw new InvalidTokenError('claim aud is not accepted');
    return payload;
  } catch (err) {
    if (err instanceof InvalidTokenError) throw err;
    if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err instanceof TypeError) {
      throw new TokenKeysUnavailableError(policy.jwksUrl, { cause: err });
    }
    const reason =
      err instanceof joseErrors.JWTExpired
        ? 'expired'
        : err instanceof joseErrors.JWTClaimValidationFailed
          ? `claim ${err.claim} is not accepted`
          : err instanceof joseErrors.JWSSignatureVerificationFailed
            ? 'signature does not verify'
            : ((err as Error)?.message ?? 'cannot be verified');
    throw new InvalidTokenError(reason, { cause: err });
  }
}

/**
 * The claims of a token Cloud Run verified (its signature removed), checked
 * as {@link verifySigned} checks them: issuer, audience, expiry; and the
 * audience must name the service that received it (`K_SERVICE`).
 */
function checkStrippedClaims(token: string, policy: TokenPolicy): JWTPayload {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch (err) {
    throw new InvalidTokenError((err as Error)?.message ?? 'cannot be decoded', { cause: err });
  }
  if (typeof payload.iss !== 'string' || !policy.issuers.includes(payload.iss)) throw new InvalidTokenError('claim iss is not accepted');
  if (!policy.service) throw new InvalidTokenError('has no signature and no Cloud Run service (K_SERVICE) received it');
  if (!audienceAccepted(payload.aud, policy, true)) throw new InvalidTokenError('claim aud is not accepted (not this service)');
  if (typeof payload.exp !== 'number' || payload.exp + CLOCK_TOLERANCE_S <= Date.now() / 1000) throw new InvalidTokenError('expired');
  return payload;
}

/**
 * Verifies a delivery request's token: the delivery audience, from the
 * allowed callers (`RESTOCK_OIDC_ALLOWED_EMAILS`, else the tasks service account).
 * @throws MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError
 */
export async function verifyTaskToken(authorization: string | undefined, config: Config): Promise<{ email?: string }> {
  return verifyIdToken(authorization, {
    audience: deliveryAudience(config),
    issuers: list(config.oidcIssuers),
    jwksUrl: config.oidcJwksUrl,
    callers: taskCallers(config),
    behindCloudRunIam: config.behindCloudRunIam,
    service: config.cloudRunService,
  });
}

/**
 * Verifies a request to `fanOutRestock`: an event must come from the push
 * subscription's service account (`RESTOCK_PUSH_SERVICE_ACCOUNT`, checked
 * unless `RESTOCK_VERIFY_PUSH_OIDC` is off), a continuation from the tasks
 * service account (unless `RESTOCK_VERIFY_OIDC` is off); both for the
 * fan-out's own URL, which is the audience Terraform gives the push
 * subscription and the one continuation tasks carry. Resolves when the
 * caller may go on (or verification is off).
 * @throws MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError
 */
export async function verifyFanoutCaller(kind: 'event' | 'continuation', authorization: string | undefined, config: Config): Promise<{ email?: string }> {
  const on = kind === 'event' ? config.verifyPushOidc : config.verifyOidc;
  if (!on) return {};
  return verifyIdToken(authorization, {
    audience: config.fanoutUrl,
    issuers: list(config.oidcIssuers),
    jwksUrl: config.oidcJwksUrl,
    callers: kind === 'event' ? list(config.pushServiceAccount) : taskCallers(config),
    behindCloudRunIam: config.behindCloudRunIam,
    service: config.cloudRunService,
  });
}

/**
 * How the subscription API checks its callers' tokens: the pipeline's rules,
 * for its own audience (RESTOCK_OIDC_AUDIENCE when set, else any URL of the
 * service that received the request). Who may act for whom is decided after
 * (lib/subscriptions), so no caller list here.
 */
export function apiCallerPolicy(config: Config): Omit<TokenPolicy, 'callers'> {
  return {
    audience: config.oidcAudience,
    issuers: list(config.oidcIssuers),
    jwksUrl: config.oidcJwksUrl,
    behindCloudRunIam: config.behindCloudRunIam,
    service: config.cloudRunService,
  };
}
