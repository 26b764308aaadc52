/**
 * A local stand-in for a browser's push service (RFC 8030): it hands out
 * real P-256 subscriptions, takes pushes on their endpoints as a push service
 * does, and decrypts each payload with the subscription's private key
 * (RFC 8291, `aes128gcm`), so a test proves the encryption, not only that
 * bytes arrived. The `webpush` sender runs unchanged against it.
 *
 * What a push is checked for, as push services do: the VAPID `Authorization:
 * vapid t=<JWT>, k=<public key>` (RFC 8292: ES256 signed by `k`, `aud` the
 * endpoint's origin, `exp` in the future and within 24 hours, a `sub`),
 * else 401; a `TTL` header, else 400; `Content-Encoding: aes128gcm`, else 415;
 * at most 4,096 bytes of body, else 413; a body that decrypts, else 400.
 * Then it answers 201 Created with a `Location`, as RFC 8030 §5 says.
 *
 * - `POST /subscriptions` `{ gone?, count? }`: `{ subscriptions: [{ endpoint, keys }] }`,
 *   `count` new ones (default 1, at most 10,000); with `gone`, their endpoint (under `/push/gone/`) answers 410 Gone, as an
 *   expired or revoked subscription does. `POST /subscriptions/{id}/gone` marks one later.
 * - `POST /push/{id}`: the endpoints.
 * - `GET /messages[?restockKey=]` every push, oldest first, with its decrypted payload and the answer given.
 * - `GET /keys` the same without payloads (`restockKey`, `status`, `receivedAtMs`): cheap to poll.
 * - `DELETE /messages` forget them.
 * - `GET|POST|DELETE /faults`: `{ subscription, status: 429|500|503, times?, retryAfterSeconds? }`.
 * - `GET /healthz`.
 *
 * Logs name subscription ids and answers, never an endpoint or a key.
 */
import { createCipheriv, createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { log } from '../../lib/log.ts';
import { json, readBody } from '../http.ts';

/** RFC 8030 §7.2 lets a push service refuse larger bodies; every service accepts 4,096 bytes. */
export const MAX_PUSH_BYTES = 4096;
/** RFC 8292 §2: `exp` no further than 24 hours ahead. */
const MAX_JWT_LIFETIME_S = 24 * 60 * 60;
/** Clock skew the stand-in forgives on `exp`. */
const SKEW_S = 60;

export const webPushFaultSchema = z.strictObject({
  subscription: z.string().min(1),
  status: z.union([z.literal(429), z.literal(500), z.literal(503)]),
  times: z.number().int().positive().optional(),
  retryAfterSeconds: z.number().int().nonnegative().optional(),
});
export type WebPushFault = z.infer<typeof webPushFaultSchema>;

/** One push as the stand-in received it. */
export interface ReceivedWebPush {
  id: number;
  receivedAtMs: number;
  subscription: string;
  /** The status answered; 201 means accepted for delivery. */
  status: number;
  /** Why it was refused, when it was. */
  error?: string;
  ttl?: number;
  urgency?: string;
  topic?: string;
  /** The VAPID JWT's `sub`. */
  vapidSubject?: string;
  /** The decrypted payload (UTF-8), when it decrypted. */
  payload?: string;
  /** `restockKey` of the decrypted JSON payload: the notification's dedup key. */
  restockKey?: string;
}

/** A subscription as the stand-in holds it: the browser's side, private key included. */
interface HeldSubscription {
  id: string;
  ecdh: ReturnType<typeof createECDH>;
  publicKey: Buffer;
  auth: Buffer;
  gone: boolean;
}

export interface WebPushEmulatorOptions {
  host?: string;
  port?: number;
}

export interface WebPushEmulator {
  url: string;
  messages: ReceivedWebPush[];
  /** A new subscription, as a browser's `PushSubscription.toJSON()` (without `expirationTime`). */
  subscribe(options?: { gone?: boolean }): { endpoint: string; keys: { p256dh: string; auth: string } };
  stop(): Promise<void>;
}

/** A push service's refusal of the request itself: the status and the problem. */
class PushRefused extends Error {
  override readonly name = 'PushRefused';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks a VAPID `Authorization` header (RFC 8292 §3) for a push to
 * `audience` (the endpoint's origin) at `nowS`. Pure but for the clock given.
 * @returns the JWT's `sub`.
 * @throws PushRefused (401) naming what is wrong.
 */
export function verifyVapid(authorization: string | undefined, audience: string, nowS: number): string {
  const refuse = (why: string): never => {
    throw new PushRefused(401, `VAPID: ${why}`);
  };
  const match = /^vapid\s+(.+)$/i.exec(authorization ?? '') ?? refuse('no `Authorization: vapid t=…, k=…` header');
  const params = Object.fromEntries(
    match[1]!.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim().toLowerCase(), p.slice(i + 1).trim()];
    }),
  );
  const token = params.t ?? refuse('no `t` (the JWT)');
  const key = Buffer.from(params.k ?? refuse('no `k` (the public key)'), 'base64url');
  if (key.length !== 65 || key[0] !== 0x04) refuse('`k` is not an uncompressed P-256 public key');
  const parts = token.split('.');
  if (parts.length !== 3) refuse('`t` is not a JWS compact serialisation');
  const [h, p, s] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: { aud?: string; exp?: number; sub?: string };
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  } catch {
    return refuse('`t` is not JSON');
  }
  if (header.alg !== 'ES256') refuse(`alg must be ES256, not ${String(header.alg)}`);
  const jwk = { kty: 'EC', crv: 'P-256', x: key.subarray(1, 33).toString('base64url'), y: key.subarray(33, 65).toString('base64url') };
  const signed = verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!signed) refuse('the signature does not verify under `k`');
  if (claims.aud !== audience) refuse(`aud must be the endpoint's origin ${audience}`);
  if (typeof claims.exp !== 'number') refuse('no exp');
  if (claims.exp! <= nowS - SKEW_S) refuse('expired');
  if (claims.exp! > nowS + MAX_JWT_LIFETIME_S + SKEW_S) refuse('exp is more than 24 hours ahead');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) refuse('sub must be a mailto: or https: URI');
  return claims.sub!;
}

