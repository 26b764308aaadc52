/**
 * One call to a Google API, bounded: the bound is longer on the emulators
 * (whose Firestore scans a collection for every query), and a call given up
 * on is named in the error.
 */
import { describe, expect, test } from 'vitest';
import { BackendError } from '../../../cli/errors.ts';
import { CALL_TIMEOUT_MS, callTimeoutMs, EMULATOR_CALL_TIMEOUT_MS, guard } from '../../../cli/guard.ts';

describe('guard', () => {
  test('bounds a call by 30 s against Google, 90 s on the emulators', () => {
    expect(callTimeoutMs({})).toBe(CALL_TIMEOUT_MS);
    expect(callTimeoutMs({ FIRESTORE_EMULATOR_HOST: '127.0.0.1:8080' })).toBe(EMULATOR_CALL_TIMEOUT_MS);
    expect([CALL_TIMEOUT_MS, EMULATOR_CALL_TIMEOUT_MS]).toEqual([30_000, 90_000]);
  });

  test('gives up on a slow call naming the resource and the bound', async () => {
    const given = await guard('count', 'deliveries of evt-1', new Promise<number>(() => {}), 20).catch((e: unknown) => e);

    expect(given).toBeInstanceOf(BackendError);
    expect((given as Error).message).toBe('cannot count deliveries of evt-1');
    expect(((given as Error).cause as Error).message).toBe('no answer within 0.02 s (is the emulator or the network up?)');
  });
});
