/**
 * terraform/ is formatted canonically. With `terraform` on the PATH this runs
 * `terraform fmt -check -recursive`; without it, the test says so in its name
 * and checks the whitespace rules fmt enforces that can be checked without it
 * (alignment of `=` needs Terraform itself).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { TERRAFORM_DIR, terraformFiles } from './hcl.ts';

function terraformOnPath(): boolean {
  try {
    execFileSync('terraform', ['version'], { stdio: 'ignore', env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' } });
    return true;
  } catch {
    return false;
  }
}

/** The rules of `terraform fmt` a script can check: what each file breaks. */
function whitespaceProblems(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const problems: string[] = [];
  if (text.includes('\r')) problems.push('CRLF line endings');
  if (!text.endsWith('\n') || text.endsWith('\n\n')) problems.push('must end with exactly one newline');
  text.split('\n').forEach((line, i) => {
    if (line.includes('\t')) problems.push(`line ${i + 1}: tab`);
    if (/[ \t]+$/.test(line)) problems.push(`line ${i + 1}: trailing whitespace`);
    const indent = /^ */.exec(line)![0].length;
    if (indent % 2 !== 0) problems.push(`line ${i + 1}: indentation is not a multiple of two spaces`);
  });
  return problems;
}

const hasTerraform = terraformOnPath();

describe('formatting', () => {
  test(
    hasTerraform
      ? 'terraform fmt -check -recursive finds nothing to reformat in terraform/'
      : 'terraform is NOT on the PATH, so `terraform fmt -check` did not run: only the whitespace rules it enforces were checked',
    () => {
      if (hasTerraform) {
        const result = spawnSync('terraform', ['fmt', '-check', '-recursive', '-diff', TERRAFORM_DIR], {
          encoding: 'utf8',
          env: { ...process.env, TF_CLI_CONFIG_FILE: '/dev/null' },
        });
        expect(result.stdout, 'files terraform fmt would change (run `terraform fmt -recursive terraform/`)').toBe('');
        expect(result.status).toBe(0);
      }
      const problems = terraformFiles().flatMap((path) => whitespaceProblems(path).map((p) => `${path}: ${p}`));
      expect(problems).toEqual([]);
    },
    30_000,
  );
});
