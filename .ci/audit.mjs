#!/usr/bin/env node
// Dependency audit for CI (issue 31, item 15): fails on a high or critical
// advisory, lists moderate ones, never fails for the network.
//
// 1. `npm audit --json` against the registry. Where the registry answers, its
//    report decides.
// 2. The registry's bulk advisory endpoint (POST /-/npm/v1/security/advisories/bulk)
//    answers 405 on this network (only GET and HEAD pass its proxy), as does the
//    older quick-audit endpoint, and no other advisory source (GitHub, OSV) is
//    reachable. Then the installed tree (package-lock.json) is checked against
//    the advisories recorded in .ci/advisories.json, and the run says plainly
//    that only those were checked.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const FAIL_AT = new Set(['high', 'critical']);

function online() {
  let out;
  try {
    out = execFileSync('npm', ['audit', '--json', '--omit=optional'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (err) {
    // npm audit exits 1 when it finds something: its JSON is still on stdout.
    out = err.stdout ?? '';
  }
  let report;
  try {
    report = JSON.parse(out);
  } catch {
    return { unavailable: 'npm audit printed no report' };
  }
  if (report.error || report.message) return { unavailable: report.message || report.error?.summary || 'npm audit failed' };
  const findings = Object.values(report.vulnerabilities ?? {}).map((v) => ({ package: v.name, severity: v.severity, title: (v.via ?? []).map((x) => (typeof x === 'string' ? x : x.title)).join('; '), versions: v.range }));
  return { findings, source: 'npm audit (registry)' };
}

const parse = (v) => v.split(/[.+-]/).slice(0, 3).map(Number);
function lessThan(a, b) {
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return false;
}

function offline() {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const { advisories } = JSON.parse(readFileSync(join(root, '.ci/advisories.json'), 'utf8'));
  const findings = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (!path || !entry.version) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    for (const a of advisories.filter((x) => x.package === name)) {
      if (a.vulnerable.some((r) => !lessThan(entry.version, r.introduced) && lessThan(entry.version, r.fixed))) {
        findings.push({ package: name, severity: a.severity, title: `${a.id} ${a.title}`, versions: `${entry.version} at ${path}` });
      }
    }
  }
  return { findings, source: `the ${advisories.length} advisories recorded in .ci/advisories.json (offline)` };
}

let result = online();
if (result.unavailable) {
  console.log(`audit: the registry's advisory endpoint is unavailable (${result.unavailable}); checking package-lock.json offline instead`);
  result = offline();
}
const failing = result.findings.filter((f) => FAIL_AT.has(f.severity));
const listed = result.findings.filter((f) => !FAIL_AT.has(f.severity));
for (const f of [...failing, ...listed]) console.log(`audit: ${f.severity} ${f.package} (${f.versions}): ${f.title}`);
console.log(`audit: ${failing.length} high or critical, ${listed.length} moderate or low, from ${result.source}`);
process.exitCode = failing.length > 0 ? 1 : 0;
