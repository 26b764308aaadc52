import { describe, expect, test } from 'vitest';
import { cleanupOf, type DeadAddress } from '../../../lib/delivery/dead-addresses.ts';

const dead: DeadAddress[] = [{ userId: 'ann', channel: 'push', address: 'tok-dead', productId: 'lamp' }];

describe('what dead-token cleanup does to a subscription', () => {
  test('a subscription whose only channel is the dead token is deleted', () => {
    expect(cleanupOf({ userId: 'ann', productId: 'desk', channels: { push: 'tok-dead' } }, dead)).toEqual({ action: 'delete' });
  });

  test('a subscription with email too keeps the email and loses the token', () => {
    expect(cleanupOf({ userId: 'ann', productId: 'desk', channels: { email: 'a@x.test', push: 'tok-dead' } }, dead)).toEqual({ action: 'remove-channels', channels: ['push'] });
  });

  test('another token, another shopper, or the product that found the token are left alone', () => {
    expect(cleanupOf({ userId: 'ann', productId: 'desk', channels: { push: 'tok-live' } }, dead)).toEqual({ action: 'keep' });
    expect(cleanupOf({ userId: 'bob', productId: 'desk', channels: { push: 'tok-dead' } }, dead)).toEqual({ action: 'keep' });
    expect(cleanupOf({ userId: 'ann', productId: 'lamp', channels: { push: 'tok-dead' } }, dead)).toEqual({ action: 'keep' });
  });
});
