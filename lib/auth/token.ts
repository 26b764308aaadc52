/**
 * Verifying the Google-signed OIDC tokens that Cloud Tasks and Pub/Sub push
 * attach to each request: delivery tasks, fan-out continuations and pushed
 * events. In production Cloud Run's IAM check runs first; this is the second
 * lock, the one that names the caller (any holder of `run.invoker`, including
 * project-wide grants, passes the first), and the only one on the local stack
 * (where the Cloud Tasks emulator signs tokens with its own key and publishes
 * its JWKS).
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
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
  audience: string;
  issuers: string[];
  jwksUrl: string;
  /** Service accounts accepted; empty accepts any caller of a trusted issuer (refused at start outside the emulators). */
  callers: string[];
}

/**
 * Verifies `authorization` (the header's value) against `policy`: an RS256
 * token signed by a key of the JWKS, from one of the issuers, for the
 * audience, unexpired, and — when callers are named — from one of them with
 * `email_verified` true (a token without the claim is refused).
 * @throws MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError
 */
export async function verifyIdToken(authorization: string | undefined, policy: TokenPolicy): Promise<{ email?: string }> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) throw new MissingTokenError();
  let payload;
  try {
    ({ payload } = await jwtVerify(match[1]!, keySet(policy.jwksUrl), {
      issuer: policy.issuers,
      audience: policy.audience,
      algorithms: ['RS256'],
      clockTolerance: 30,
    }));
  } catch (err) {
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
  const email = typeof payload.email === 'string' ? payload.email : undefined;
  if (policy.callers.length > 0 && (!email || !policy.callers.includes(email) || payload.email_verified !== true)) {
    throw new ForbiddenCallerError(email);
  }
  return email ? { email } : {};
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
  });
}
