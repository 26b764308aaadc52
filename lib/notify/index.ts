/**
 * Notifiers: the interface and its senders (`http`, `log`, `smtp`, `fcm`, `webpush`),
 * chosen per channel by `lib/notify/router.ts`.
 */

export type { ConfirmationNotice, Confirmer, Notification, NotificationResult, Notifier } from './types.ts';
export { HttpNotifier, NotifierUnavailableError, NotifierRejectedError, NotifierRedirectError, MAX_RESPONSE_BYTES, parseRetryAfter } from './http.ts';
export { LogNotifier } from './log.ts';
export { FcmNotifier, classifyFcmAnswer, fcmConfirmationMessage, fcmMessage, type FcmVerdict } from './fcm.ts';
export { WebPushNotifier, classifyWebPushAnswer, webPushConfirmationPayload, webPushPayload, type WebPushConfirmationPayload, type WebPushVerdict, type WebPushPayload } from './webpush.ts';
export { CONFIRMATION_HEADER, SmtpNotifier, classifySmtpError, smtpTransportOf, type SmtpVerdict } from './smtp.ts';
export { messageLink, renderConfirmationEmail, renderConfirmationPush, renderEmail, renderPush, safeLink, templateLanguage, TEMPLATE_LANGUAGES, type RenderedEmail, type RenderedPush } from './templates.ts';
export { CONFIRMERS, ChannelRouter, checkChannelSettings, checkConfirmationSettings, createConfirmers, createNotifier } from './router.ts';
