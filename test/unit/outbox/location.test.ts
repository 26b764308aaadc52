import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from '../../../lib/config.ts';
import { outboxLocation } from '../../../lib/outbox/index.ts';

const config = (env: Record<string, string>) => parseConfig({ GOOGLE_CLOUD_PROJECT: 'shop-pipeline', ...env });

describe('where the outbox lives', () => {
  test("by default it is the pipeline's own Firestore database, so nothing changes for an existing deployment", () => {
    expect(outboxLocation(config({}))).toEqual({ backend: 'firestore', projectId: 'shop-pipeline', databaseId: 'restock-fanout', collection: 'outbox' });
  });

  test("the inventory service's own project and Firestore database", () => {
    const location = outboxLocation(config({ RESTOCK_OUTBOX_PROJECT: 'shop-inventory', RESTOCK_OUTBOX_FIRESTORE_DATABASE: '(default)', RESTOCK_OUTBOX_COLLECTION: 'stockOutbox' }));

    expect(location).toEqual({ backend: 'firestore', projectId: 'shop-inventory', databaseId: '(default)', collection: 'stockOutbox' });
  });

  test('a Spanner instance and database', () => {
    const location = outboxLocation(config({ RESTOCK_OUTBOX_BACKEND: 'spanner', RESTOCK_OUTBOX_PROJECT: 'shop-inventory', RESTOCK_OUTBOX_SPANNER_INSTANCE: 'inventory', RESTOCK_OUTBOX_SPANNER_DATABASE: 'stock' }));

    expect(location).toEqual({ backend: 'spanner', projectId: 'shop-inventory', instanceId: 'inventory', databaseId: 'stock' });
  });

  test('a Spanner database opened as the fine-grained role Terraform grants the relay', () => {
    const location = outboxLocation(config({ RESTOCK_OUTBOX_BACKEND: 'spanner', RESTOCK_OUTBOX_SPANNER_INSTANCE: 'inventory', RESTOCK_OUTBOX_SPANNER_DATABASE: 'stock', RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE: 'restock_outbox_relay' }));

    expect(location).toMatchObject({ backend: 'spanner', databaseRole: 'restock_outbox_relay' });
    expect(() => config({ RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE: 'drop table' })).toThrow(/RESTOCK_OUTBOX_SPANNER_DATABASE_ROLE/);
  });

  test.each([
    [{ RESTOCK_OUTBOX_SPANNER_DATABASE: 'stock' }, 'RESTOCK_OUTBOX_SPANNER_INSTANCE'],
    [{ RESTOCK_OUTBOX_SPANNER_INSTANCE: 'inventory' }, 'RESTOCK_OUTBOX_SPANNER_DATABASE'],
  ])('spanner without %o is refused naming %s', (env, variable) => {
    const attempt = () => outboxLocation(config({ RESTOCK_OUTBOX_BACKEND: 'spanner', ...env }));

    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(`${variable}: is required with RESTOCK_OUTBOX_BACKEND=spanner`);
  });

  test.each([
    ['RESTOCK_OUTBOX_BACKEND', 'mysql'],
    ['RESTOCK_OUTBOX_PROJECT', 'Shop_Inventory'],
    ['RESTOCK_OUTBOX_FIRESTORE_DATABASE', 'Inventory DB'],
    ['RESTOCK_OUTBOX_SPANNER_INSTANCE', '-x'],
  ])('a malformed %s stops the process naming it', (variable, value) => {
    expect(() => config({ [variable]: value })).toThrow(new RegExp(`^${variable}: `));
  });
});
