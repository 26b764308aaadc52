/**
 * Issue 31, item 13 (code): the inventory stand-in takes unauthenticated stock
 * updates and publishes them as restocks, which is what a local stack needs
 * and what no deployment may ever expose. It refuses to start outside the
 * emulators (no FIRESTORE_EMULATOR_HOST, or no PUBSUB_EMULATOR_HOST: its
 * events would reach a real topic), naming the variable.
 */
import { describe, expect, test } from 'vitest';
import { startInventory } from '../../../emulators/inventory/server.ts';
import { ConfigError, parseConfig } from '../../../lib/config.ts';

const fakeDb = {} as never;
const publisher = { publish: async () => 'id' } as never;

async function refusal(env: Record<string, string>, processEnv: Record<string, string | undefined>): Promise<unknown> {
  const saved = process.env.PUBSUB_EMULATOR_HOST;
  if (processEnv.PUBSUB_EMULATOR_HOST === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
  else process.env.PUBSUB_EMULATOR_HOST = processEnv.PUBSUB_EMULATOR_HOST;
  try {
    const server = await startInventory({ host: '127.0.0.1', port: 0, db: fakeDb, publisher, config: parseConfig(env) });
    await server.stop();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
    else process.env.PUBSUB_EMULATOR_HOST = saved;
  }
}

describe('the inventory stand-in', () => {
  test('refuses to start against a real Firestore, naming FIRESTORE_EMULATOR_HOST', async () => {
    const err = await refusal({}, { PUBSUB_EMULATOR_HOST: '127.0.0.1:8085' });
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('FIRESTORE_EMULATOR_HOST');
  });

  test('refuses to start against a real Pub/Sub, naming PUBSUB_EMULATOR_HOST', async () => {
    const err = await refusal({ FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' }, {});
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe('PUBSUB_EMULATOR_HOST');
  });

  test('starts on the emulators', async () => {
    expect(await refusal({ FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' }, { PUBSUB_EMULATOR_HOST: '127.0.0.1:8085' })).toBeUndefined();
  });
});
