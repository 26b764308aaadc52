/**
 * Issue 31, item 3: tenants whose prefixes overlap are not isolated (with
 * `shop1` and `shop10`, `shop1` could list, delete and re-address `shop10`'s
 * shoppers), so such a setting refuses to start, naming both prefixes. A
 * prefix of `*` overlaps every other.
 */
import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from '../../../lib/config.ts';

const A = 'storefront-a@shop.iam.gserviceaccount.com';
const B = 'storefront-b@shop.iam.gserviceaccount.com';

function refusal(value: string): ConfigError | undefined {
  try {
    parseConfig({ RESTOCK_STOREFRONT_TENANTS: value });
    return undefined;
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
}

describe('RESTOCK_STOREFRONT_TENANTS', () => {
  test.each([
    ['shop1 and shop10', `${A}=shop1,${B}=shop10`, ['"shop1"', '"shop10"']],
    ['shop10 and shop1 (either order)', `${A}=shop10,${B}=shop1`, ['"shop1"', '"shop10"']],
    ['the same prefix twice', `${A}=eu-,${B}=eu-`, ['"eu-"']],
    ['* next to another tenant', `${A}=*,${B}=us-`, ['"*"', '"us-"']],
  ])('with overlapping prefixes (%s) is refused, naming the setting and both prefixes', (_name, value, named) => {
    // Act
    const err = refusal(value);

    // Assess
    expect(err?.variable).toBe('RESTOCK_STOREFRONT_TENANTS');
    for (const prefix of named) expect(err?.message).toContain(prefix);
    expect(err?.message).toMatch(/overlap/);
  });

  test('prefixes that cannot share a user id are accepted', () => {
    expect(refusal(`${A}=shop1-,${B}=shop10-`)).toBeUndefined();
    expect(refusal(`${A}=*`)).toBeUndefined();
  });
});
