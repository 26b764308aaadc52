/**
 * The read model of `restock dead-letters`: one dead-lettered message and why
 * it died. Its own module so the operations' interface can name it without
 * importing a command.
 */

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
