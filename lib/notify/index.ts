/**
 * Notifiers: the interface and its senders (`http`, `log`, `smtp`, `fcm`, `webpush`),
 * chosen per channel by `lib/notify/router.ts`.
 */

export type { ConfirmationNotice, Confirmer, Notification, NotificationResult, Notifier } from './types.ts';
export { HttpNotifier, NotifierUnavailableError, NotifierRejectedError, NotifierRedirectError, MAX_RESPONSE_BYTES, parseRetryAfter } from './http.ts';
export { LogNotifier } from './log.ts';
export { FcmNotifier, classifyFcmAnswer, fcmMessage, type FcmVerdict } from './fcm.ts';
export { WebPushNotifier, classifyWebPushAnswer, webPushPayload, type WebPushVerdict, type WebPushPayload } from './webpush.ts';
export { SmtpNotifier, classifySmtpError, smtpTransportOf, type SmtpVerdict } from './smtp.ts';
export {
  loadTemplates,
  messageLink,
  renderEmail,
  renderPush,
  safeLink,
  TEMPLATE_PARTS,
  templateLanguage,
  templateVariables,
  type RenderedEmail,
  type RenderedPush,
} from './templates.ts';
export { ChannelRouter, checkChannelSettings, checkConfirmationSettings, createConfirmers, createNotifier } from './router.ts';
