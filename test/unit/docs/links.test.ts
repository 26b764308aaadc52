/**
 * The manual's links hold: every relative link in README.md and docs/ names a
 * file of the repository, and every `#anchor` a heading of its page (GitHub's
 * heading ids). Splitting the README into docs/ broke intra-page anchors once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../../../emulators/stack/state-file.ts';
import { manualPages } from '../../helpers/manual.ts';

/** GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s/g, '-');
}

function anchorsOf(page: string): Set<string> {
  const text = readFileSync(join(REPO_ROOT, page), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function links(page: string): string[] {
  const text = readFileSync(join(REPO_ROOT, page), 'utf8').replace(/^```[\s\S]*?^```$/gm, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((href) => !/^[a-z]+:/i.test(href));
}

describe('links in the manual', () => {
  test.each(manualPages())('%s: every relative link and anchor resolves', (page) => {
    const broken: string[] = [];
    for (const href of links(page)) {
      const [path, anchor] = href.split('#') as [string, string | undefined];
      const target = path === '' ? page : normalize(join(dirname(page), path));
      if (!existsSync(join(REPO_ROOT, target))) {
        broken.push(`${href}: no file ${target}`);
        continue;
      }
      if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor)) broken.push(`${href}: no heading #${anchor} in ${target}`);
    }
    expect(broken).toEqual([]);
  });

  test('nothing points outside the repository at the old design file', () => {
    for (const page of manualPages()) expect(readFileSync(join(REPO_ROOT, page), 'utf8'), page).not.toMatch(/shared\/DESIGN\.md/);
  });
});
