/**
 * The subscription API against a corpus of malformed requests: each is
 * answered with the problem that names what is wrong (never a crash, never
 * HTML), none changes a subscription, and valid requests in between work.
 */
import { describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../../../lib/http/index.ts';
import { stack, uniqueProductId } from '../../helpers/index.ts';
import { subscriptionCorpus } from '../../helpers/corpus.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('restockSubscriptions and a corpus of malformed requests', () => {
  test('answers each with its problem, changes nothing, stays up, and serves the valid requests in between', async () => {
    // Prepare
    const on = stack();
    const base = on.description.functions.restockSubscriptions.replace(/\/$/, '');
    const productId = uniqueProductId('corpus-api');
    const corpus = subscriptionCorpus(productId);
    const validUsers: string[] = [];

    // Act: a valid subscribe after every third bad request.
    const answers = [];
    for (const [i, bad] of corpus.entries()) {
      const res = await fetch(base + bad.path, { method: bad.method, headers: bad.headers, ...(bad.body !== undefined ? { body: bad.body } : {}) });
      const text = await res.text();
      answers.push({ bad, status: res.status, contentType: res.headers.get('content-type') ?? '', text });
      if (i % 3 === 2) {
        const userId = `valid-${i}`;
        const ok = await fetch(`${base}/v1/products/${productId}/subscriptions/${userId}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ channels: { email: `${userId}@example.com` } }),
        });
        expect(ok.status, `valid PUT after ${bad.name}`).toBe(201);
        validUsers.push(userId);
      }
    }

    // Assess: the problem each deserves.
    const seen = answers.map(({ bad, status, contentType, text }) => ({
      name: bad.name,
      status,
      contentType,
      type: contentType === PROBLEM_CONTENT_TYPE ? JSON.parse(text).type : text.slice(0, 80),
    }));
    const deserved = answers.map(({ bad }) => ({ name: bad.name, status: bad.status, contentType: PROBLEM_CONTENT_TYPE, type: PROBLEM_TYPE_PREFIX + bad.problem }));
    expect(seen).toEqual(deserved);
    // Only the valid subscriptions exist.
    const snap = await on.firestore.collection(COLLECTIONS.products).doc(productId).collection(COLLECTIONS.subscriptions).get();
    expect(snap.docs.map((d) => d.id).sort()).toEqual([...validUsers].sort());
    expect(isAlive(on.description.pids.restockSubscriptions)).toBe(true);
  });
});
