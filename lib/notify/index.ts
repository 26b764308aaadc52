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
export { ChannelRouter, checkChannelSettings, createNotifier } from './router.ts';
