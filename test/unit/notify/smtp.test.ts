import { describe, expect, test } from 'vitest';
import { classifySmtpError, SmtpNotifier, type Notification } from '../../../lib/notify/index.ts';
import { openUnsubscribeToken } from '../../../lib/unsubscribe/index.ts';

const KEY = 'c'.repeat(64);
const KEYS = ['k'.repeat(40)];
function notification(overrides: Partial<Notification> = {}): Notification {
  return { idempotencyKey: KEY, channel: 'email', to: 'ann@example.com', userId: 'ann', subscriptionCreatedAtMs: 1_700_000_000_000, template: 'restock', data: { eventKey: 'e', productId: 'lamp', productName: 'Lamp', available: 4 }, ...overrides };
}

describe('classifying SMTP failures', () => {
  test.each([
    [{ responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 <ann@example.com>: user unknown' }, 'rejected', 'smtp 550 at RCPT TO: 550 5.1.1 <[email]>: user unknown'],
    [{ responseCode: 552, command: 'DATA', response: '552 message too big' }, 'rejected', 'smtp 552 at DATA: 552 message too big'],
    [{ responseCode: 451, command: 'RCPT TO', response: '451 try later' }, 'retry', 'smtp 451 at RCPT TO: 451 try later'],
    [{ responseCode: 421, command: 'DATA' }, 'retry', 'smtp 421 at DATA'],
    [{ responseCode: 535, command: 'AUTH PLAIN', response: '535 bad credentials' }, 'retry', 'smtp 535 at AUTH PLAIN: 535 bad credentials'],
    [{ responseCode: 550, command: 'MAIL FROM', response: '550 sender refused' }, 'retry', 'smtp 550 at MAIL FROM: 550 sender refused'],
    [{ code: 'ECONNECTION', command: 'CONN' }, 'retry', 'smtp ECONNECTION at CONN'],
    [{ code: 'ETIMEDOUT' }, 'retry', 'smtp ETIMEDOUT'],
    [{ code: 'EENVELOPE', command: 'API' }, 'rejected', 'smtp: not a deliverable address'],
  ])('%j → %s', (err, outcome, reason) => {
    expect(classifySmtpError(Object.assign(new Error('x'), err))).toEqual({ outcome, reason });
  });
});

/** What the sender hands the transport. */
interface SentMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
}

function transport(fail?: (mail: SentMail) => unknown) {
  const sent: SentMail[] = [];
  return {
    sent,
    sendMail: async (mail: SentMail) => {
      const err = fail?.(mail);
      if (err) throw err;
      sent.push(mail);
      return { messageId: mail.messageId };
    },
  };
}

describe('the smtp sender', () => {
  test('sends one rendered message with RFC 8058 headers whose link verifies to this subscription, and the key as Message-ID', async () => {
    const t = transport();
    const sender = new SmtpNotifier({ transport: t as never, from: 'Shop <restock@mail.shop.example>', unsubscribeBaseUrl: 'https://unsub.example/', unsubscribeKeys: KEYS, nowMs: () => 1_800_000_000_000 });
    expect(await sender.send([notification({ locale: 'ja' })])).toEqual([{ idempotencyKey: KEY, status: 'sent' }]);
    const [mail] = t.sent;
    expect(mail!.to).toBe('ann@example.com');
    expect(mail!.subject).toBe('再入荷のお知らせ: Lamp');
    expect(mail!.messageId).toBe(`<${KEY}@mail.shop.example>`);
    expect(mail!.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const link = /^<https:\/\/unsub\.example\/v1\/unsubscribe\/([^>]+)>$/.exec(mail!.headers['List-Unsubscribe'] ?? '')![1]!;
    expect(openUnsubscribeToken(link, KEYS, { nowMs: 1_800_000_000_000, maxAgeMs: 86_400_000 })).toEqual({ productId: 'lamp', userId: 'ann', generation: 1_700_000_000_000, issuedAtMs: 1_800_000_000_000 });
    expect(mail!.text).toContain(`https://unsub.example/v1/unsubscribe/${link}`);
    expect(mail!.headers['X-Restock-Key']).toBe(KEY);
    expect(mail!.headers).toMatchObject({ 'Content-Language': 'ja', 'Auto-Submitted': 'auto-generated' });
  });

  test('a 5xx to RCPT TO is rejected, a lost connection is retry, per message', async () => {
    const t = transport((mail) =>
      mail.to === 'gone@example.com'
        ? Object.assign(new Error('Message failed'), { responseCode: 550, command: 'RCPT TO', response: '550 no such user' })
        : mail.to === 'flaky@example.com'
          ? Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'CONN' })
          : undefined,
    );
    const sender = new SmtpNotifier({ transport: t as never, from: 'restock@shop.example', unsubscribeBaseUrl: 'https://u.example', unsubscribeKeys: KEYS });
    const results = await sender.send([
      notification({ idempotencyKey: '1'.repeat(64), to: 'gone@example.com' }),
      notification({ idempotencyKey: '2'.repeat(64), to: 'flaky@example.com' }),
      notification({ idempotencyKey: '3'.repeat(64) }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'retry', 'sent']);
    expect(results[0]!.reason).toBe('smtp 550 at RCPT TO: 550 no such user');
  });
});
