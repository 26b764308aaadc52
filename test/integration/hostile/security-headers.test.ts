/**
 * Issue 31, item 12: every answer of every function says
 * `X-Content-Type-Options: nosniff` and carries a Content-Security-Policy, so
 * a problem answer that echoes a request path can never be sniffed and run
 * as a page: answers of the function, problems raised before it ran (an
 * unknown route, malformed JSON, a body too large) and the unsubscribe pages.
 */
import { describe, expect, test } from 'vitest';
import { FUNCTION_NAMES } from '../../../emulators/stack/index.ts';
import { stack } from '../../helpers/index.ts';

const PATH_WITH_MARKUP = `/%3Cscript%3Ealert(1)%3C%2Fscript%3E`;

async function headersOf(url: string, init?: RequestInit): Promise<{ status: number; nosniff: string | null; csp: string | null }> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return { status: res.status, nosniff: res.headers.get('x-content-type-options'), csp: res.headers.get('content-security-policy') };
}

describe('security headers on every answer', () => {
  for (const name of FUNCTION_NAMES) {
    test(`${name}: an unknown path, malformed JSON and an oversized body`, async () => {
      // Prepare
      const base = stack().description.functions[name].replace(/\/$/, '');

      // Act
      const answers = [
        await headersOf(`${base}${PATH_WITH_MARKUP}`),
        await headersOf(`${base}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x": ' }),
        await headersOf(`${base}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(70_000) }) }),
      ];

      // Assess
      for (const answer of answers) {
        expect(answer.nosniff, JSON.stringify(answer)).toBe('nosniff');
        expect(answer.csp, JSON.stringify(answer)).toMatch(/default-src 'none'/);
        expect(answer.csp).toMatch(/frame-ancestors 'none'/);
      }
    });
  }

  test('the subscription API: a success and a problem', async () => {
    const base = stack().description.functions.restockSubscriptions.replace(/\/$/, '');
    for (const answer of [await headersOf(`${base}/v1/openapi.json`), await headersOf(`${base}/v1/products/p/subscriptions/u`, { method: 'PATCH' })]) {
      expect(answer.nosniff).toBe('nosniff');
      expect(answer.csp).toMatch(/default-src 'none'/);
    }
  });
});
