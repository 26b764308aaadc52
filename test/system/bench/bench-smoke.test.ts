/**
 * `npm run bench` end to end at a tiny size: it starts its own stack, runs the
 * pipeline, the naive baseline and the storage floor, and prints the issue 8
 * figures as one JSON object on its last line. No timing is asserted: a bench
 * run is not a test of speed, only of producing honest figures.
 */
import { spawn } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
      cwd: REPO_ROOT,
      env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(VITEST.*|NODE_OPTIONS)$/.test(k))),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench', () => {
  test('with --subscribers 200 --json, prints the table and ends with one JSON object holding every figure of issue 8, the subscribe storm of issue 12, and the latency and key-range phases of issue 15', async () => {
    // Act
    const { code, stdout, stderr } = await runBench(['--subscribers', '200', '--subscribe-creates', '100', '--subscribe-clients', '8', '--latency-subscribers', '200', '--rtt-ms', '10', '--ranges-subscribers', '3000', '--ranges-target', '1000', '--json']);

    // Assess
    expect(code, stderr).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(stdout).toMatch(/speedup vs naive/);
    const result = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    for (const field of ['pipelineMs', 'naiveMs', 'floorMs', 'speedupVsNaive', 'loopbackSpeedupVsNaive', 'ratioToFloor', 'firstNotificationMs', 'floorFirstClaimMs', 'tenthFirstNotificationMs', 'firestoreRpcsPerNotification', 'fanoutPeakRssMb', 'fanoutPeakRssMbTenth']) {
      expect(result[field], field).toEqual(expect.any(Number));
      expect(result[field] as number, field).toBeGreaterThan(0);
    }
    expect(result.subscribers).toBe(200);
    expect(result).toMatchObject({ duplicates: 0, missing: 0 });
    // Every notification costs Firestore work, and the RPC counter saw it in the function processes.
    expect(Object.keys(result.firestoreRpcs as object)).toEqual(expect.arrayContaining(['batchGetDocuments', 'commit', 'runQuery']));
    expect(result.loopbackSpeedupVsNaive).toBeCloseTo((result.naiveMs as number) / (result.pipelineMs as number), 1);
    // Under latency: both designs ran in full through the proxy, and speedupVsNaive is theirs.
    const latency = result.latency as { subscribers: number; rttMs: number; sinkLatencyMs: number; pipelineMs: number; naiveMs: number; naiveSent: number; duplicates: number; missing: number };
    expect(latency).toMatchObject({ subscribers: 200, rttMs: 10, sinkLatencyMs: 100, naiveSent: 200, duplicates: 0, missing: 0 });
    expect(result.speedupVsNaive).toBeCloseTo(latency.naiveMs / latency.pipelineMs, 1);
    expect(stdout).toMatch(/Under latency: 200 subscribers each, \+10 ms per Firestore round trip/);
    expect(stdout).toMatch(/Subscribe storm: 8 clients/);
    // Key ranges: both runs paged the whole audience into tasks (none delivered: paging only), the split one in K > 1 ranges.
    const ranges = result.ranges as { subscribers: number; speedup: number; single: { ranges: number; recipients: number; tasks: number; queuedTasks: number }; split: { ranges: number; recipients: number; tasks: number; queuedTasks: number; perRange: unknown[] } };
    expect(ranges.subscribers).toBe(3000);
    expect(ranges.single).toMatchObject({ ranges: 1, recipients: 3000, tasks: 30, queuedTasks: 30 });
    expect(ranges.split).toMatchObject({ recipients: 3000, tasks: 30, queuedTasks: 30 });
    expect(ranges.split.ranges).toBeGreaterThan(1);
    expect(ranges.split.perRange).toHaveLength(ranges.split.ranges);
    expect(stdout).toMatch(/Key ranges: fan-out paging .*3,000 subscribers each/);
    expect(result.subscribe).toMatchObject({ clients: 8, oneProduct: { jobs: 100, stored: 100, products: 1 }, spread: { jobs: 100, stored: 100, products: 100 } });
  }, 300_000);
});
