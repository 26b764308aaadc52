/**
 * `npm run demo` on a running stack: it finds the stack through the state
 * file, and its `--json` summary and exit code say whether every subscriber
 * was notified exactly once; it prints the console's page of the restock it ran.
 * With `--click-rate` and `--buy-rate` the shoppers follow their links and
 * order, and the summary's funnel is what Firestore recorded of them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';
import { COLLECTIONS } from '../../../lib/model.ts';
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

  it('with --click-rate and --buy-rate, follows that share of links and reports that share of orders, clickers first, and prints the funnel they made', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'restock-demo-')), 'stack.json');
    writeFileSync(stateFile, JSON.stringify(stack().description));

    const { code, stdout, stderr } = await runDemo(['--state-file', stateFile, '--subscribers', '40', '--click-rate', '0.25', '--buy-rate', '0.4', '--timeout', '100', '--json']);

    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as { ok: boolean; eventKey: string; followed: number; ordered: number; funnel: { total: Record<string, unknown> } };
    // 10 of 40 follow their link; 16 order: the 10 who clicked (direct) and 6 who did not (assisted), 49.99 EUR each.
    expect(summary).toMatchObject({ ok: true, followed: 10, ordered: 16 });
    expect(summary.funnel.total).toEqual({ notified: 40, clicked: 10, purchased: { direct: 10, assisted: 6 }, revenueMinor: { EUR: 16 * 4999 } });
    // What the funnel counted is what Firestore holds of this restock, counted here without the funnel's queries.
    const db = stack().firestore;
    const clicks = await db.collection(COLLECTIONS.clicks).where('eventKey', '==', summary.eventKey).get();
    const orders = await db.collection(COLLECTIONS.conversions).where('eventKey', '==', summary.eventKey).get();
    expect(clicks.size).toBe(10);
    expect(orders.docs.map((d) => d.get('attribution')).sort()).toEqual([...Array(6).fill('assisted'), ...Array(10).fill('direct')]);
    // The table as read (CI=true turns picocolors' colours on).
    const table = stripVTControlCharacters(stdout);
    expect(table).toMatch(/clicked\s+10 \(25\.0 %\)/);
    expect(table).toMatch(/purchased\s+10 direct, 6 assisted \(40\.0 %\)/);
    expect(table).toMatch(/revenue\s+EUR 799\.84$/m);
  });
});
