/**
 * How recipients are cut into chunks and how chunk tasks are named. Pure.
 *
 * A chunk's task id is a hash of its exact members (and the event key and
 * replay generation). Cloud Tasks refuses a second task of the same name, so
 * a retried fan-out that produces the same chunk creates nothing new — but a
 * chunk whose members changed (earlier deliveries deleted some subscribers
 * and shifted the boundaries) gets a new name and is enqueued: a name can
 * save a duplicate task but never hide a recipient (docs/design.md promise 3).
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

/**
 * What every task id of one event starts with (chunks, continuations,
 * redrives), so an operator's tool can find an event's tasks in the queue.
 * A hash, not the key itself: task ids allow only `[A-Za-z0-9_-]`, and hashed
 * prefixes spread over the queue's key space as Cloud Tasks recommends.
 */
export function eventTaskPrefix(eventKey: string): string {
  return sha256(eventKey).slice(0, 24);
}

/** A digest of an exact member list. Length-prefixing each id keeps ["a,b"] and ["a","b"] apart. */
function membersDigest(userIds: readonly string[], salt = ''): string {
  return sha256(salt + userIds.map((id) => `${id.length}:${id}`).join('')).slice(0, 40);
}

/** The task id of a delivery chunk: `<event>-g<generation>-<members>`, valid as a Cloud Tasks id. */
export function chunkTaskId(eventKey: string, generation: number, userIds: readonly string[]): string {
  return `${eventTaskPrefix(eventKey)}-g${generation}-${membersDigest(userIds)}`;
}

/** The task id of a continuation from `cursor`: one per (event, generation, cursor). */
export function continuationTaskId(eventKey: string, generation: number, cursor: string | null): string {
  return `${eventTaskPrefix(eventKey)}-g${generation}-cont-${sha256(cursor ?? '').slice(0, 32)}`;
}

/**
 * The task id of range `index`'s continuation from `cursor` (null: the
 * range's start): one per (event, generation, range, cursor), so the K
 * chains of one fan-out never share a name, and a re-enqueued start or
 * continuation of the same point is deduplicated by the queue.
 */
export function rangeContinuationTaskId(eventKey: string, generation: number, index: number, cursor: string | null): string {
  return `${eventTaskPrefix(eventKey)}-g${generation}-r${index}-${cursor === null ? 'start' : `cont-${sha256(cursor).slice(0, 32)}`}`;
}

/** The task id of one redriven chunk: unique per redrive run, so no earlier name hides it. */
export function redriveTaskId(eventKey: string, runId: string, userIds: readonly string[]): string {
  return `${eventTaskPrefix(eventKey)}-redrive-${membersDigest(userIds, `${runId}:`)}`;
}

/**
 * The task id of the recipients of one chunk held until `opensAtMs`: one per
 * (chunk, opening), so a retried chunk that holds them again meets its own
 * name in the queue and enqueues nothing twice.
 */
export function heldTaskId(chunkId: string, opensAtMs: number, userIds: readonly string[]): string {
  return `${chunkId.slice(0, 24)}-held-${opensAtMs}-${membersDigest(userIds, `${chunkId}:`)}`;
}
