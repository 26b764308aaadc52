/** `npm start` refuses a port that is not a port, instead of quietly taking any free one. */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';

describe('npm start with a bad port', () => {
  test.each([['--sink-port', 'abc'], ['--tasks-port', '70000'], ['--firestore-port', '-1']])('%s %s is a usage error (exit 2) naming the flag', (flag, value) => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'emulators/start.ts', `${flag}=${value}`, '--state-file', '.local/start-usage-test.json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`${flag} (or `);
    expect(run.stderr).toContain(JSON.stringify(value));
  });
});
