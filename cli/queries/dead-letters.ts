/**
 * The read model of `restock dead-letters`: one dead-lettered message and why
 * it died, read from the dead-letter subscription and explained from what the
 * pipeline recorded, through the fan-out's store (lib/fanout) like every other
 * query of the CLI. Its own module so the operations' interface can name it
 * without importing a command.
 */
import { readFanouts, fanoutsAtSequence, readRejectedEvents } from '../../lib/fanout/index.ts';
import { COLLECTIONS } from '../../lib/model.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';

/** Prefix of the attributes Pub/Sub adds when it dead-letters a message. */
export const DEAD_LETTER_ATTRIBUTE_PREFIX = 'CloudPubSubDeadLetterSource';
const PULL_BATCH = 100;
/** Lease taken on pulled messages: the longest Pub/Sub allows, so a prompt cannot outlive it in practice. */
const LEASE_SECONDS = 600;

/** Why a message died, from what the pipeline recorded under its event key. */
export interface DeathCause {
  /** `rejectedEvents/{eventKey}.reason`: the event failed validation. */
  rejected: { reason: string; field: string | null } | null;
  /** `fanouts/{eventKey}`: its state and last error, when a fan-out started. */
  fanout: { state: string; error: string | null; reason: string | null } | null;
}

/** One dead-lettered message, leased by this command. */
export interface DeadLetter {
  /** Lease handle; never printed. */
  ackId: string;
  /** The dead-letter copy's messageId (the original's is not kept by Pub/Sub). */
  messageId: string;
  publishTimeMs: number | null;
  attributes: Record<string, string>;
  data: Buffer;
  eventId: string | null;
  /** The key the pipeline used for this event, or null when it cannot be known. */
  eventKey: string | null;
  eventKeySource: 'eventId' | 'fanout-match' | 'unknown';
  deliveryAttempts: number | null;
  sourceSubscription: string | null;
  originalPublishTimeMs: number | null;
  cause: DeathCause;
}

function toMs(t: { seconds?: unknown; nanos?: unknown } | null | undefined): number | null {
  if (!t || t.seconds === undefined || t.seconds === null) return null;
  return Number(t.seconds) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1e6);
}

function attemptsOf(a: Record<string, string>, deliveryAttempt: number | null | undefined): number | null {
  const fromAttr = Number(a[`${DEAD_LETTER_ATTRIBUTE_PREFIX}DeliveryCount`]);
  if (Number.isFinite(fromAttr) && fromAttr > 0) return fromAttr;
  return deliveryAttempt ?? null;
}

type RawDeadLetter = Omit<DeadLetter, 'eventKey' | 'eventKeySource' | 'cause'>;

/**
 * The event key of a dead letter: its `eventId`, else — Pub/Sub does not keep
 * the original messageId when it dead-letters — the one fan-out of the same
 * product and sequence, when exactly one exists.
 */
