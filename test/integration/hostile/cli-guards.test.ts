/**
 * The operators' CLI guards what it does to production: `restock publish`
 * outside the emulators asks (naming the project) and refuses from a script
 * without `--yes`, requires `--sequence`, and takes `--previous` only with
 * `--force`; `restock product reset-stock` repairs a product whose sequence
 * was pushed ahead, on the real stack. The CLI runs as operators run it
 * (bin/restock.js in a child process, stdin not a terminal).
 */
import { describe, expect, test } from 'vitest';
import { COLLECTIONS } from '../../../lib/model.ts';
import { seedSubscribers, stack, uniqueProductId } from '../../helpers/index.ts';
import { restock } from '../../helpers/cli.ts';

/** A production target, as Cloud Shell sets it: only the project, no emulator. Nothing is reached before the guards refuse. */
const PRODUCTION = { GOOGLE_CLOUD_PROJECT: 'shop-prod-1', METADATA_SERVER_DETECTION: 'none' };

describe('restock publish outside the emulators', () => {
  const refusals: [string, string[], RegExp][] = [
    ['without --sequence', ['--available', '5'], /--sequence: required outside the emulators \(project shop-prod-1\)/],
    ['with --previous but without --force', ['--available', '5', '--sequence', '42', '--previous', '0'], /--previous forces a restock.*pass --force/],
    ['from a script without --yes', ['--available', '5', '--sequence', '42'], /confirmation needed but stdin is not a terminal: pass --yes/],
  ];
  for (const [name, args, message] of refusals) {
    test(`${name}: refused with exit 2, nothing published`, async () => {
      // Act
      const run = await restock(['publish', '--product', 'sku-prod-1', ...args], { env: PRODUCTION });

      // Assess
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).not.toMatch(/published eventId/);
    });
  }
});

describe('restock product reset-stock', () => {
  test('repairs a sequence pushed ahead: the stored state is what the operator set', async () => {
    // Prepare: a product frozen by a sequence near 2^53.
    const s = stack();
    const productId = uniqueProductId('frozen');
    await seedSubscribers(productId, 1, { product: { available: 3, sequence: 2 ** 53 - 2 } });

    // Act
    const reset = await restock(['product', 'reset-stock', productId, '--sequence', '10', '--available', '0', '--yes', '--json'], { stack: s.description });

    // Assess
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ before: { sequence: 2 ** 53 - 2, available: 3 }, after: { sequence: 10, available: 0 } });
    const doc = (await s.firestore.collection(COLLECTIONS.products).doc(productId).get()).data()!;
    expect(doc).toMatchObject({ sequence: 10, available: 0 });
  });

  test('from a script without --yes it refuses and writes nothing', async () => {
    // Prepare
    const s = stack();
    const productId = uniqueProductId('frozen');
    await seedSubscribers(productId, 1, { product: { available: 3, sequence: 99 } });

    // Act
    const reset = await restock(['product', 'reset-stock', productId, '--sequence', '1', '--available', '0'], { stack: s.description });

    // Assess
    expect(reset.code).toBe(2);
    expect((await s.firestore.collection(COLLECTIONS.products).doc(productId).get()).data()).toMatchObject({ sequence: 99, available: 3 });
  });
});
