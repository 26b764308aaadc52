/** A pushed message that is not a shopper action: acknowledged (it would fail again), recorded in the log by field, never by content. */
export class InvalidShopperActionError extends Error {
  override readonly name = 'InvalidShopperActionError';
  constructor(
    readonly field: string,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${problem}`, options);
  }
}

/** The topic refused or did not answer: the public function answers 503 and the mailbox provider retries. */
export class ShopperActionPublishError extends Error {
  override readonly name = 'ShopperActionPublishError';
  constructor(options: { cause: unknown }) {
    super('the shopper action could not be published', options);
  }
}
