/** Typed errors of the outbox kit. Callers branch on the class, never on the message. */

/**
 * The stock change cannot become a valid `inventory.updated` event. Thrown by
 * `stageStockChange` before anything is written, so the caller's transaction
 * rolls back with it. `field` is the path of the first problem (`available`,
 * `product.url`, ...).
 */
export class OutboxValidationError extends Error {
  override readonly name = 'OutboxValidationError';
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/** No outbox row has this event id. */
export class OutboxRowNotFoundError extends Error {
  override readonly name = 'OutboxRowNotFoundError';
  constructor(readonly eventId: string) {
    super(`no outbox row for event ${eventId}`);
  }
}

/** A redrive asked for a row whose state may not be redriven (only `failed` may). */
export class OutboxNotRedrivableError extends Error {
  override readonly name = 'OutboxNotRedrivableError';
  constructor(
    readonly eventId: string,
    readonly state: string,
  ) {
    super(`outbox row ${eventId} is ${state}; only failed rows can be redriven`);
  }
}

/** One publish did not complete within its timeout (the row is retried later). */
export class PublishTimeoutError extends Error {
  override readonly name = 'PublishTimeoutError';
  constructor(
    readonly eventId: string,
    readonly timeoutMs: number,
  ) {
    super(`publishing event ${eventId} did not complete within ${timeoutMs} ms`);
  }
}
