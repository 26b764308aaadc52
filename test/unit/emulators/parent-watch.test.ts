import { describe, expect, test } from 'vitest';
import { launchersToWatch } from '../../../emulators/parent-watch.ts';

const TSX = 'node /repo/node_modules/.bin/tsx emulators/start.ts --dir x';

describe('which launchers a foreground tool watches', () => {
  test('npm start: tsx, the script shell and npm, not the interactive shell above', () => {
    expect(launchersToWatch([TSX, 'sh -c tsx emulators/start.ts', 'npm start --dir x', 'bash', 'sshd: dev'])).toBe(3);
  });

  test('a shell that backgrounded npm and exited is not watched (it is gone by design)', () => {
    expect(launchersToWatch([TSX, 'sh -c tsx emulators/start.ts', 'npm start', 'sh -c npm start &', 'node runner.js'])).toBe(3);
  });

  test('tsx run by hand: only tsx', () => {
    expect(launchersToWatch(['node /repo/node_modules/tsx/dist/cli.mjs emulators/cloud-tasks/main.ts', 'bash'])).toBe(1);
  });

  test('started directly by a test runner or a shell: nothing to watch', () => {
    expect(launchersToWatch(['node /repo/node_modules/vitest/dist/workers/forks.js'])).toBe(0);
    expect(launchersToWatch(['/usr/bin/zsh -l'])).toBe(0);
    expect(launchersToWatch([])).toBe(0);
  });

  test('npx and other package managers count as launchers', () => {
    expect(launchersToWatch([TSX, 'npx tsx emulators/start.ts', 'bash'])).toBe(2);
    expect(launchersToWatch([TSX, 'sh -c tsx emulators/start.ts', 'node /usr/lib/node_modules/pnpm/bin/pnpm.cjs start', 'bash'])).toBe(3);
  });
});