/**
 * Decrypts an `aes128gcm` push body (RFC 8188 framing, RFC 8291 keys) for the
 * subscription whose ECDH key pair and auth secret are given.
 * @throws PushRefused (400) when it does not decrypt.
 */
export function decryptAes128gcm(body: Buffer, subscription: { ecdh: ReturnType<typeof createECDH>; publicKey: Buffer; auth: Buffer }): Buffer {
  if (body.length < 21 + 65 + 17) throw new PushRefused(400, 'aes128gcm: body too short');
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20]!;
  const senderKey = body.subarray(21, 21 + idLength);
  const records = body.subarray(21 + idLength);
  if (idLength !== 65 || senderKey[0] !== 0x04) throw new PushRefused(400, 'aes128gcm: keyid is not the sender P-256 key');
  // RFC 8291 §4: one record, so at most rs bytes of ciphertext.
  if (records.length > recordSize) throw new PushRefused(400, 'aes128gcm: more than one record');
  let secret: Buffer;
  try {
    secret = subscription.ecdh.computeSecret(senderKey);
  } catch {
    throw new PushRefused(400, 'aes128gcm: keyid is not a point on P-256');
  }
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), subscription.publicKey, senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', secret, subscription.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(records.subarray(records.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(records.subarray(0, records.length - 16)), decipher.final()]);
  } catch {
    throw new PushRefused(400, 'aes128gcm: the record does not authenticate (wrong keys or corrupted)');
  }
  // The last record ends with the delimiter 0x02, then zero padding.
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (end < 0 || plain[end] !== 0x02) throw new PushRefused(400, 'aes128gcm: no last-record delimiter');
  return plain.subarray(0, end);
}

/** Encrypts like a sender (RFC 8291), for tests of {@link decryptAes128gcm} that need no library. */
export function encryptAes128gcmForTest(plain: Buffer, p256dh: Buffer, auth: Buffer): Buffer {
  const sender = createECDH('prime256v1');
  const senderKey = sender.generateKeys();
  const salt = randomBytes(16);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), p256dh, senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', sender.computeSecret(p256dh), auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  const sealed = Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.from([2])])), cipher.final(), cipher.getAuthTag()]);
  const header = Buffer.alloc(21);
  salt.copy(header);
  header.writeUInt32BE(4096, 16);
  header[20] = 65;
  return Buffer.concat([header, senderKey, sealed]);
}

const PUSH_PATH = /^\/push\/(?:gone\/)?([A-Za-z0-9_-]+)$/;
const GONE_PATH = /^\/subscriptions\/([A-Za-z0-9_-]+)\/gone$/;

