/**
 * Run from a checkout (bin/restock.js imports cli/ as TypeScript), the CLI
 * finds what sits at the repository's root: the running local stack's
 * `.local/stack.json` (docs/operate.md "Which pipeline": found automatically)
 * and package.json's version. Moving the CLI to cli/ once left both paths one
 * directory too high, so `npx restock status …` beside `npm start` said "no
 * pipeline to talk to" and `--version` printed 0.0.0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LOCAL_STACK_FILE } from '../../../cli/backend.ts';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';
import { run } from './fakes.ts';

describe('the CLI in a checkout', () => {
  test('looks for the local stack in the .local/stack.json that npm start writes', () => {
    expect(LOCAL_STACK_FILE).toBe(join(REPO_ROOT, '.local', 'stack.json'));
  });

  test('--version prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

    const r = await run(['--version']);

    expect(r.stdout.trim()).toBe(version);
  });
});
