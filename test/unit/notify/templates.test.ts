import { describe, expect, test } from 'vitest';
import { renderEmail, renderPush, templateLanguage, type Notification } from '../../../lib/notify/index.ts';

function notification(overrides: Partial<Notification> = {}, data: Partial<Notification['data']> = {}): Notification {
  return {
    idempotencyKey: 'a'.repeat(64),
    channel: 'email',
    to: 'ann@example.com',
    userId: 'ann',
    template: 'restock',
    ...overrides,
    data: { eventKey: 'e1', productId: 'lamp-1', productName: 'Desk lamp', productUrl: 'https://shop.example/p/lamp-1', available: 3, ...data },
  };
}
const LINK = 'https://unsub.example/v1/unsubscribe/u1.x.y';

describe('template language', () => {
  test.each([
    [undefined, 'en'],
    ['', 'en'],
    ['en-US', 'en'],
    ['ja', 'ja'],
    ['ja-JP', 'ja'],
    ['JA_jp', 'ja'],
    ['fr-FR', 'en'],
    ['jav', 'en'],
  ])('locale %j renders in %s', (locale, language) => {
    expect(templateLanguage(locale)).toBe(language);
  });
});

describe('the restock email', () => {
  test('in English: subject, units, link and unsubscribe link in text and HTML', () => {
    const email = renderEmail(notification({ locale: 'en-GB' }), LINK);
    expect(email.language).toBe('en');
    expect(email.subject).toBe('Back in stock: Desk lamp');
    expect(email.text).toContain('Desk lamp is back in stock.');
    expect(email.text).toContain('3 units are available.');
    expect(email.text).toContain('See the product: https://shop.example/p/lamp-1');
    expect(email.text).toContain(LINK);
    expect(email.html).toContain('<a href="https://shop.example/p/lamp-1">See the product</a>');
    expect(email.html).toContain(`<a href="${LINK}">Stop this notification</a>`);
    expect(email.html).toContain('<html lang="en">');
  });

  test('in Japanese for a ja locale', () => {
    const email = renderEmail(notification({ locale: 'ja-JP' }, { productName: '卓上ランプ', available: 1 }), LINK);
    expect(email.subject).toBe('再入荷のお知らせ: 卓上ランプ');
    expect(email.text).toContain('卓上ランプが再入荷しました。');
    expect(email.text).toContain('在庫数: 1点');
    expect(email.html).toContain('<html lang="ja">');
    expect(email.html).toContain('商品を見る');
  });

  test('one unit is singular in English', () => {
    expect(renderEmail(notification({}, { available: 1 }), LINK).text).toContain('1 unit is available.');
  });

  test('a product without a name is named by its id', () => {
    const { productName: _omit, ...data } = notification().data;
    expect(renderEmail({ ...notification(), data }, LINK).subject).toBe('Back in stock: Product lamp-1');
  });

  test('a hostile product name is escaped in HTML and cannot break the subject line', () => {
    const email = renderEmail(notification({}, { productName: '<script>x</script>\r\nBcc: victim@example.com' }), LINK);
    expect(email.html).not.toContain('<script>');
    expect(email.html).toContain('&lt;script&gt;');
    expect(email.subject).not.toMatch(/[\r\n]/);
  });

  test('a product URL that is not http(s) is not linked', () => {
    const email = renderEmail(notification({}, { productUrl: 'javascript:alert(1)' }), LINK);
    expect(email.html).not.toContain('javascript:');
    expect(email.text).not.toContain('javascript:');
  });
});

describe('the restock push', () => {
  test('title, body with the units, and the product link, per language', () => {
    expect(renderPush(notification({ channel: 'push' }))).toEqual({ language: 'en', title: 'Back in stock', body: 'Desk lamp is back: 3 units available.', link: 'https://shop.example/p/lamp-1' });
    expect(renderPush(notification({ channel: 'push', locale: 'ja' }, { productName: '卓上ランプ' }))).toEqual({
      language: 'ja',
      title: '再入荷のお知らせ',
      body: '卓上ランプが再入荷しました（在庫3点）。',
      link: 'https://shop.example/p/lamp-1',
    });
  });
});

describe('tracked links', () => {
  test("with a tracked link, the email and the push notification link it and never the product URL", () => {
    const tracked = 'http://127.0.0.1:8085/v1/c/k1.abc';
    const n = notification({}, { productUrl: 'https://shop.example/p/lamp', clickUrl: tracked });
    const email = renderEmail(n, LINK);
    expect(email.text).toContain(tracked);
    expect(email.html).toContain(`href="${tracked}"`);
    expect(email.text + email.html).not.toContain('shop.example');
    expect(renderPush(n).link).toBe(tracked);
  });
});
