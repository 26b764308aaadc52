/**
 * `npm run demo` on a running stack: it finds the stack through the state
 * file, and its `--json` summary and exit code say whether every subscriber
 * was notified exactly once; it prints the console's page of the restock it ran.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';
import { stack } from '../../helpers/stack.ts';

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'emulators/demo.ts', ...args], { cwd: REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run demo', () => {
  it('notifies every seeded subscriber exactly once through the running stack and says so in its JSON summary', async () => {
    // Prepare: describe the shared stack where the demo looks for one.
    const stateFile = join(mkdtempSync(join(tmpdir(), 'restock-demo-')), 'stack.json');
    writeFileSync(stateFile, JSON.stringify(stack().description));

    // Act
    const { code, stdout, stderr } = await runDemo(['--state-file', stateFile, '--subscribers', '300', '--timeout', '100', '--json']);

    // Assess
    const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(stderr).toContain('using the running stack');
    expect(summary).toMatchObject({ ok: true, subscribers: 300, notified: 300, duplicates: 0, missing: 0, tasks: 3 });
    expect(summary.firstNotificationMs).toBeTypeOf('number');
    expect(summary.elapsedMs).toBeTypeOf('number');
    expect(code).toBe(0);
    // The console's page of the restock it ran, printed with the summary, answers with the same counts.
    const url = `${stack().description.console}/restocks/${summary.eventKey as string}`;
    expect(stdout).toContain(`console  ${url}`);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-count="sent">300<');
  });
});
