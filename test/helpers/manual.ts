/** The manual (README.md and docs/*.md) as tests read it: its pages, runnable blocks and links. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../emulators/stack/index.ts';

/** Repository-relative paths of the manual's pages. */
export function manualPages(): string[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort();
  return ['README.md', ...docs.map((f) => `docs/${f}`)];
}

export interface RunnableBlock {
  /** `docs/storefront.md:88` */
  where: string;
  code: string;
}

/** Every fenced block whose info string is `sh runnable`, in page order. */
export function runnableBlocks(): RunnableBlock[] {
  const out: RunnableBlock[] = [];
  for (const page of manualPages()) {
    const text = readFileSync(join(REPO_ROOT, page), 'utf8');
    for (const m of text.matchAll(/^```sh runnable\n([\s\S]*?)^```$/gm)) {
      out.push({ where: `${page}:${text.slice(0, m.index).split('\n').length}`, code: m[1]! });
    }
  }
  return out;
}
