/**
 * The notifications the built-in templates are pinned on: every language
 * (and a locale that falls back), with and without a name, a product link,
 * a tracked link, one unit and several, and a name that tries to inject HTML
 * and headers.
 */
import type { Notification } from '../../../lib/notify/index.ts';

export const UNSUBSCRIBE_LINK = 'https://unsub.example/v1/unsubscribe/u2.abc';

function notification(locale: string | undefined, data: Partial<Notification['data']>): Notification {
  return {
    idempotencyKey: 'k'.repeat(64),
    channel: 'email',
    to: 'ann@example.com',
    userId: 'ann',
    subscriptionCreatedAtMs: 1,
    ...(locale === undefined ? {} : { locale }),
    template: 'restock',
    data: { eventKey: 'e1', productId: 'lamp-1', productName: 'Desk lamp', productUrl: 'https://shop.example/p/lamp-1', available: 3, ...data },
  };
}

/** Each case by a name the pinned output is stored under. */
export const BUILTIN_CASES: Record<string, Notification> = Object.fromEntries(
  [undefined, 'en-GB', 'ja-JP', 'fr'].flatMap((locale) => {
    const l = locale ?? 'none';
    return [
      [`${l}/plain`, notification(locale, {})],
      [`${l}/one-unit`, notification(locale, { available: 1 })],
      [`${l}/no-name`, notification(locale, { productName: undefined })],
      [`${l}/blank-name`, notification(locale, { productName: ' \r\n ' })],
      [`${l}/no-link`, notification(locale, { productUrl: undefined })],
      [`${l}/unsafe-link`, notification(locale, { productUrl: 'javascript:alert(1)' })],
      [`${l}/tracked`, notification(locale, { clickUrl: 'https://click.example/v1/c/c1.tok?x=1&y=2' })],
      [`${l}/hostile-name`, notification(locale, { productName: '<script>"x" & \'y\'</script>\r\nBcc: victim@example.com', available: 12 })],
      [`${l}/japanese-name`, notification(locale, { productName: '卓上ランプ', available: 0 })],
    ] as const;
  }),
);
