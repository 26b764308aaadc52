/**
 * An inventory event that can never be processed as sent: it is acknowledged,
 * recorded in `rejectedEvents/{eventKey}` and counted, never retried
 * (docs/design.md promise 4). `field` is the path of the first problem.
 */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  constructor(
    readonly field: string,
    readonly problem: string,
    /** The event key when the envelope was readable enough to give one. */
    readonly eventKey?: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}
