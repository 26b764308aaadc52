/**
 * The published package ships what an adopter imports (the compiled
 * functions and lib/ with their types, the sources they map to, the CLI,
 * the docs and the license) and nothing of the workshop: no tests, no local
 * stack state, no Terraform state, no emulators or benchmarks. Measured with
 * the real `npm pack --dry-run --json`, which runs `prepack` (the build) first.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/index.ts';

const run = promisify(execFile);

interface PackedFile {
  path: string;
}

interface PackageJson {
  name: string;
  private?: boolean;
  license?: string;
  main: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types: string; default: string }>;
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Concrete export targets (`./functions/*` is checked through one function). */
function exportTargets(): string[] {
  const out: string[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const files = typeof target === 'string' ? [target] : [target.types, target.default];
    for (const f of files) out.push(subpath.includes('*') ? f.replace('*', 'fanOutRestock') : f);
  }
  return out.map((f) => f.replace(/^\.\//, ''));
}

describe('npm pack', () => {
  let files: string[];

  beforeAll(async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 170_000 });
    // prepack's build may print before the JSON document.
    const json = stdout.slice(stdout.indexOf('['));
    files = (JSON.parse(json) as { files: PackedFile[] }[])[0]!.files.map((f) => f.path);
  }, 180_000);

  test('the package is publishable under the Apache-2.0 license, and ships the license text', () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe('Apache-2.0');
    expect(files).toContain('LICENSE');
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });

  test('every export, the main entry and the CLI are in the tarball', () => {
    for (const target of [...exportTargets(), pkg.main, ...Object.values(pkg.bin)]) expect(files, target).toContain(target.replace(/^\.\//, ''));
    // The CLI runs its TypeScript sources through tsx: they ship too.
    expect(files).toContain('cli/main.ts');
  });

  test('nothing of tests, local stacks, Terraform state, emulators or benchmarks is shipped', () => {
    const unwanted = files.filter((f) =>
      /^(test|\.local|emulators|bench|coverage|node_modules)\//.test(f) || /(^|\/)(terraform\.tfstate|\.terraform)/.test(f) || /\.tfstate|\.tfvars$|\.test\.|\.log$/.test(f),
    );
    expect(unwanted).toEqual([]);
  });

  test('each export resolves to a module that loads, through the package name', async () => {
    const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json' && !s.includes('*'));
    const script = `for (const s of ${JSON.stringify(subpaths)}) { const m = await import(s === '.' ? '${pkg.name}' : '${pkg.name}/' + s.slice(2)); if (Object.keys(m).length === 0) throw new Error(s + ' exports nothing'); } console.log('ok');`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      // The functions' entry registers them, and a function refuses to register with production settings it
      // cannot trust (lib/config.ts deploymentProblems): load it as on the emulators, where nothing is called.
      env: { ...process.env, NODE_OPTIONS: '', METADATA_SERVER_DETECTION: 'none', FIRESTORE_EMULATOR_HOST: '127.0.0.1:1' },
      timeout: 60_000,
    });
    expect(stdout.trim()).toBe('ok');
  });
});
