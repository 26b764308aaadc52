/**
 * A subscription store's versions on Firestore: a document's update time,
 * which a write's precondition can name, and the answer a conditional write
 * gets when the document changed meanwhile. Shared by the subscriptions and
 * the pending (double opt-in) requests.
 */
import { Timestamp } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import type { SubscriptionVersion } from './store.ts';

/** The store's version of a document: its update time. */
export function versionOf(time: Timestamp): SubscriptionVersion {
  return `${time.seconds}:${time.nanoseconds}` as SubscriptionVersion;
}

export function timeOf(version: SubscriptionVersion): Timestamp {
  const [seconds, nanoseconds] = version.split(':').map(Number);
  return new Timestamp(seconds!, nanoseconds!);
}

/** A conditional write that found the document changed, gone, or (for a create) already there. */
export function preconditionFailed(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === status.FAILED_PRECONDITION || code === status.NOT_FOUND || code === status.ALREADY_EXISTS;
}
