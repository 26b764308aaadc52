/**
 * What adopters can import is what docs/api-report.md says: the report is
 * regenerated from the code and compared, so a change to the public surface
 * (a new export, a changed signature, a new subpath) fails here until the
 * report is regenerated with `npm run api:report` and the change is seen in review.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { apiReport, entries, REPORT_PATH } from '../../../scripts/api-report.ts';

describe('the API report', () => {
  test('covers exactly the subpaths package.json exports: the functions, the outbox kit and its Spanner adapter', () => {
    const subpaths = entries().map((e) => e.subpath);
    expect(subpaths).toEqual(expect.arrayContaining(['restock-fanout', 'restock-fanout/outbox', 'restock-fanout/outbox/spanner', 'restock-fanout/functions/fanOutRestock']));
    expect(subpaths.filter((s) => !s.startsWith('restock-fanout/functions/'))).toEqual(['restock-fanout', 'restock-fanout/outbox', 'restock-fanout/outbox/spanner']);
  });

  test('is what the code exports (regenerate with `npm run api:report`)', { timeout: 60_000 }, () => {
    expect(readFileSync(REPORT_PATH, 'utf8')).toBe(apiReport());
  });
});
