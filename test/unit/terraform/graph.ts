/**
 * The dependency graph Terraform builds from a configuration: a resource or
 * data source depends on what its arguments refer to (directly, or through
 * locals) and on what its depends_on lists. Used to check orderings a first
 * apply relies on without running Terraform.
 */
import { declaredIn, expressionsIn, type ParsedFile } from './check.ts';
import type { Hcl } from './hcl.ts';
import { PROVIDER_PREFIXES } from './schema.ts';

const PREFIXES = PROVIDER_PREFIXES.join('|');
const REFERENCE = new RegExp(`(?<![\\w.\\]])(data\\.)?((?:${PREFIXES})_[a-z0-9_]+)\\.([A-Za-z_][\\w-]*)`, 'g');
const LOCAL = /(?<![\w.])local\.(\w+)/g;

function strings(value: Hcl): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...strings(v)]);
  return [];
}

/** Resource addresses and local names an HCL value refers to. */
function referencesOf(value: Hcl): { addresses: Set<string>; locals: Set<string> } {
  const addresses = new Set<string>();
  const locals = new Set<string>();
  for (const text of strings(value)) {
    for (const code of expressionsIn(text)) {
      for (const m of code.matchAll(REFERENCE)) addresses.add(`${m[1] ?? ''}${m[2]}.${m[3]}`);
      for (const m of code.matchAll(LOCAL)) locals.add(m[1]!);
    }
  }
  return { addresses, locals };
}

/** Every resource and data source, by address, with the addresses it depends on directly. */
export function dependencyGraph(files: ParsedFile[]): Map<string, Set<string>> {
  const localValues = new Map<string, Hcl>();
  const bodies = new Map<string, Hcl>();
  for (const file of files) {
    for (const locals of (file.json.locals ?? []) as Record<string, Hcl>[]) for (const [name, value] of Object.entries(locals)) localValues.set(name, value);
    for (const { address, body } of declaredIn(file)) bodies.set(address, body);
  }
  const localAddresses = new Map<string, Set<string>>();
  const throughLocal = (name: string, seen: Set<string>): Set<string> => {
    const known = localAddresses.get(name);
    if (known) return known;
    if (seen.has(name) || !localValues.has(name)) return new Set();
    seen.add(name);
    const { addresses, locals } = referencesOf(localValues.get(name));
    for (const local of locals) for (const a of throughLocal(local, seen)) addresses.add(a);
    localAddresses.set(name, addresses);
    return addresses;
  };
  const graph = new Map<string, Set<string>>();
  for (const [address, body] of bodies) {
    const { addresses, locals } = referencesOf(body);
    for (const local of locals) for (const a of throughLocal(local, new Set())) addresses.add(a);
    addresses.delete(address);
    graph.set(address, new Set([...addresses].filter((a) => bodies.has(a))));
  }
  return graph;
}

/** Whether `from` depends on `to`, directly or through others. */
export function dependsOn(graph: Map<string, Set<string>>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const pending = [from];
  while (pending.length > 0) {
    const next = pending.pop()!;
    for (const dependency of graph.get(next) ?? []) {
      if (dependency === to) return true;
      if (!seen.has(dependency)) {
        seen.add(dependency);
        pending.push(dependency);
      }
    }
  }
  return false;
}
