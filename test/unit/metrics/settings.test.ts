/** The metrics settings are checked at start, naming the variable, like every other setting. */
import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from '../../../lib/config.ts';

describe('metrics settings', () => {
  test('production exports to Cloud Monitoring once a minute unless told otherwise', () => {
    const config = parseConfig({});
    expect(config.metricsExporter).toBe('cloud-monitoring');
    expect(config.metricsExportIntervalMs).toBe(60_000);
  });

  test('an unknown exporter stops the process at start, naming RESTOCK_METRICS_EXPORTER', () => {
    expect(() => parseConfig({ RESTOCK_METRICS_EXPORTER: 'prometheus' })).toThrow(ConfigError);
    expect(() => parseConfig({ RESTOCK_METRICS_EXPORTER: 'prometheus' })).toThrow(/^RESTOCK_METRICS_EXPORTER: .*"prometheus"/);
  });

  test('an export interval under a second is refused, naming RESTOCK_METRICS_EXPORT_INTERVAL_MS', () => {
    expect(() => parseConfig({ RESTOCK_METRICS_EXPORT_INTERVAL_MS: '200' })).toThrow(/^RESTOCK_METRICS_EXPORT_INTERVAL_MS: must be at least 1000/);
  });
});
