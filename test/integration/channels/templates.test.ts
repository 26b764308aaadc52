/**
 * An edited template changes the message received (issue 36): a stack of its
 * own whose delivery function reads a templates directory overriding the
 * English email's subject and HTML; a restock through the real pipeline
 * reaches the local SMTP server with the shop's words, the product's name
 * escaped in the HTML, and the parts and languages the shop left alone as
 * built in.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';
import { COLLECTIONS } from '../../../lib/model.ts';
import { accessFor, inventoryEvent, pushDirect, startStack, uniqueProductId, waitFor, type Stack, type StackAccess } from '../../helpers/index.ts';
import { MailServer } from './servers.ts';
import { templatesDir } from '../../helpers/templates-dir.ts';

let stack: Stack;
let on: StackAccess;
let mail: MailServer;
let templates: string;

/** The shop's directory: two parts of the English email, nothing else. */
function shopTemplates(): string {
  return templatesDir({
    'email/en/subject.liquid': '{{ product.name }} is back at Lamp Shop{% if units != nil %} ({{ units }} left){% endif %}\n',
    'email/en/html.liquid': '<h1>{{ product.name }}</h1>\n<p><a href="{{ link }}">Buy it</a> · <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>\n',
  });
}

beforeAll(async () => {
  templates = shopTemplates();
  stack = await startStack({
    dir: join(REPO_ROOT, '.local', 'test-stacks', `templates-${process.pid}`),
    env: { RESTOCK_EMAIL_SENDER: 'smtp', RESTOCK_TEMPLATES_DIR: templates },
  });
  on = accessFor(stack.description);
  mail = MailServer.of(stack.description);
}, 180_000);

afterAll(async () => {
  await on?.close();
  await stack?.stop();
  if (templates) rmSync(templates, { recursive: true, force: true });
});

async function subscribe(productId: string, userId: string, email: string, locale: string): Promise<void> {
  const nowMs = Date.now();
  await on.firestore
    .collection(COLLECTIONS.products)
    .doc(productId)
    .collection(COLLECTIONS.subscriptions)
    .doc(userId)
    .set({ userId, productId, channels: { email }, locale, createdAtMs: nowMs, updatedAtMs: nowMs });
}

describe('an edited template changes the message received', () => {
  test('the English email arrives with the shop\'s subject and HTML, its text built in; a Japanese one is untouched', async () => {
    // Prepare
    const productId = uniqueProductId('tpl');
    const [en, ja] = [`en-${productId}@example.com`, `ja-${productId}@example.com`];
    await subscribe(productId, `${productId}-en`, en, 'en-GB');
    await subscribe(productId, `${productId}-ja`, ja, 'ja-JP');

    // Act
    const event = inventoryEvent({ productId, available: 4, product: { name: 'Desk <lamp> & "shade"', url: `https://shop.example/p/${productId}` } });
    expect((await pushDirect(stack.description.functions.fanOutRestock, { data: event, messageId: `m-${productId}` })).status).toBe(200);
    const [english, japanese] = await waitFor(
      async () => {
        const got = [(await mail.messagesTo(en))[0], (await mail.messagesTo(ja))[0]];
        return got.every(Boolean) ? got : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 300, what: 'both emails at the SMTP server' },
    );

    // Assess: the shop's words, the product's name escaped in HTML, built-in text and Japanese.
    expect(english!.subject).toBe('Desk <lamp> & "shade" is back at Lamp Shop (4 left)');
    expect(english!.html).toContain('<h1>Desk &lt;lamp&gt; &amp; &quot;shade&quot;</h1>');
    expect(english!.html).toContain(`<a href="${english!.headers['list-unsubscribe']!.slice(1, -1)}">Unsubscribe</a>`);
    expect(english!.text).toContain('Desk <lamp> & "shade" is back in stock.\n4 units are available.');
    expect(japanese!.subject).toBe('再入荷のお知らせ: Desk <lamp> & "shade"');
  }, 120_000);
});
