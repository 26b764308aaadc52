/**
 * Notifiers: the interface and its senders (`http`, `log`, `smtp`, `fcm`, `webpush`),
 * chosen per channel by `lib/notify/router.ts`.
 */

export type { Notification, NotificationResult, Notifier } from './types.ts';
export { HttpNotifier, NotifierUnavailableError, NotifierRejectedError, NotifierRedirectError, MAX_RESPONSE_BYTES, parseRetryAfter } from './http.ts';
export { LogNotifier } from './log.ts';
export { FcmNotifier, classifyFcmAnswer, fcmMessage, type FcmVerdict } from './fcm.ts';
export { WebPushNotifier, classifyWebPushAnswer, webPushPayload, type WebPushVerdict, type WebPushPayload } from './webpush.ts';
export { SmtpNotifier, classifySmtpError, smtpTransportOf, type SmtpVerdict } from './smtp.ts';
export { messageLink, renderEmail, renderPush, safeLink, templateLanguage, TEMPLATE_LANGUAGES, type RenderedEmail, type RenderedPush } from './templates.ts';
export { ChannelRouter, checkChannelSettings, createNotifier } from './router.ts';
