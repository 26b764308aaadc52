/**
 * Verifying the OIDC token Cloud Tasks attaches to each delivery request.
 * In production Cloud Run's IAM check runs first; this is the second lock,
 * and the only one on the local stack (where the Cloud Tasks emulator signs
 * tokens with its own key and publishes its JWKS).
 */
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { deliveryAudience, list, type Config } from '../config.ts';

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
    super(`caller ${email ?? '(no email claim)'} may not invoke delivery`);
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

/**
 * Verifies `authorization` (the header's value) for a delivery request.
 * Accepts only RS256 tokens signed by a key of `RESTOCK_OIDC_JWKS_URL`, from
 * one of `RESTOCK_OIDC_ISSUERS`, for the delivery audience, unexpired, and —
 * when allowed callers are configured — from one of them with a verified email.
 * @throws MissingTokenError, InvalidTokenError, ForbiddenCallerError, TokenKeysUnavailableError
 */
export async function verifyTaskToken(authorization: string | undefined, config: Config): Promise<{ email?: string }> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) throw new MissingTokenError();
  let payload;
  try {
    ({ payload } = await jwtVerify(match[1]!, keySet(config.oidcJwksUrl), {
      issuer: list(config.oidcIssuers),
      audience: deliveryAudience(config),
      algorithms: ['RS256'],
      clockTolerance: 30,
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err instanceof TypeError) {
      throw new TokenKeysUnavailableError(config.oidcJwksUrl, { cause: err });
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
  const allowed = list(config.oidcAllowedEmails ?? config.tasksServiceAccount);
  if (allowed.length > 0 && (!email || !allowed.includes(email) || payload.email_verified === false)) {
    throw new ForbiddenCallerError(email);
  }
  return email ? { email } : {};
}
