/**
 * Recording clicks: `clicks/{clickKey}` created once; a second click of the
 * same (event, shopper, channel), however many arrive at once, finds it and
 * changes nothing. A `create` rather than a transaction: 32 followers of one
 * link race to one document, and only one create can win.
 */
import { Timestamp, type Firestore } from '@google-cloud/firestore';
import { status } from '@grpc/grpc-js';
// The ledger module itself, not lib/delivery's door: the door reaches lib/unsubscribe (through lib/notify), which imports this folder.
import { entriesOfUser } from '../delivery/ledger.ts';
import { COLLECTIONS, type ClickDoc } from '../model.ts';
import { clickKey, type ClickClaims } from './rules.ts';

/** One click to record, as the `click` shopper action carries it. */
export type ClickToRecord = Pick<ClickClaims, 'eventKey' | 'productId' | 'userId' | 'channel' | 'wave'> & { clickedAtMs: number };

/**
 * `clicked`: the first click of its notification; `already-clicked`: counted
 * before; `not-notified`: the ledger holds no `sent` notification of that
 * restock on that channel for the shopper (erased since the link was sent: a
 * click in flight must not write the user id back).
 */
export type ClickRecordOutcome = 'clicked' | 'already-clicked' | 'not-notified';

/** Ledger entries a click's shopper is read for, newest first: more than one shopper has of one product (a sign-up's entry per channel). */
const LEDGER_READ = 50;

/** Clicks on the pipeline's Firestore database. */
export class FirestoreClickStore {
  constructor(
    private readonly db: Firestore,
    /** Days a click is kept (RESTOCK_LEDGER_TTL_DAYS: the funnel counts it against the ledger, which lives as long). */
    private readonly ttlDays: number,
  ) {}

  /**
   * Records the click unless its notification was clicked before.
   * @throws the client's error when Firestore fails (the push is retried).
   */
  async record(click: ClickToRecord): Promise<ClickRecordOutcome> {
    const doc: ClickDoc = {
      eventKey: click.eventKey,
      productId: click.productId,
      userId: click.userId,
      channel: click.channel,
      ...(click.wave !== undefined ? { wave: click.wave } : {}),
      clickedAtMs: click.clickedAtMs,
      expireAt: Timestamp.fromMillis(click.clickedAtMs + this.ttlDays * 86_400_000),
    };
    const ref = this.db.collection(COLLECTIONS.clicks).doc(clickKey(click.eventKey, click.userId, click.channel));
    if ((await ref.get()).exists) return 'already-clicked';
    // The ledger's (userId, productId, createdAtMs) index; an erased shopper's entries carry the pseudonym instead.
    const ledger = await entriesOfUser(this.db, click.userId, click.productId, LEDGER_READ);
    if (!ledger.some((d) => d.get('eventKey') === click.eventKey && d.get('channel') === click.channel && d.get('state') === 'sent')) return 'not-notified';
    try {
      await ref.create(doc);
      return 'clicked';
    } catch (err) {
      if ((err as { code?: unknown }).code === status.ALREADY_EXISTS) return 'already-clicked';
      throw err;
    }
  }
}
