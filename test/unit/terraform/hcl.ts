/**
 * Reads the Terraform configuration in `terraform/` as data, so tests can check
 * its policies without the Google provider (which cannot be downloaded here).
 *
 * Every `.tf` file is parsed with `@cdktf/hcl2json`, the HCL parser Terraform's
 * CDK uses; a file that does not parse fails the load. Expressions come back as
 * `${...}` strings, literals as JSON values, and each block as a one-element
 * array (the shape Terraform's own JSON syntax uses).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { expandForEach } from '../../../sim/production/terraform.ts';

/** The repository root and the Terraform directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TERRAFORM_DIR = join(REPO_ROOT, 'terraform');

// hcl2json's output is untyped JSON; this alias says so where it is used.
export type Hcl = any;

/** One `.tf` file: its path relative to the repository, its text, its parse. */
export interface TerraformFile {
  path: string;
  text: string;
  json: Record<string, Hcl>;
}

/** The whole configuration, merged across files the way Terraform merges a module. */
export interface Terraform {
  files: TerraformFile[];
  /** `resource[type][name]` is the resource block's body. */
  resource: Record<string, Record<string, Hcl>>;
  data: Record<string, Record<string, Hcl>>;
  variable: Record<string, Hcl>;
  output: Record<string, Hcl>;
  /** Every `locals` entry of every file. */
  locals: Record<string, Hcl>;
  /** The `terraform {}` blocks (required_providers, backend...). */
  terraform: Hcl[];
  provider: Record<string, Hcl>;
}

/** Every `.tf` file under `dir`, recursively, skipping `.terraform/`. */
export function terraformFiles(dir = TERRAFORM_DIR): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '.terraform') out.push(...terraformFiles(path));
    } else if (entry.name.endsWith('.tf')) {
      out.push(path);
    }
  }
  return out.sort();
}

/** Unwraps the one-element array hcl2json uses for a single block. */
export function block(value: Hcl): Hcl {
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

/**
 * Parses every `.tf` file and merges them. Throws when a file does not parse,
 * or when a resource, variable, output or local is declared twice (Terraform
 * would refuse the module too).
 */
export async function loadTerraform(dir = TERRAFORM_DIR): Promise<Terraform> {
  const tf: Terraform = { files: [], resource: {}, data: {}, variable: {}, output: {}, locals: {}, terraform: [], provider: {} };
  for (const path of terraformFiles(dir)) {
    const text = readFileSync(path, 'utf8');
    const name = relative(REPO_ROOT, path);
    const json = await parse(name, text);
    tf.files.push({ path: name, text, json });
    for (const kind of ['resource', 'data'] as const) {
      for (const [type, byName] of Object.entries<Record<string, Hcl>>(json[kind] ?? {})) {
        tf[kind][type] ??= {};
        for (const [n, body] of Object.entries(byName)) {
          if (tf[kind][type][n]) throw new Error(`${kind} ${type}.${n} is declared twice (${name})`);
          tf[kind][type][n] = block(body);
        }
      }
    }
    for (const kind of ['variable', 'output', 'provider'] as const) {
      for (const [n, body] of Object.entries(json[kind] ?? {})) {
        if (tf[kind][n]) throw new Error(`${kind} ${n} is declared twice (${name})`);
        tf[kind][n] = block(body);
      }
    }
    for (const locals of (json.locals ?? []) as Record<string, Hcl>[]) {
      for (const [n, value] of Object.entries(locals)) {
        if (n in tf.locals) throw new Error(`local ${n} is declared twice (${name})`);
        tf.locals[n] = value;
      }
    }
    tf.terraform.push(...((json.terraform ?? []) as Hcl[]));
  }
  return tf;
}

/** The resource `type.name`, or a failure naming what is missing. */
export function resource(tf: Terraform, type: string, name: string): Hcl {
  const found = tf.resource[type]?.[name];
  if (!found) throw new Error(`resource ${type}.${name} is not declared in terraform/`);
  return found;
}

/** Every resource of a type, as [name, body] pairs. */
export function resourcesOf(tf: Terraform, type: string): [string, Hcl][] {
  return Object.entries(tf.resource[type] ?? {});
}

/**
 * Every google_firestore_field as the fields it configures: one written out,
 * or one per field of a `for_each` over a local map of collection → field
 * names (the shape the production clock reads too: sim/production/terraform.ts).
 */
export function firestoreFields(tf: Terraform): Hcl[] {
  return resourcesOf(tf, 'google_firestore_field').flatMap(([, f]) => expandForEach(f, tf.locals));
}

/**
 * Every string value anywhere under `value` whose key is one of `keys`,
 * with the path that leads to it (for messages).
 */
export function stringsUnderKeys(value: Hcl, keys: ReadonlySet<string>, path = ''): { path: string; value: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsUnderKeys(v, keys, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => {
      const here = path ? `${path}.${k}` : k;
      if (keys.has(k)) {
        const values = Array.isArray(v) ? v : [v];
        return values.filter((s): s is string => typeof s === 'string').map((s) => ({ path: here, value: s }));
      }
      return stringsUnderKeys(v, keys, here);
    });
  }
  return [];
}

/** `${var.name}` or `${tostring(var.name)}` → `name`; anything else → undefined. */
export function variableFed(expression: unknown): string | undefined {
  if (typeof expression !== 'string') return undefined;
  return /^\$\{(?:tostring\()?var\.(\w+)\)?\}$/.exec(expression)?.[1];
}
