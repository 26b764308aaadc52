/**
 * An in-memory Pub/Sub topic with one push subscription (what
 * `terraform/pubsub.tf` deploys in front of `fanOutRestock`): at-least-once
 * delivery, an ack deadline (an answer later than it counts as a nack), the
 * subscription's exponential retry policy, and a dead-letter topic after
 * `maxDeliveryAttempts`. Faults the seed may add: a message delivered twice
 * at once, or again after it was acknowledged (Pub/Sub's at-least-once
 * allows both), and messages overtaking each other.
 */
import type { Prng } from './prng.ts';
import type { Scheduler } from './scheduler.ts';

export interface PushSettings {
  ackDeadlineMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  maxDeliveryAttempts: number;
  /** Publish → push request, ms; default a draw of 5–50 ms (the production clock sets its constant). */
  pushLatencyMs?: number;
}

export interface PushFaults {
  /** Per delivery: a second copy arrives at about the same time. */
  concurrentDuplicate: number;
  /** Per acknowledged message: delivered once more, later. */
  redeliverAfterAck: number;
  /** Extra delay before a delivery, ms (so messages overtake each other). */
  maxJitterMs: number;
}

export interface PushMessage {
  messageId: string;
  data: string;
  attributes: Record<string, string>;
  publishTime: string;
  deliveryAttempt: number;
}


/** Answers an HTTP status, or never (its process died). */
export type PushHandler = (body: { message: PushMessage; subscription: string; deliveryAttempt: number }) => Promise<number>;

export class PushSubscription {
  private nextId = 1000;
  readonly deadLettered: PushMessage[] = [];
  /**
   * Messages a copy of whose last delivery was lost (its instance died, or the
   * ack deadline passed): nobody was left to end that fan-out, so only the
   * dead-letter alert tells of it.
   */
  readonly lastDeliveryLost = new Set<string>();
  readonly acked = new Set<string>();
  /** When the latest message was acknowledged or dead-lettered (virtual ms; 0: none yet). */
  settledAtMs = 0;
  /** Every message published, in order (the outbox invariants read their eventIds). */
  readonly published: PushMessage[] = [];
  readonly publishListeners: ((m: PushMessage) => void)[] = [];
  deliveries = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Prng,
    readonly settings: PushSettings,
    public faults: PushFaults,
    private readonly handler: PushHandler,
  ) {}

  /** Publishes a message; returns its messageId. */
  publish(data: unknown, attributes: Record<string, string> = {}): string {
    const messageId = String(this.nextId++);
    const message: PushMessage = {
      messageId,
      data: Buffer.from(JSON.stringify(data)).toString('base64'),
      attributes,
      publishTime: new Date(this.scheduler.nowMs).toISOString(),
      deliveryAttempt: 0,
    };
    this.scheduler.log('pubsub', `published ${messageId} ${JSON.stringify(attributes)}`);
    this.published.push(message);
    for (const l of this.publishListeners) l(message);
    this.schedule(message, (this.settings.pushLatencyMs ?? this.random.int(5, 50)) + this.random.int(0, this.faults.maxJitterMs));
    return messageId;
  }

  private schedule(message: PushMessage, delayMs: number): void {
    this.scheduler.at(delayMs, () => this.deliver(message));
  }

  private deliver(message: PushMessage, duplicate = false): void {
    if (!duplicate) message.deliveryAttempt++;
    const attempt = message.deliveryAttempt;
    this.deliveries++;
    this.scheduler.log('pubsub', `deliver ${message.messageId} attempt ${attempt}${duplicate ? ' (duplicate)' : ''}`);
    if (!duplicate && this.random.chance(this.faults.concurrentDuplicate)) {
      this.scheduler.at(this.random.int(0, 200), () => this.deliver(message, true));
    }
    let answered = false;
    const onAnswer = (code: number, why: string, byHandler = false) => {
      if (answered) return;
      answered = true;
      if (!byHandler && attempt >= this.settings.maxDeliveryAttempts) this.lastDeliveryLost.add(message.messageId);
      if (duplicate) return; // the copy's fate does not change the message's
      if (code >= 200 && code < 300) {
        this.acked.add(message.messageId);
        this.settledAtMs = this.scheduler.nowMs;
        this.scheduler.log('pubsub', `acked ${message.messageId}`);
        if (this.random.chance(this.faults.redeliverAfterAck)) this.scheduler.at(this.random.int(100, 120_000), () => this.deliver(message, true));
        return;
      }
      if (attempt >= this.settings.maxDeliveryAttempts) {
        this.deadLettered.push(message);
        this.settledAtMs = this.scheduler.nowMs;
        this.scheduler.log('pubsub', `DEAD-LETTERED ${message.messageId} after ${attempt} attempts (${why})`);
        return;
      }
      const backoff = Math.min(this.settings.maxBackoffMs, this.settings.minBackoffMs * 2 ** (attempt - 1));
      this.scheduler.log('pubsub', `nack ${message.messageId} (${why}); redeliver in ${backoff} ms`);
      this.schedule(message, backoff);
    };
    const deadline = this.scheduler.at(this.settings.ackDeadlineMs, () => onAnswer(504, 'ack deadline passed'));
    this.handler({ message: { ...message, deliveryAttempt: attempt }, subscription: 'projects/sim/subscriptions/fanout', deliveryAttempt: attempt }).then(
      (code) => {
        deadline.cancelled = true;
        onAnswer(code, `answered ${code}`, true);
      },
      () => {
        deadline.cancelled = true;
        onAnswer(500, 'crashed');
      },
    );
  }
}
