/**
 * The local mail server: a real SMTP server (npm `smtp-server`) that parses
 * what it receives (npm `mailparser`) and keeps it, with an HTTP view of the
 * received messages and their headers, and faults on demand. The `smtp`
 * sender talks to it exactly as to a submission server in production.
 *
 * HTTP routes:
 * - `GET /messages[?to=&restockKey=]` every message received, oldest first: envelope,
 *   Message-ID, headers as received, subject, text, html, and `duplicate` when
 *   the same Message-ID had already reached that recipient.
 * - `GET /keys` the same without bodies and addresses (`restockKey`, `answer`, `duplicate`, `receivedAtMs`): cheap to poll.
 * - `DELETE /messages` forget them.
 * - `GET /faults`, `POST /faults` (one rule), `DELETE /faults`: rules by recipient address:
 *   `reject` (550 at RCPT TO), `tempfail` (451 at RCPT TO), `drop-after-data`
 *   (the message is taken and kept, then the connection is closed before the
 *   250: a lost answer). `times` limits a rule to its first N matches.
 * - `GET /healthz`.
 *
 * Logs name message keys and counts, never an address.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { z } from 'zod';
import { log } from '../../lib/log.ts';

/** One message as the server received it. */
export interface ReceivedMail {
  id: number;
  receivedAtMs: number;
  envelope: { from: string; to: string[] };
  messageId: string | undefined;
  /** `X-Restock-Key`: the dedup key of the notification. */
  restockKey: string | undefined;
  /** Header lines as received (names lower-cased, folded lines joined). */
  headers: Record<string, string>;
  subject: string | undefined;
  text: string | undefined;
  html: string | undefined;
  /** An earlier message with the same Message-ID had reached the same recipients (answered or not: a lost answer is still a delivery); a mailbox shows it once. */
  duplicate: boolean;
  /** What the server did after DATA: answered 250, or dropped the connection (fault). */
  answer: 'accepted' | 'dropped';
}

export const mailFaultSchema = z.strictObject({
  to: z.string().min(1),
  action: z.enum(['reject', 'tempfail', 'drop-after-data']),
  times: z.number().int().positive().optional(),
});
export type MailFault = z.infer<typeof mailFaultSchema>;

export interface SmtpEmulatorOptions {
  host?: string;
  /** SMTP port; 0 = any free port. */
  smtpPort?: number;
  /** HTTP view port; 0 = any free port. */
  httpPort?: number;
}

export interface SmtpEmulator {
  smtpPort: number;
  /** Base URL of the HTTP view. */
  url: string;
  messages: ReceivedMail[];
  stop(): Promise<void>;
}