async function eventKeyOf(backend: Backend, raw: RawDeadLetter): Promise<Pick<DeadLetter, 'eventKey' | 'eventKeySource'>> {
  if (raw.eventId) return { eventKey: raw.eventId, eventKeySource: 'eventId' };
  let parsed: { productId?: unknown; sequence?: unknown } | undefined;
  try {
    parsed = JSON.parse(raw.data.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed.productId === 'string' && typeof parsed.sequence === 'number') {
    const matches = await guard('query', `${COLLECTIONS.fanouts} of ${parsed.productId} at sequence ${parsed.sequence}`, fanoutsAtSequence(backend.db, parsed.productId, parsed.sequence, 2));
    if (matches.length === 1) return { eventKey: matches[0]!.eventKey, eventKeySource: 'fanout-match' };
  }
  return { eventKey: null, eventKeySource: 'unknown' };
}

/**
 * Says why each dead letter died: its key (the lookups of keyless messages run
 * side by side), then one read of every message's rejected-event and fan-out records.
 */
async function explainAll(backend: Backend, raws: RawDeadLetter[]): Promise<DeadLetter[]> {
  const { db } = backend;
  const keyed = await Promise.all(raws.map(async (raw) => ({ ...raw, ...(await eventKeyOf(backend, raw)) })));
  const keys = [...new Set(keyed.map((m) => m.eventKey).filter((k): k is string => k !== null))];
  const what = `${COLLECTIONS.rejectedEvents} and ${COLLECTIONS.fanouts} of ${keys.length} event(s)`;
  const [rejected, fanouts] = await guard('read', what, Promise.all([readRejectedEvents(db, keys), readFanouts(db, keys)]));
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const causeOf = (key: string): DeathCause => {
    const r = rejected.get(key);
    const f = fanouts.get(key);
    return {
      rejected: r ? { reason: String(r.reason ?? 'unknown'), field: str(r.field) } : null,
      fanout: f ? { state: String(f.state ?? 'unknown'), error: str(f.error), reason: str(f.reason) } : null,
    };
  };
  return keyed.map((m) => ({ ...m, cause: m.eventKey ? causeOf(m.eventKey) : { rejected: null, fanout: null } }));
}

/**
 * Pulls up to `limit` dead letters without acknowledging them, extends their
 * lease for the rest of the command, and explains each one.
 * @throws BackendError when Pub/Sub or Firestore fails.
 */
export async function pullDeadLetters(backend: Backend, limit: number): Promise<DeadLetter[]> {
  const client = await backend.subscriber();
  const subscription = client.subscriptionPath(backend.config.projectId, backend.settings.deadLetterSubscription);
  const pulled: DeadLetter[] = [];
  let emptyPulls = 0;
  // A synchronous pull may return fewer messages than are available, or none
  // while some exist; two empty answers in a row are taken as "drained".
  while (pulled.length < limit && emptyPulls < 2) {
    const [response] = await guard('pull from', `subscription ${subscription}`, client.pull({ subscription, maxMessages: Math.min(PULL_BATCH, limit - pulled.length), returnImmediately: true }));
    const received = response.receivedMessages ?? [];
    if (received.length === 0) {
      emptyPulls++;
      continue;
    }
    emptyPulls = 0;
    const ackIds = received.map((r) => r.ackId!).filter(Boolean);
    await guard('extend the lease on', `${ackIds.length} message(s) of ${subscription}`, client.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: LEASE_SECONDS }));
    const raws: RawDeadLetter[] = received.map((r) => {
      const message = r.message ?? {};
      const attributes = { ...(message.attributes ?? {}) } as Record<string, string>;
      const originalPublish = Date.parse(attributes[`${DEAD_LETTER_ATTRIBUTE_PREFIX}TopicPublishTime`] ?? '');
      return {
        ackId: r.ackId ?? '',
        messageId: message.messageId ?? '',
        publishTimeMs: toMs(message.publishTime as { seconds?: unknown; nanos?: unknown } | null),
        attributes,
        data: message.data ? Buffer.from(message.data as Uint8Array | string) : Buffer.alloc(0),
        eventId: attributes.eventId || null,
        deliveryAttempts: attemptsOf(attributes, r.deliveryAttempt),
        sourceSubscription: attributes[`${DEAD_LETTER_ATTRIBUTE_PREFIX}Subscription`] ?? null,
        originalPublishTimeMs: Number.isFinite(originalPublish) ? originalPublish : null,
      };
    });
    pulled.push(...(await explainAll(backend, raws)));
  }
  return pulled;
}

/** Acknowledges (`ack`) or releases for immediate redelivery (`release`) the given messages. @throws BackendError */
export async function settleDeadLetters(backend: Backend, messages: DeadLetter[], how: 'ack' | 'release'): Promise<void> {
  if (messages.length === 0) return;
  const client = await backend.subscriber();
  const subscription = client.subscriptionPath(backend.config.projectId, backend.settings.deadLetterSubscription);
  const ackIds = messages.map((m) => m.ackId);
  if (how === 'ack') await guard('acknowledge', `${ackIds.length} message(s) of ${subscription}`, client.acknowledge({ subscription, ackIds }));
  else await guard('release', `${ackIds.length} message(s) of ${subscription}`, client.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 }));
}
