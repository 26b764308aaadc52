/**
 * Folders of lib/ import each other in one direction: no module of
 * lib/ reaches itself again through its imports, type-only ones included (a
 * type cycle is still two concerns that cannot be read apart).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LIB = join(ROOT, 'lib');

/** The relative modules a source file imports or re-exports (type-only ones included), and its dynamic imports. */
function relativeImports(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s+[\s\S]*?\s+from\s+'(\.[^']+)'/gm)) out.push(m[1]!);
  for (const m of source.matchAll(/^\s*import\s+'(\.[^']+)'/gm)) out.push(m[1]!);
  for (const m of source.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)) out.push(m[1]!);
  return out;
}

function graph(): Map<string, string[]> {
  const files = (readdirSync(LIB, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(LIB, f));
  return new Map(files.map((f) => [f, relativeImports(readFileSync(f, 'utf8')).map((spec) => resolve(dirname(f), spec)).filter((t) => t.startsWith(LIB))]));
}

/** Every cycle's path (as folder-relative names), found by depth-first search. */
function cycles(g: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const t of g.get(n) ?? []) {
      if (state.get(t) === 'open') found.push([...stack.slice(stack.indexOf(t)), t].map((p) => p.slice(LIB.length + 1)));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of g.keys()) if (!state.has(n)) visit(n);
  return found;
}

describe('lib/ imports', () => {
  test('no module of lib/ imports itself again through its imports', () => {
    expect(cycles(graph())).toEqual([]);
  });

  test('delivery and fan-out do not import each other both ways: the delivery task contract lives in lib/tasks', () => {
    const g = graph();
    const folderEdges = new Set<string>();
    for (const [from, tos] of g) for (const to of tos) folderEdges.add(`${from.slice(LIB.length + 1).split('/')[0]}->${to.slice(LIB.length + 1).split('/')[0]}`);
    expect(folderEdges.has('fanout->delivery') && folderEdges.has('delivery->fanout')).toBe(false);
    expect(folderEdges.has('tasks->fanout') || folderEdges.has('tasks->delivery')).toBe(false);
  });

  test('no two folders of lib/ import each other both ways: what they share has a home of its own', () => {
    const folderEdges = new Set<string>();
    for (const [from, tos] of graph()) {
      const a = from.slice(LIB.length + 1).split('/');
      for (const to of tos) {
        const b = to.slice(LIB.length + 1).split('/');
        if (a.length > 1 && b.length > 1 && a[0] !== b[0]) folderEdges.add(`${a[0]}->${b[0]}`);
      }
    }
    const bothWays = [...folderEdges].filter((e) => folderEdges.has(e.split('->').reverse().join('->')));
    expect(bothWays).toEqual([]);
  });

  test('applications sit beside the domain: lib/ imports nothing outside itself, the CLI only lib/ and itself, the console only lib/, cli/ and itself', () => {
    const outside = (dir: string, allowed: string[]) =>
      (readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' }) as string[])
        .filter((f) => f.endsWith('.ts'))
        .flatMap((f) => {
          const file = join(ROOT, dir, f);
          return relativeImports(readFileSync(file, 'utf8'))
            .map((spec) => resolve(dirname(file), spec))
            .filter((t) => !allowed.some((a) => t.startsWith(join(ROOT, a) + '/')))
            .map((t) => `${dir}/${f} -> ${t.slice(ROOT.length + 1)}`);
        });
    expect(outside('lib', ['lib'])).toEqual([]);
    expect(outside('cli', ['cli', 'lib'])).toEqual([]);
    // The console reads through the CLI's operations and queries, so it may import cli/ (never the other way).
    expect(outside('console', ['console', 'cli', 'lib'])).toEqual([]);
  });

  test('the finder sees imports of every form, and a cycle when there is one', () => {
    expect(relativeImports("import { a } from './a.ts';\nimport type { B } from './b.ts';\nexport { type C } from './c.ts';\nexport * from './d.ts';\nimport('./e.ts');")).toEqual(['./a.ts', './b.ts', './c.ts', './d.ts', './e.ts']);
    const a = join(LIB, 'a.ts');
    const b = join(LIB, 'b.ts');
    expect(cycles(new Map([[a, [b]], [b, [a]]]))).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });
});
