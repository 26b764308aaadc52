/**
 * Issue 31, item 1 (the audience part): a token Cloud Run verified and
 * stripped of its signature is trusted only for the service that received
 * it. A public copy of a service (staging, debug) with the same settings
 * would otherwise accept a forged stripped token minted for production's URL.
 */
import { describe, expect, test } from 'vitest';
import { InvalidTokenError, SIGNATURE_REMOVED, verifyTaskToken } from '../../../lib/auth/index.ts';
import { parseConfig } from '../../../lib/config.ts';

const TASKS = 'restock-tasks@shop-prod-1.iam.gserviceaccount.com';
const DELIVERY_URL = 'https://deliverrestockbatch-123456.us-central1.run.app';

const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const forged = `Bearer ${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: 'https://accounts.google.com', aud: DELIVERY_URL, exp: Math.floor(Date.now() / 1000) + 600, email: TASKS, email_verified: true })}.${SIGNATURE_REMOVED}`;

const config = (env: Record<string, string>) =>
  parseConfig({ RESTOCK_DELIVERY_URL: DELIVERY_URL, RESTOCK_TASKS_SERVICE_ACCOUNT: TASKS, RESTOCK_BEHIND_CLOUD_RUN_IAM: 'true', ...env });

describe('a stripped token behind Cloud Run IAM', () => {
  test('is accepted by the service its audience names', async () => {
    await expect(verifyTaskToken(forged, config({ K_SERVICE: 'deliverrestockbatch' }))).resolves.toEqual({ email: TASKS });
  });

  test("is refused by another service with the same settings (a public copy: K_SERVICE is not the audience's)", async () => {
    await expect(verifyTaskToken(forged, config({ K_SERVICE: 'deliverrestockbatch-debug' }))).rejects.toBeInstanceOf(InvalidTokenError);
  });

  test('is refused where no Cloud Run service received it (K_SERVICE unset)', async () => {
    await expect(verifyTaskToken(forged, config({}))).rejects.toBeInstanceOf(InvalidTokenError);
  });
});
