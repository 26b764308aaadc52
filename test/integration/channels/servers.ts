/** Clients for the stack's local mail server and FCM stand-in, as the channel tests use them. */
import type { ReceivedPush, PushFault } from '../../../emulators/fcm/server.ts';
import type { MailFault, ReceivedMail } from '../../../emulators/smtp/server.ts';
import type { StackDescription } from '../../helpers/index.ts';

async function call<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const post = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export class MailServer {
  constructor(private readonly url: string) {}
  static of(d: StackDescription): MailServer {
    return new MailServer(d.smtp.url);
  }
  /** Every message the server received for `to`, oldest first. */
  async messagesTo(to: string): Promise<ReceivedMail[]> {
    return (await call<{ messages: ReceivedMail[] }>(`${this.url}/messages?to=${encodeURIComponent(to)}`)).messages;
  }
  async all(): Promise<ReceivedMail[]> {
    return (await call<{ messages: ReceivedMail[] }>(`${this.url}/messages`)).messages;
  }
  async fault(rule: MailFault): Promise<void> {
    await call(`${this.url}/faults`, post(rule));
  }
}

export class PushServer {
  constructor(private readonly url: string) {}
  static of(d: StackDescription): PushServer {
    return new PushServer(d.fcm);
  }
  /** Every request the stand-in received for `token`, oldest first, with the status it answered. */
  async requestsFor(token: string): Promise<ReceivedPush[]> {
    return (await call<{ messages: ReceivedPush[] }>(`${this.url}/messages?token=${encodeURIComponent(token)}`)).messages;
  }
  async all(): Promise<ReceivedPush[]> {
    return (await call<{ messages: ReceivedPush[] }>(`${this.url}/messages`)).messages;
  }
  async fault(rule: PushFault): Promise<void> {
    await call(`${this.url}/faults`, post(rule));
  }
}

/** How many messages per key a mailbox would show (a repeated Message-ID shows once). */
export function delivered<T extends { restockKey?: string | undefined }>(items: readonly T[], counts: (t: T) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const i of items) if (counts(i) && i.restockKey) out.set(i.restockKey, (out.get(i.restockKey) ?? 0) + 1);
  return out;
}
