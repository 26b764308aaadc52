/**
 * An OIDC issuer of the test's own: a JWKS served on loopback and ID tokens
 * signed with its key, for functions started with `RESTOCK_OIDC_ISSUERS` /
 * `RESTOCK_OIDC_JWKS_URL` pointing at it (the Pub/Sub emulator signs no push
 * tokens, and the Cloud Tasks emulator signs only the tasks it dispatches).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

export interface TestIssuer {
  /** The issuer URL (`iss` of its tokens). */
  issuer: string;
  /** Where its public keys are served. */
  jwksUrl: string;
  /** `Bearer <token>` for `email` and `audience`, valid for an hour unless `claims` has an `exp`; `claims` default to a verified email. */
  bearer(email: string, audience: string, claims?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startTestIssuer(kid = 'test-issuer'): Promise<TestIssuer> {
  const pair = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = http.createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    jwksUrl: `${issuer}/certs`,
    bearer: async (email, audience, claims = { email_verified: true }) => {
      const jwt = new SignJWT({ email, ...claims }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(issuer).setAudience(audience).setIssuedAt();
      // An `exp` among the claims (an expired token) is kept; else an hour.
      if (claims.exp === undefined) jwt.setExpirationTime('1h');
      return `Bearer ${await jwt.sign(pair.privateKey)}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
