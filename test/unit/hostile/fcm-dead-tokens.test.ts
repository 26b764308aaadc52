/**
 * Issue 31, item 11: only FCM's own UNREGISTERED and SENDER_ID_MISMATCH
 * error codes mark a push token dead (it is then removed from the shopper's
 * other subscriptions). Any other 404 (a proxy's page, a wrong project, a
 * NOT_FOUND without FCM's detail) is retried, not a reason to forget a token.
 */
import { describe, expect, test } from 'vitest';
import { classifyFcmAnswer } from '../../../lib/notify/fcm.ts';

const fcmError = (status: number, httpStatus: string, errorCode?: string) =>
  JSON.stringify({
    error: {
      code: status,
      message: 'Requested entity was not found.',
      status: httpStatus,
      ...(errorCode ? { details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }] } : {}),
    },
  });

describe('dead tokens', () => {
  test.each([
    ['404 NOT_FOUND with FcmError UNREGISTERED', 404, fcmError(404, 'NOT_FOUND', 'UNREGISTERED')],
    ['403 PERMISSION_DENIED with FcmError SENDER_ID_MISMATCH', 403, fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH')],
  ])('%s is a dead token', (_name, status, body) => {
    expect(classifyFcmAnswer(status, body, null, 0)).toMatchObject({ outcome: 'rejected', deadToken: true });
  });

  test.each([
    ["a proxy's HTML 404 page", 404, '<html><body>Not Found</body></html>'],
    ['a 404 NOT_FOUND without FCM detail (a wrong project)', 404, fcmError(404, 'NOT_FOUND')],
    ['an empty 404', 404, ''],
    ['a JSON 404 whose status string says UNREGISTERED but has no FcmError detail', 404, JSON.stringify({ error: { code: 404, status: 'UNREGISTERED' } })],
  ])('%s is retried, and the token kept', (_name, status, body) => {
    // Act
    const verdict = classifyFcmAnswer(status, body, null, 0);

    // Assess
    expect(verdict.outcome).toBe('retry');
    expect(verdict).not.toHaveProperty('deadToken', true);
    expect((verdict as { reason: string }).reason).toMatch(/^fcm 404/);
  });
});
