/**
 * One call to a Google API, bounded in time and named on failure. Kept apart
 * from the clients so commands can use it without loading them.
 */
import { BackendError } from './errors.ts';

/** How long one call to a Google API may take before the CLI gives up on it. */
export const CALL_TIMEOUT_MS = 30_000;

/**
 * The same on the emulators: the Firestore emulator answers a query by
 * scanning its collection, so on a busy local stack (a test suite's shared
 * one) a count Firestore answers in milliseconds can take tens of seconds,
 * and `restock status` asks about fifteen at once.
 */
export const EMULATOR_CALL_TIMEOUT_MS = 90_000;

/** The bound of one call where the CLI is pointed (the backend exports the emulator variables it resolved). */
export function callTimeoutMs(env: Record<string, string | undefined> = process.env): number {
  return env.FIRESTORE_EMULATOR_HOST ? EMULATOR_CALL_TIMEOUT_MS : CALL_TIMEOUT_MS;
}

/**
 * Awaits one call to a Google API, naming the resource on failure, and gives
 * up after `timeoutMs` (the clients retry UNAVAILABLE for a long time, which
 * at a terminal looks like a hang).
 * @throws BackendError with the original error as `cause`.
 */
export async function guard<T>(what: string, resource: string, call: Promise<T>, timeoutMs = callTimeoutMs()): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s (is the emulator or the network up?)`)), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([call, timeout]);
  } catch (err) {
    throw new BackendError(`cannot ${what} ${resource}`, resource, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
