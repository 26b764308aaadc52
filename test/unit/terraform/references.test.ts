/**
 * What `terraform validate` would catch first, checked without the provider:
 * every variable, local, resource and data source a file refers to is
 * declared, and every declared variable is used.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { loadTerraform, type Terraform } from './hcl.ts';

let tf: Terraform;

// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

/**
 * The code of every file, without `#` comments (which may name things loosely)
 * and without `moved` and `removed` blocks (which name addresses that no longer exist, on purpose).
 */
function code(files: Terraform['files']): string {
  return files.map((f) => f.text.replace(/^(moved|removed) \{[\s\S]*?^\}$/gm, '').replace(/(^|\s)#.*$/gm, '$1')).join('\n');
}

function referenced(pattern: RegExp, text: string): Set<string> {
  return new Set([...text.matchAll(pattern)].map((m) => m.slice(1).join('.')));
}

describe('references resolve', () => {
  test('every var.<name> refers to a declared variable', () => {
    const undeclared = [...referenced(/\bvar\.(\w+)/g, code(tf.files))].filter((name) => !(name in tf.variable));
    expect(undeclared).toEqual([]);
  });

  test('every local.<name> refers to a declared local', () => {
    const undeclared = [...referenced(/\blocal\.(\w+)/g, code(tf.files))].filter((name) => !(name in tf.locals));
    expect(undeclared).toEqual([]);
  });

  test('every reference to a resource or data source names one that is declared', () => {
    const text = code(tf.files);
    const resources = [...referenced(/(?<![\w."])((?:google|time)_[a-z0-9_]+)\.([a-z0-9_]+)\b/g, text)];
    const undeclaredResources = resources.filter((ref) => {
      const [type, name] = ref.split('.') as [string, string];
      return !tf.resource[type]?.[name];
    });
    const data = [...referenced(/\bdata\.([a-z0-9_]+)\.([a-z0-9_]+)\b/g, text)];
    const undeclaredData = data.filter((ref) => {
      const [type, name] = ref.split('.') as [string, string];
      return !tf.data[type]?.[name];
    });
    expect(resources.length).toBeGreaterThan(20);
    expect(undeclaredResources).toEqual([]);
    expect(undeclaredData).toEqual([]);
  });

  test('every declared variable is used outside its own declaration', () => {
    const outsideVariables = code(tf.files.filter((f) => !f.path.endsWith('variables.tf')));
    const unused = Object.keys(tf.variable).filter((name) => !new RegExp(`\\bvar\\.${name}\\b`).test(outsideVariables));
    expect(unused).toEqual([]);
  });
});
