/**
 * Signed task bodies (issue 31, item 1): every task the pipeline creates
 * (delivery chunks, fan-out continuations and waves) carries an HMAC-SHA256
 * of its body in {@link TASK_SIGNATURE_HEADER}, under the first key of
 * RESTOCK_TASK_SIGNING_KEYS; delivery and fan-out accept a task body only
 * when one of the keys verifies it.
 *
 * Why, next to the OIDC token: behind Cloud Run's IAM check the function sees
 * the caller's token without its signature and must take its claims on trust.
 * That trust holds only while the IAM check runs in front; an `allUsers`
 * invoker added by hand, `--no-invoker-iam-check` or a public copy of the
 * service would let anyone forge such a token. The body's signature is made
 * with a key only the pipeline holds, so a forged token alone delivers nothing.
 *
 * The MAC covers a context (a version and the task's audience, the URL of the
 * function it is for) and the exact body bytes, so a delivery body cannot be
 * replayed as a continuation or the other way round. Keys are tried in turn
 * (the first signs, all verify): a key is rotated by putting the new one
 * first and dropping the old one once the queues hold no task signed with it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config.ts';

/** The header that carries a task body's signature: `v1=<base64url HMAC-SHA256>`. */
export const TASK_SIGNATURE_HEADER = 'X-Restock-Signature';

const VERSION = 'v1';
const CONTEXT = 'restock-fanout:task:v1\n';

/** A task body without a valid signature under any configured key: 401, nothing read or written. */
export class TaskSignatureError extends Error {
  override readonly name = 'TaskSignatureError';
  readonly field = TASK_SIGNATURE_HEADER;
  constructor(problem: string) {
    super(`${TASK_SIGNATURE_HEADER} ${problem}`);
  }
}

function mac(key: string, audience: string, body: Uint8Array): string {
  return createHmac('sha256', key).update(`${CONTEXT}${audience}\n`).update(body).digest('base64url');
}

/**
 * The signature header of a task for `audience` with `body`, or none without
 * keys. An unsigned task fails closed: the functions refuse to start without
 * keys outside the emulators, and then refuse such a body; the CLI asks for
 * the setting before it creates tasks (lib/cli `missingTaskSettings`).
 */
export function taskSignatureHeaders(config: Pick<Config, 'taskSigningKeys'>, audience: string, body: Uint8Array): Record<string, string> {
  const key = config.taskSigningKeys?.[0];
  return key ? { [TASK_SIGNATURE_HEADER]: `${VERSION}=${mac(key, audience, body)}` } : {};
}

/**
 * Requires that `header` signs `body` for `audience` under one of the keys.
 * Without keys (the emulators only: outside them the function refuses to
 * start) every body passes.
 * @throws TaskSignatureError when the header is missing, malformed or verifies under no key.
 */
export function verifyTaskSignature(keys: readonly string[] | undefined, audience: string, header: string | undefined, body: Uint8Array | undefined): void {
  if (!keys || keys.length === 0) return;
  if (header === undefined) throw new TaskSignatureError('is missing: only the pipeline creates tasks');
  const match = /^v1=([\w-]{43})$/.exec(header.trim());
  if (!match) throw new TaskSignatureError('is malformed');
  // Compared as text: base64url's last character has spare bits, and decoding would accept several spellings of one MAC.
  const given = Buffer.from(match[1]!, 'ascii');
  const bytes = body ?? new Uint8Array();
  if (!keys.some((key) => timingSafeEqual(Buffer.from(mac(key, audience, bytes), 'ascii'), given))) {
    throw new TaskSignatureError('does not verify under any key of RESTOCK_TASK_SIGNING_KEYS');
  }
}
