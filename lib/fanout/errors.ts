/** Another attempt holds the fan-out's lease; try again after it expires. */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
  constructor(
    readonly eventKey: string,
    readonly leaseExpiresAtMs: number,
  ) {
    super(`fan-out ${eventKey} is being run by another attempt until ${new Date(leaseExpiresAtMs).toISOString()}`);
  }
}

/** This attempt's lease was taken over (it checkpointed too late); it stops so only one attempt pages. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly eventKey: string) {
    super(`fan-out ${eventKey} lease was taken over by another attempt; this one stops`);
  }
}

/** No fan-out is stored under this key (replay or continuation of an unknown event). */
export class FanoutNotFoundError extends Error {
  override readonly name = 'FanoutNotFoundError';
  constructor(readonly eventKey: string) {
    super(`no fan-out is stored for event ${eventKey}`);
  }
}

/** The fan-out cannot be replayed (it was ignored: not a restock, or stale). */
export class FanoutNotReplayableError extends Error {
  override readonly name = 'FanoutNotReplayableError';
  constructor(
    readonly eventKey: string,
    readonly reason: string,
  ) {
    super(`fan-out ${eventKey} was ignored (${reason}); there is nothing to replay`);
  }
}
