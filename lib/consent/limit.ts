/**
 * The per-address limit of confirmation messages: at most N a day to one
 * address, whoever asks, so nobody can use the subscription API to mail-bomb
 * a stranger (docs/design.md promise 16).
 *
 * Counted without a counter: each message takes one of N slot documents of
 * the address's current day, `confirmationSlots/{hash}-{day}-{i}`, by
 * `create` (which fails when the slot is taken). Concurrent requests for one
 * address never contend on one document in a transaction (64 at once would
 * abort each other on Firestore's locks); at most N creates can succeed, so
 * the limit holds exactly however many arrive together. The document id
 * names the address only as a keyed hash (RESTOCK_PSEUDONYM_KEY), the slot
 * holds nothing else, and Firestore's TTL policy deletes it after its day.
 */
import { createHmac } from 'node:crypto';
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
import { COLLECTIONS, type Channel } from '../model.ts';

/** The window the limit counts in: a UTC day. */
export const LIMIT_WINDOW_MS = 86_400_000;

/** Whether a message may go to an address now, and if not, when it may again. */
export type SlotVerdict = { ok: true } | { ok: false; retryAfterMs: number };

export interface AddressLimiter {
  take(channel: Channel, address: string, nowMs: number): Promise<SlotVerdict>;
}

/**
 * How an address is named in slot ids: a keyed hash of the channel and the
 * address as a mailbox compares it (case-folded, so `Ann@` and `ann@` share a
 * limit). Pure.
 */
export function addressDigest(key: string, channel: Channel, address: string): string {
  return createHmac('sha256', key).update(`confirm-limit:${channel}:${address.trim().toLowerCase()}`).digest('hex').slice(0, 32);
}

/** The slot ids of an address in the window of `nowMs`, in the order they are taken (pure). */
export function slotIds(digest: string, nowMs: number, perWindow: number): string[] {
  const window = Math.floor(nowMs / LIMIT_WINDOW_MS);
  return Array.from({ length: perWindow }, (_, i) => `${digest}-${window}-${i}`);
}

/** {@link AddressLimiter} on Firestore slot documents. */
export class FirestoreAddressLimiter implements AddressLimiter {
  constructor(
    private readonly db: Firestore,
    private readonly options: { perWindow: number; key: string },
  ) {}

  async take(channel: Channel, address: string, nowMs: number): Promise<SlotVerdict> {
    const windowEndMs = (Math.floor(nowMs / LIMIT_WINDOW_MS) + 1) * LIMIT_WINDOW_MS;
    for (const id of slotIds(addressDigest(this.options.key, channel, address), nowMs, this.options.perWindow)) {
      try {
        await this.db.collection(COLLECTIONS.confirmationSlots).doc(id).create({ takenAtMs: nowMs, expireAt: Timestamp.fromMillis(windowEndMs) });
        return { ok: true };
      } catch (err) {
        if ((err as { code?: unknown }).code !== status.ALREADY_EXISTS) throw err;
      }
    }
    return { ok: false, retryAfterMs: windowEndMs - nowMs };
  }
}
