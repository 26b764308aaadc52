/**
 * Terraform's channels agree with the table (lib/channels.ts): one
 * `<channel>_sender` variable per channel offering exactly its senders except
 * `log` (the functions refuse it outside the emulators), the sender each
 * channel ends up with in `local.channel_senders`, and a collection-group
 * index on `channels.<channel>` for each channel whose dead addresses are
 * looked up across subscriptions.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { CHANNEL_SPECS, CHANNELS, DEAD_ADDRESS_CHANNELS } from '../../../lib/channels.ts';
import { firestoreFields, loadTerraform, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

/** The quoted strings of a `contains([...], var.x)` in a validation condition. */
function offered(condition: string): string[] {
  const list = /contains\(\[([^\]]*)\]/.exec(condition)?.[1] ?? '';
  return [...list.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
}

describe('channels in terraform/', () => {
  test.each(CHANNELS)('%s_sender offers exactly the senders of the table but log', (channel) => {
    const variable = tf.variable[`${channel}_sender`];
    expect(variable, `variable "${channel}_sender"`).toBeDefined();
    const condition = String(variable.validation[0].condition);
    expect(offered(condition).sort()).toEqual(CHANNEL_SPECS[channel].senders.filter((s) => s !== 'log').sort());
  });

  test('local.channel_senders names every channel of the table, each from its own variable or notifier', () => {
    const senders = tf.locals.channel_senders as Record<string, string>;
    expect(Object.keys(senders)).toEqual([...CHANNELS]);
    for (const channel of CHANNELS) expect(senders[channel]).toBe(`\${var.${channel}_sender == "" ? var.notifier : var.${channel}_sender}`);
  });

  test("notifier_url and notifier_token are required exactly when a channel's sender is http, for every channel", () => {
    for (const name of ['notifier_url', 'notifier_token']) {
      const condition = String(tf.variable[name].validation[0].condition);
      for (const channel of CHANNELS) expect(condition, name).toContain(`var.${channel}_sender == "" ? var.notifier : var.${channel}_sender`);
    }
  });

  test('each channel whose dead addresses are looked up has its collection-group index, and no other channel has one', () => {
    const indexed = firestoreFields(tf)
      .filter((f) => f.collection === 'restockSubscriptions' && String(f.field).startsWith('channels.'))
      .map((f) => String(f.field).slice('channels.'.length));
    expect(indexed.sort()).toEqual([...DEAD_ADDRESS_CHANNELS].sort());
  });
});
