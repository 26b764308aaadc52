/**
 * The emulator's stand-in for Google's token service: an RSA key generated at
 * start, OIDC ID tokens signed with it for tasks that ask for one, and the
 * JWKS and discovery document a receiver needs to verify them exactly as it
 * verifies Google's (jose `createRemoteJWKSet` + issuer + audience).
 */
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

/** Path of the JWKS, the same as Google's `https://www.googleapis.com/oauth2/v3/certs`. */
export const JWKS_PATH = '/oauth2/v3/certs';
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** Lifetime of a token; Google's ID tokens last an hour. */
const TOKEN_LIFETIME_SECONDS = 3600;

/** Signs ID tokens and publishes the keys to verify them. */
export interface OidcIssuer {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** Signs an ID token for `email` with audience `audience`. */
  sign(email: string, audience: string): Promise<string>;
  jwks(): { keys: JWK[] };
  discovery(): Record<string, unknown>;
}

/** A numeric subject derived from the email, shaped like a service account's unique id. */
function subjectFor(email: string): string {
  const digest = createHash('sha256').update(email).digest();
  return '1' + BigInt('0x' + digest.subarray(0, 8).toString('hex')).toString().padStart(20, '0').slice(0, 20);
}

/** Creates an issuer whose tokens carry `iss = issuer` and whose keys are served at `issuer + JWKS_PATH`. */
export async function createOidcIssuer(issuer: string): Promise<OidcIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const jwksUrl = `${issuer}${JWKS_PATH}`;
  return {
    issuer,
    jwksUrl,
    async sign(email, audience) {
      const sub = subjectFor(email);
      return new SignJWT({ email, email_verified: true, azp: sub })
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(sub)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(`${TOKEN_LIFETIME_SECONDS}s`)
        .sign(privateKey);
    },
    jwks: () => ({ keys: [publicJwk] }),
    discovery: () => ({
      issuer,
      jwks_uri: jwksUrl,
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      claims_supported: ['aud', 'azp', 'email', 'email_verified', 'exp', 'iat', 'iss', 'sub'],
    }),
  };
}
