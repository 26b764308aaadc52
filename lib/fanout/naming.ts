/**
 * How recipients are cut into chunks and how chunk tasks are named. Pure.
 *
 * A chunk's task id is a hash of its exact members (and the event key and
 * replay generation). Cloud Tasks refuses a second task of the same name, so
 * a retried fan-out that produces the same chunk creates nothing new — but a
 * chunk whose members changed (earlier deliveries deleted some subscribers
 * and shifted the boundaries) gets a new name and is enqueued: a name can
 * save a duplicate task but never hide a recipient (DESIGN.md promise 3).
 */
import { createHash } from 'node:crypto';

/** Splits `items` into runs of at most `size`, keeping order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The task id of a delivery chunk: `<event>-g<generation>-<members>`, valid as a Cloud Tasks id. */
export function chunkTaskId(eventKey: string, generation: number, userIds: readonly string[]): string {
  // Length-prefixing each id keeps ["a,b"] and ["a","b"] apart.
  const members = sha256(userIds.map((id) => `${id.length}:${id}`).join(''));
  return `${sha256(eventKey).slice(0, 24)}-g${generation}-${members.slice(0, 40)}`;
}

/** The task id of a continuation from `cursor`: one per (event, generation, cursor). */
export function continuationTaskId(eventKey: string, generation: number, cursor: string | null): string {
  return `${sha256(eventKey).slice(0, 24)}-g${generation}-cont-${sha256(cursor ?? '').slice(0, 32)}`;
}
