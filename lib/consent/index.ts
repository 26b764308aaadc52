/**
 * Double opt-in's sending side: the confirmation email (`message.ts`), its
 * SMTP sender (`smtp.ts`) and the per-address limit (`limit.ts`). The rules
 * of consent and pending subscriptions are lib/subscriptions'; this folder
 * is what `restockSubscriptions` plugs into them.
 */
export { FirestoreAddressLimiter, LIMIT_WINDOW_MS, addressDigest, slotIds, type AddressLimiter, type SlotVerdict } from './limit.ts';
export { renderConfirmation, type RenderedConfirmation } from './message.ts';
export { CONFIRMATION_HEADER, SmtpConfirmationSender, type SmtpConfirmationOptions } from './smtp.ts';
export { createConfirmationSender } from './build.ts';