class FaultRules {
  private rules: (MailFault & { used: number })[] = [];
  add(rule: MailFault): void {
    this.rules.push({ ...rule, used: 0 });
  }
  clear(): void {
    this.rules = [];
  }
  list(): MailFault[] {
    return this.rules.map(({ used: _used, ...r }) => r);
  }
  /** The first live rule for `to` with one of `actions`, counted as used. */
  take(to: string, actions: MailFault['action'][]): MailFault | undefined {
    const rule = this.rules.find((r) => r.to.toLowerCase() === to.toLowerCase() && actions.includes(r.action) && (r.times === undefined || r.used < r.times));
    if (rule) rule.used++;
    return rule;
  }
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Starts the SMTP server and its HTTP view. */
export async function startSmtpEmulator(options: SmtpEmulatorOptions = {}): Promise<SmtpEmulator> {
  const host = options.host ?? '127.0.0.1';
  const messages: ReceivedMail[] = [];
  const faults = new FaultRules();
  let nextId = 1;

  const smtp: SMTPServer = new SMTPServer({
    // Locally there is no certificate to offer; production submission uses STARTTLS or 465.
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    size: 10 * 1024 * 1024,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'local' });
    },
    onRcptTo(address, _session, callback) {
      const rule = faults.take(address.address, ['reject', 'tempfail']);
      if (rule?.action === 'reject') return callback(smtpError(550, '5.1.1 mailbox unavailable (fault)'));
      if (rule?.action === 'tempfail') return callback(smtpError(451, '4.3.0 try again later (fault)'));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const to = session.envelope.rcptTo.map((r) => r.address);
          const headers: Record<string, string> = {};
          for (const { key, line } of parsed.headerLines) headers[key] = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
          const messageId = parsed.messageId;
          const duplicate = messageId !== undefined && messages.some((m) => m.messageId === messageId && to.every((t) => m.envelope.to.includes(t)));
          const drop = to.some((t) => faults.take(t, ['drop-after-data']) !== undefined);
          const mail: ReceivedMail = {
            id: nextId++,
            receivedAtMs: Date.now(),
            envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to },
            messageId,
            restockKey: headers['x-restock-key'],
            headers,
            subject: parsed.subject,
            text: parsed.text,
            html: typeof parsed.html === 'string' ? parsed.html : undefined,
            duplicate,
            answer: drop ? 'dropped' : 'accepted',
          };
          messages.push(mail);
          log.info('mail received', { restockKey: mail.restockKey, recipients: to.length, duplicate, answer: mail.answer });
          if (!drop) return callback();
          // A lost answer: the message is in, the client never hears 250.
          for (const connection of smtp.connections) {
            if ((connection as unknown as { id: string }).id === session.id) (connection as unknown as { _socket: Socket })._socket.destroy();
          }
        })
        .catch((err: unknown) => {
          log.warn('mail could not be parsed', { err: (err as Error).name });
          callback(smtpError(554, '5.6.0 message could not be parsed'));
        });
    },
  });
  smtp.on('error', (err) => log.warn('smtp server error', { err: (err as Error).name, code: (err as { code?: unknown }).code }));
  await new Promise<void>((resolve, reject) => {
    smtp.server.once('error', reject);
    smtp.listen(options.smtpPort ?? 0, host, () => resolve());
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const view = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/healthz') return json(res, 200, { ok: true });
      if (url.pathname === '/messages' && req.method === 'GET') {
        const to = url.searchParams.get('to');
        const key = url.searchParams.get('restockKey');
        return json(res, 200, { messages: messages.filter((m) => (!to || m.envelope.to.includes(to)) && (!key || m.restockKey === key)) });
      }
      if (url.pathname === '/keys' && req.method === 'GET') {
        return json(res, 200, { keys: messages.map(({ restockKey, answer, duplicate, receivedAtMs }) => ({ restockKey, answer, duplicate, receivedAtMs })) });
      }
      if (url.pathname === '/messages' && req.method === 'DELETE') {
        messages.length = 0;
        return json(res, 200, { ok: true });
      }
      if (url.pathname === '/faults' && req.method === 'GET') return json(res, 200, { faults: faults.list() });
      if (url.pathname === '/faults' && req.method === 'DELETE') {
        faults.clear();
        return json(res, 200, { ok: true });
      }
      if (url.pathname === '/faults' && req.method === 'POST') {
        const parsed = mailFaultSchema.safeParse(JSON.parse((await readBody(req)) || '{}'));
        if (!parsed.success) return json(res, 400, { error: 'InvalidFault', detail: parsed.error.issues[0]?.message, field: parsed.error.issues[0]?.path.join('.') });
        faults.add(parsed.data);
        return json(res, 201, { faults: faults.list() });
      }
      return json(res, 404, { error: 'NotFound' });
    })().catch((err: unknown) => json(res, 400, { error: (err as Error).name }));
  });
  await new Promise<void>((resolve, reject) => {
    view.once('error', reject);
    view.listen(options.httpPort ?? 0, host, () => resolve());
  });
  const httpPort = (view.address() as AddressInfo).port;

  return {
    smtpPort,
    url: `http://${host}:${httpPort}`,
    messages,
    stop: async () => {
      view.closeAllConnections();
      await Promise.all([new Promise<void>((r) => view.close(() => r())), new Promise<void>((r) => smtp.close(() => r()))]);
    },
  };
}
