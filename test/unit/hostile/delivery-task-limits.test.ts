/**
 * Issue 31, item 9: delivery trusts only what fan-out could have sent. A task
 * body's product link and name meet the inventory event's own limits (https:
 * only, at most 2,000 and 500 characters), and the message templates never
 * link anything but https:.
 */
import { describe, expect, test } from 'vitest';
import { InvalidDeliveryTaskError, parseDeliveryTask } from '../../../lib/tasks/index.ts';
import { safeLink } from '../../../lib/notify/templates.ts';

const task = (product: Record<string, unknown>) => ({ version: 1, eventKey: 'e1', productId: 'p1', generation: 0, product: { available: 3, ...product }, userIds: ['u1'] });

function refusedField(body: unknown): string | undefined {
  try {
    parseDeliveryTask(body);
    return undefined;
  } catch (err) {
    if (err instanceof InvalidDeliveryTaskError) return err.field;
    throw err;
  }
}

describe('a delivery task body', () => {
  test.each([
    ['an http: link', { url: 'http://shop.example/p' }, 'product.url'],
    ['a javascript: link', { url: 'javascript:alert(1)' }, 'product.url'],
    ['a link over 2,000 characters', { url: `https://shop.example/${'p'.repeat(2000)}` }, 'product.url'],
    ['a name over 500 characters', { name: 'n'.repeat(501) }, 'product.name'],
  ])('with %s is refused, naming the field', (_name, product, field) => {
    expect(refusedField(task(product))).toBe(field);
  });

  test('with what an event may carry is accepted', () => {
    expect(refusedField(task({ url: `https://shop.example/${'p'.repeat(1900)}`, name: 'n'.repeat(500) }))).toBeUndefined();
  });
});

describe('safeLink', () => {
  test('links https: only', () => {
    expect(safeLink('https://shop.example/p')).toBe('https://shop.example/p');
    expect(safeLink('http://shop.example/p')).toBeUndefined();
    expect(safeLink('javascript:alert(1)')).toBeUndefined();
  });
});
