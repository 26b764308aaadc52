/**
 * Double opt-in's sending side: the confirmation sender (`send.ts`), which
 * hands each message to the sender of its channel's notifications
 * (lib/notify), and the per-address limit (`limit.ts`). The rules of consent
 * and pending subscriptions are lib/subscriptions'; this folder is what
 * `restockSubscriptions` plugs into them.
 */
export { checkConfirmationSetup, createConfirmationSender } from './build.ts';
