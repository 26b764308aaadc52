/**
 * Double opt-in's sending side: the confirmation email (`message.ts`), its
 * SMTP sender (`smtp.ts`) and the per-address limit (`limit.ts`). The rules
 * of consent and pending subscriptions are lib/subscriptions'; this folder
 * is what `restockSubscriptions` plugs into them.
 */
export { createConfirmationSender } from './build.ts';
