/** Queries and controls of the notification sink over its HTTP API. */
import type { ConfirmationRecord, FaultProfile, NotificationRecord, SinkStats } from '../../emulators/sink/index.ts';

/** Unexpected answer from the sink's control API. */
export class SinkApiError extends Error {
  override readonly name = 'SinkApiError';
  constructor(
    readonly path: string,
    readonly status: number,
    body: string,
  ) {
    super(`sink ${path} answered ${status}: ${body}`);
  }
}

/** A client of one sink (base URL from the stack description). */
export class SinkClient {
  constructor(readonly baseUrl: string) {}

  /** Counters for one product (or everything). */
  stats(productId?: string): Promise<SinkStats> {
    return this.call('GET', `/stats${query(productId)}`);
  }

  /** Per-key records of one product, in order of first arrival. */
  async notifications(productId: string): Promise<NotificationRecord[]> {
    const body = await this.call<{ notifications: NotificationRecord[] }>('GET', `/notifications${query(productId)}`);
    return body.notifications;
  }

  /** Double opt-in confirmations of one product, in order of first arrival (never among the notifications). */
  async confirmations(productId: string): Promise<ConfirmationRecord[]> {
    const body = await this.call<{ confirmations: ConfirmationRecord[] }>('GET', `/confirmations${query(productId)}`);
    return body.confirmations;
  }

  /** Sets the fault profile of `profile.productId` (or the global one). */
  async faults(profile: FaultProfile): Promise<void> {
    await this.call('POST', '/faults', profile);
  }

  /** Clears the faults of one product, or all. */
  async clearFaults(productId?: string): Promise<void> {
    await this.call('DELETE', `/faults${query(productId)}`);
  }

  /** Forgets one product's records and faults, or everything. */
  async reset(productId?: string): Promise<void> {
    await this.call('POST', `/reset${query(productId)}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    });
    const text = await res.text();
    if (!res.ok) throw new SinkApiError(path, res.status, text);
    return JSON.parse(text) as T;
  }
}

function query(productId: string | undefined): string {
  return productId === undefined ? '' : `?productId=${encodeURIComponent(productId)}`;
}
