/**
 * `restock templates preview`: one message rendered as the delivery function
 * would render it, from the product as recorded (or a sample), the built-in
 * templates or a shop's directory; a template the function would refuse is
 * refused here naming its file and line; usage errors exit 2 naming the flag.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { run } from './fakes.ts';
import { templatesDir } from '../../helpers/templates-dir.ts';

const lamp = { readProductForMessage: async () => ({ name: 'Desk lamp', url: 'https://shop.example/p/lamp-1', available: 2 }) };

describe('restock templates preview', () => {
  test('renders every part of the email from the recorded product, naming where each part came from', async () => {
    // Prepare
    const dir = templatesDir({ 'email/de/subject.liquid': 'Wieder da: {{ product.name }}', 'email/de/text.liquid': '{{ product.name }}: {{ units }} Stück\n', 'email/de/html.liquid': '<p>{{ product.name }}</p>' });
    // Act
    const r = await run(['templates', 'preview', '--channel', 'email', '--locale', 'de-AT', '--product', 'lamp-1', '--dir', dir], { ops: lamp });
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'email message in de for lamp-1',
        `--- subject (${join(dir, 'email/de/subject.liquid')}) ---`,
        'Wieder da: Desk lamp',
        `--- text (${join(dir, 'email/de/text.liquid')}) ---`,
        'Desk lamp: 2 Stück',
        `--- html (${join(dir, 'email/de/html.liquid')}) ---`,
        '<p>Desk lamp</p>',
        '',
      ].join('\n'),
    );
  });

  test('a product the pipeline never saw is shown as a sample, with the built-in templates when no directory is given', async () => {
    const r = await run(['templates', 'preview', '--channel', 'push', '--locale', 'ja', '--product', 'sku-9', '--json'], { ops: { readProductForMessage: async () => undefined } });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ channel: 'push', language: 'ja', product: { id: 'sku-9', sample: true }, parts: { title: '再入荷のお知らせ', body: 'Sample productが再入荷しました（在庫3点）。' }, origins: { title: 'built-in', body: 'built-in' } });
    expect(r.stderr).toContain('sku-9: not recorded by the pipeline; showing a sample product');
  });

  test('RESTOCK_TEMPLATES_DIR is the directory when --dir is not given', async () => {
    const dir = templatesDir({ 'push/en/title.liquid': 'Hey {{ product.name }}' });
    const r = await run(['templates', 'preview', '--channel', 'push', '--locale', 'en', '--product', 'lamp-1'], { ops: lamp, env: { RESTOCK_TEMPLATES_DIR: dir } });
    expect(r.stdout).toContain('Hey Desk lamp');
  });

  test('a template the delivery function would refuse is refused, naming its file and line, before connecting', async () => {
    const dir = templatesDir({ 'email/en/subject.liquid': 'ok\n{{ product.colour }}' });
    const r = await run(['templates', 'preview', '--channel', 'email', '--locale', 'en', '--product', 'lamp-1', '--dir', dir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${join(dir, 'email/en/subject.liquid')} line 2: unknown variable "product.colour"`);
  });

  test.each([
    [['--locale', 'en', '--product', 'p'], '--channel'],
    [['--channel', 'sms', '--locale', 'en', '--product', 'p'], '--channel'],
    [['--channel', 'email', '--product', 'p'], '--locale'],
    [['--channel', 'email', '--locale', 'en'], '--product'],
  ])('usage error %j exits 2 naming %s', async (args, flag) => {
    const r = await run(['templates', 'preview', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
  });
});
