/**
 * The delivery states are one table (lib/model.ts DELIVERY_TRANSITIONS); the
 * table of docs/states-and-failures.md is compared with it, so a state added
 * to the code (issue 40's `soldOutBeforeSend`) cannot be missing from the page.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DELIVERY_STATES, DELIVERY_TRANSITIONS } from '../../../lib/model.ts';

function documentedRows(): Map<string, string> {
  const page = readFileSync('docs/states-and-failures.md', 'utf8');
  const section = page.slice(page.indexOf('## Deliveries'), page.indexOf('## Fan-outs'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `(\w+)` \| [^|]+ \| (.+) \|$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!);
  }
  return rows;
}

describe('the delivery states page', () => {
  test('lists every delivery state of the transition table, and no other', () => {
    expect([...documentedRows().keys()].sort()).toEqual([...DELIVERY_STATES].sort());
  });

  test('names every move the table allows out of each state, and says "nothing, ever" only for states that never move', () => {
    for (const [state, moves] of documentedRows()) {
      const allowed = DELIVERY_TRANSITIONS[state as keyof typeof DELIVERY_TRANSITIONS];
      if (allowed.length === 0) expect(moves, state).toBe('nothing, ever');
      for (const to of allowed) expect(moves, `${state} → ${to}`).toContain(`\`${to}\``);
    }
  });
});
