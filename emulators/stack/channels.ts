/**
 * The stack's direct-channel servers: the local mail server (`smtp`,
 * emulators/smtp), the FCM v1 stand-in (`fcm`, emulators/fcm) and the web
 * push service stand-in (`webpush`, emulators/webpush), and the settings that
 * point the functions' `smtp`, `fcm` and `webpush` senders at them.
 *
 * The functions get those settings always, but keep sending through the sink
 * (`RESTOCK_NOTIFIER=http`) unless RESTOCK_EMAIL_SENDER=smtp or
 * RESTOCK_PUSH_SENDER=fcm is given (`npm start -- --channels email,push`, or a
 * test's `env`).
 */
import { join } from 'node:path';
import { CHANNEL_SPECS, CHANNELS, senderEnv } from '../../lib/channels.ts';
import type { ProcessSpec } from './managed-process.ts';
import { httpStatus } from './ports.ts';
import { REPO_ROOT } from './state-file.ts';

type Spec = Omit<ProcessSpec, 'name' | 'logFile' | 'cwd'>;

/**
 * A local-only key for unsubscribe links: the stack signs and verifies with
 * it. Production reads its own from Secret Manager (terraform/channels.tf).
 */
export const LOCAL_UNSUBSCRIBE_SECRET = 'local-stack-only-unsubscribe-key-0123456789';

/**
 * A local-only VAPID key pair (RFC 8292) the stack signs web pushes with;
 * production's private key comes from Secret Manager (terraform/channels.tf).
 */
export const LOCAL_VAPID_KEYS = {
  publicKey: 'BDHzfHbFzAFcPEtEgIPKNwtmfs6tgDHWEyEFpMNmT8gKVXKTALOw2yHt10cdNSOlAwemaHAWg2VxduX62fL2Jig',
  privateKey: 'iNZDU8CmwCwvARcmfigexKM3PdbJut0gTNZoEmksl3c',
} as const;

/** The From address of emails sent on the local stack. */
export const LOCAL_EMAIL_FROM = 'Restock (local) <restock@shop.localhost>';

/** Channel senders selected by `--channels email,push`: each named channel's direct sender (the first of its table entry). */
export function directChannelEnv(channels: readonly string[]): Record<string, string> {
  return Object.fromEntries(CHANNELS.filter((c) => channels.includes(c)).map((c) => [senderEnv(c), CHANNEL_SPECS[c].senders[0]]));
}

interface ChannelPorts {
  host: string;
  smtp: number;
  smtpView: number;
  fcm: number;
  webpush: number;
}

const ready = (url: string) => async (): Promise<boolean> => (await httpStatus(url)) === 200;

/** How to run the mail server and the FCM and web push stand-ins: one process per channel's `standIn` (lib/channels.ts). */
export function channelSpecs(p: ChannelPorts, env: NodeJS.ProcessEnv, tsx: readonly string[], readyTimeoutMs: number): { smtp: Spec; fcm: Spec; webpush: Spec } {
  return {
    smtp: {
      command: process.execPath,
      args: [...tsx, join(REPO_ROOT, 'emulators/smtp/main.ts'), `--host=${p.host}`, `--port=${p.smtp}`, `--http-port=${p.smtpView}`],
      env: { ...env, K_SERVICE: 'smtp' },
      ready: ready(`http://${p.host}:${p.smtpView}/healthz`),
      readyTimeoutMs,
    },
    fcm: {
      command: process.execPath,
      args: [...tsx, join(REPO_ROOT, 'emulators/fcm/main.ts'), `--host=${p.host}`, `--port=${p.fcm}`],
      env: { ...env, K_SERVICE: 'fcm' },
      ready: ready(`http://${p.host}:${p.fcm}/healthz`),
      readyTimeoutMs,
    },
    webpush: {
      command: process.execPath,
      args: [...tsx, join(REPO_ROOT, 'emulators/webpush/main.ts'), `--host=${p.host}`, `--port=${p.webpush}`],
      env: { ...env, K_SERVICE: 'webpush' },
      ready: ready(`http://${p.host}:${p.webpush}/healthz`),
      readyTimeoutMs,
    },
  };
}

/** Settings that point the `smtp`, `fcm` and `webpush` senders, and the unsubscribe links, at the stack (web push endpoints are the stand-in's own). */
export function channelFunctionEnv(p: ChannelPorts, projectId: string, unsubscribeUrl: string): Record<string, string> {
  return {
    RESTOCK_SMTP_HOST: p.host,
    RESTOCK_SMTP_PORT: String(p.smtp),
    RESTOCK_SMTP_SECURE: 'false',
    // The local server offers no TLS; production never turns this off.
    RESTOCK_SMTP_REQUIRE_TLS: 'false',
    RESTOCK_EMAIL_FROM: LOCAL_EMAIL_FROM,
    RESTOCK_UNSUBSCRIBE_URL: unsubscribeUrl,
    RESTOCK_UNSUBSCRIBE_SECRET: LOCAL_UNSUBSCRIBE_SECRET,
    RESTOCK_FCM_ENDPOINT: `http://${p.host}:${p.fcm}`,
    RESTOCK_FCM_PROJECT_ID: projectId,
    RESTOCK_FCM_CREDENTIALS: 'none',
    RESTOCK_WEBPUSH_VAPID_PUBLIC_KEY: LOCAL_VAPID_KEYS.publicKey,
    RESTOCK_WEBPUSH_VAPID_PRIVATE_KEY: LOCAL_VAPID_KEYS.privateKey,
    RESTOCK_WEBPUSH_SUBJECT: 'mailto:restock@shop.localhost',
  };
}