/** Starts the stand-in. */
export async function startWebPushEmulator(options: WebPushEmulatorOptions = {}): Promise<WebPushEmulator> {
  const host = options.host ?? '127.0.0.1';
  const messages: ReceivedWebPush[] = [];
  const subscriptions = new Map<string, HeldSubscription>();
  let rules: (WebPushFault & { used: number })[] = [];
  let nextId = 1;
  let url = '';

  const subscribe = ({ gone = false }: { gone?: boolean } = {}) => {
    const ecdh = createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    // Real endpoints end in a long opaque token; so do these (the log scrubber masks such runs).
    const id = randomBytes(96).toString('base64url');
    const held = { id, ecdh, publicKey, auth: randomBytes(16), gone };
    subscriptions.set(id, held);
    return { endpoint: `${url}/push/${gone ? 'gone/' : ''}${id}`, keys: { p256dh: publicKey.toString('base64url'), auth: held.auth.toString('base64url') } };
  };

  const fault = (id: string): WebPushFault | undefined => {
    const rule = rules.find((r) => r.subscription === id && (r.times === undefined || r.used < r.times));
    if (rule) rule.used++;
    return rule;
  };

  const push = async (req: IncomingMessage, res: ServerResponse, id: string) => {
    const base = { id: nextId++, receivedAtMs: Date.now(), subscription: id };
    const refused = (status: number, error: string, headers: Record<string, string> = {}) => {
      messages.push({ ...base, status, error });
      log.info('web push refused', { status, error });
      json(res, status, { code: status, error }, headers);
    };
    const held = subscriptions.get(id);
    if (!held) return refused(404, 'no such subscription');
    if (held.gone) return refused(410, 'subscription expired or unsubscribed');
    const body = await readBody(req, MAX_PUSH_BYTES);
    if (!body) return refused(413, `payload larger than ${MAX_PUSH_BYTES} bytes`);
    try {
      const vapidSubject = verifyVapid(req.headers.authorization, url, Math.floor(Date.now() / 1000));
      const ttl = req.headers.ttl;
      if (ttl === undefined || !/^\d+$/.test(String(ttl))) throw new PushRefused(400, 'TTL header required (RFC 8030 §5.2)');
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new PushRefused(415, 'Content-Encoding must be aes128gcm (RFC 8291)');
      const rule = fault(id);
      if (rule) {
        const retryAfter: Record<string, string> = rule.retryAfterSeconds !== undefined ? { 'retry-after': String(rule.retryAfterSeconds) } : {};
        return refused(rule.status, 'fault injected', retryAfter);
      }
      const payload = decryptAes128gcm(body, held).toString('utf8');
      let restockKey: string | undefined;
      try {
        restockKey = (JSON.parse(payload) as { restockKey?: string }).restockKey;
      } catch {
        // A payload need not be JSON; only ours carries the key.
      }
      const urgency = req.headers.urgency;
      const topic = req.headers.topic;
      messages.push({
        ...base,
        status: 201,
        ttl: Number(ttl),
        ...(typeof urgency === 'string' ? { urgency } : {}),
        ...(typeof topic === 'string' ? { topic } : {}),
        vapidSubject,
        payload,
        ...(restockKey ? { restockKey } : {}),
      });
      log.info('web push received', { restockKey });
      res.writeHead(201, { location: `${url}/messages/${base.id}`, 'content-length': 0 });
      res.end();
    } catch (err) {
      if (err instanceof PushRefused) return refused(err.status, err.message);
      throw err;
    }
  };

  const server = createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://localhost');
      const target = PUSH_PATH.exec(path.pathname);
      if (target && req.method === 'POST') return push(req, res, target[1]!);
      if (path.pathname === '/healthz') return json(res, 200, { ok: true });
      if (path.pathname === '/subscriptions' && req.method === 'POST') {
        const text = (await readBody(req, 1024))?.toString('utf8') || '{}';
        const parsed = z.strictObject({ gone: z.boolean().optional(), count: z.number().int().min(1).max(10_000).optional() }).safeParse(JSON.parse(text));
        if (!parsed.success) return json(res, 400, { error: 'InvalidSubscriptionRequest', detail: parsed.error.issues[0]?.message, field: parsed.error.issues[0]?.path.join('.') });
        const { gone = false, count = 1 } = parsed.data;
        return json(res, 201, { subscriptions: Array.from({ length: count }, () => subscribe({ gone })) });
      }
      const gone = GONE_PATH.exec(path.pathname);
      if (gone && req.method === 'POST') {
        const held = subscriptions.get(gone[1]!);
        if (!held) return json(res, 404, { error: 'no such subscription' });
        held.gone = true;
        return json(res, 200, { ok: true });
      }
      if (path.pathname === '/messages' && req.method === 'GET') {
        const key = path.searchParams.get('restockKey');
        return json(res, 200, { messages: messages.filter((m) => !key || m.restockKey === key) });
      }
      if (path.pathname === '/keys' && req.method === 'GET') {
        return json(res, 200, { keys: messages.map(({ restockKey, status, receivedAtMs }) => ({ restockKey, status, receivedAtMs })) });
      }
      if (path.pathname === '/messages' && req.method === 'DELETE') {
        messages.length = 0;
        return json(res, 200, { ok: true });
      }
      if (path.pathname === '/faults' && req.method === 'GET') return json(res, 200, { faults: rules.map(({ used: _u, ...r }) => r) });
      if (path.pathname === '/faults' && req.method === 'DELETE') {
        rules = [];
        return json(res, 200, { ok: true });
      }
      if (path.pathname === '/faults' && req.method === 'POST') {
        const parsed = webPushFaultSchema.safeParse(JSON.parse((await readBody(req, 4096))?.toString('utf8') || '{}'));
        if (!parsed.success) return json(res, 400, { error: 'InvalidFault', detail: parsed.error.issues[0]?.message, field: parsed.error.issues[0]?.path.join('.') });
        rules.push({ ...parsed.data, used: 0 });
        return json(res, 201, { faults: rules.length });
      }
      return json(res, 404, { error: 'not found' });
    })().catch((err: unknown) => json(res, 400, { error: `unreadable request (${(err as Error).name})` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${host}:${port}`;
  return {
    url,
    messages,
    subscribe,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
