/** A product link reaches shoppers in a notification: only https is accepted. */
import { describe, expect, test } from 'vitest';
import { InvalidEventError, parseIncoming, type IncomingRequest } from '../../../lib/events/index.ts';

function push(url: string): IncomingRequest {
  const event = { type: 'inventory.updated', version: 1, productId: 'sku-1', available: 5, previousAvailable: 0, sequence: 7, product: { name: 'Shoe', url } };
  const body = { message: { messageId: 'm-1', data: Buffer.from(JSON.stringify(event)).toString('base64') }, subscription: 's' };
  return { headers: { 'content-type': 'application/json' }, body };
}

describe('product links', () => {
  for (const url of ['javascript:alert(document.cookie)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'http://shop.example/p/1', 'ftp://shop.example/p/1']) {
    test(`${url.split(':')[0]}: is refused naming data.product.url`, () => {
      // Act
      let error: unknown;
      try {
        parseIncoming(push(url));
      } catch (err) {
        error = err;
      }

      // Assess
      expect(error).toBeInstanceOf(InvalidEventError);
      expect(error).toMatchObject({ field: 'data.product.url', problem: 'must be an https: URL' });
    });
  }

  test('an https link is accepted', () => {
    expect(parseIncoming(push('https://shop.example/p/1'))).toMatchObject({ kind: 'event', event: { product: { url: 'https://shop.example/p/1' } } });
  });
});
