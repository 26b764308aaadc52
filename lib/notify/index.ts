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
export {
  BUILTIN_TEMPLATE_LANGUAGES,
  builtinTemplates,
  loadTemplates,
  MessageTemplates,
  messageLink,
  renderEmail,
  renderPush,
  safeLink,
  TEMPLATE_PARTS,
  templateLanguage,
  TemplateError,
  templateVariables,
  type RenderedEmail,
  type RenderedParts,
  type RenderedPush,
  type TemplatePart,
  type TemplateVariables,
} from './templates.ts';
export { renderConfirmationEmail, renderConfirmationPush } from './confirmation-messages.ts';
export { CONFIRMERS, ChannelRouter, checkChannelSettings, checkConfirmationSettings, createConfirmers, createNotifier } from './router.ts';
