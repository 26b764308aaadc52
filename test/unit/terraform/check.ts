/**
 * Checks parsed Terraform files against the provider schemas of schema.ts:
 * what `terraform validate` would refuse, found without the provider binary.
 *
 * Five kinds of mistake are reported, each with the file and the address of
 * the block: an argument the schema does not know, a required argument or
 * block left out, a block of at most one written twice, something written at
 * the wrong level or in the wrong syntax (a block as `x = {}`, an argument of
 * a nested block at the top), and a reference to an attribute the resource or
 * data source does not have. Arguments the schema marks computed-only are
 * reported as unknown too: Terraform refuses to set them.
 */
import { block, type Hcl } from './hcl.ts';
import { PROVIDER_PREFIXES, schemaOf, SchemaUnavailableError, type BlockSchema, type BodySchema, type SchemaKind } from './schema.ts';

export type ProblemKind = 'unknown-type' | 'unknown-argument' | 'missing-required' | 'repeated-single-block' | 'wrong-nesting' | 'unknown-attribute';

/** One mistake, located. */
export interface Problem {
  kind: ProblemKind;
  file: string;
  /** `google_pubsub_subscription.fanout.push_config` and the like. */
  where: string;
  message: string;
}

/** A parsed file, as hcl.ts loads it. */
export interface ParsedFile {
  path: string;
  json: Record<string, Hcl>;
}

const RESOURCE_META = new Set(['count', 'for_each', 'depends_on', 'provider', 'lifecycle', 'provisioner', 'connection']);
const PROVIDER_META = new Set(['alias', 'version']);

const isObject = (v: unknown): v is Record<string, Hcl> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isBlockList = (v: unknown): v is Record<string, Hcl>[] => Array.isArray(v) && v.length > 0 && v.every(isObject);

/** One resource or data source block of a file: `address` is `type.name` or `data.type.name`. */
export interface Declared {
  kind: 'resource' | 'data';
  type: string;
  address: string;
  body: Hcl;
}

/** Every resource and data source block of a parsed file. */
export function declaredIn(file: ParsedFile): Declared[] {
  return (['resource', 'data'] as const).flatMap((kind) =>
    Object.entries<Record<string, Hcl>>(file.json[kind] ?? {}).flatMap(([type, byName]) =>
      Object.entries(byName).flatMap(([name, bodies]) =>
        (bodies as Hcl[]).map((body) => ({ kind, type, address: `${kind === 'data' ? 'data.' : ''}${type}.${name}`, body })),
      ),
    ),
  );
}

/** Every place `name` is an argument or block in a schema, for "it belongs in ..." hints. */
function whereDefined(body: BodySchema, name: string, path: string[] = []): string[] {
  const here = body.attributes.get(name)?.settable || body.blocks.get(name)?.settable ? [path.join('.') || '(top level)'] : [];
  return [...here, ...[...body.blocks].filter(([, b]) => b.settable).flatMap(([n, b]) => whereDefined(b.body, name, [...path, n]))];
}

class Checker {
  readonly problems: Problem[] = [];
  constructor(private file: string) {}

  private report(kind: ProblemKind, where: string, message: string) {
    this.problems.push({ kind, file: this.file, where, message });
  }

  /** Checks one block body (top level when `top` names its schema root, for hints and meta-arguments). */
  body(schema: BodySchema, value: Record<string, Hcl>, where: string, root: BodySchema, meta: ReadonlySet<string>) {
    const present = new Set(Object.keys(value));
    for (const [key, v] of Object.entries(value)) {
      if (meta.has(key)) continue;
      if (key === 'dynamic') {
        for (const [name, dynamics] of Object.entries<Hcl>(v)) {
          present.add(name);
          const nested = schema.blocks.get(name);
          if (!nested?.settable || nested.syntax !== 'block') {
            this.unknown(schema, root, name, where, 'dynamic block');
            continue;
          }
          for (const dynamic of dynamics as Hcl[]) {
            const content = block(dynamic.content);
            if (!isObject(content)) {
              this.report('wrong-nesting', `${where}.dynamic "${name}"`, `dynamic "${name}" has no content block`);
              continue;
            }
            this.body(nested.body, content, `${where}.${name}`, root, new Set());
          }
        }
        continue;
      }
      const nested = schema.blocks.get(key);
      if (nested?.settable) {
        this.nested(nested, key, v, where, root);
        continue;
      }
      const attribute = schema.attributes.get(key);
      if (attribute?.settable) {
        if (isBlockList(v) && attribute.kind !== 'any') {
          this.report('wrong-nesting', `${where}.${key}`, `${key} is an argument, not a block: write \`${key} = ...\``);
        }
        continue;
      }
      this.unknown(schema, root, key, where, 'argument');
    }
    for (const [name, a] of schema.attributes) {
      if (a.required && !present.has(name)) this.report('missing-required', where, `the required argument ${name} is missing`);
    }
    for (const [name, b] of schema.blocks) {
      if (b.required && !present.has(name)) this.report('missing-required', where, `the required block ${name} is missing`);
    }
  }

  private nested(nested: BlockSchema, key: string, v: Hcl, where: string, root: BodySchema) {
    const here = `${where}.${key}`;
    if (nested.syntax === 'attribute') {
      // An object attribute (`x = {...}`): hcl2json cannot tell `x = [{...}]` from blocks, so only the contents are checked.
      for (const item of Array.isArray(v) ? v : [v]) if (isObject(item)) this.body(nested.body, item, here, root, new Set());
      return;
    }
    if (!isBlockList(v)) {
      this.report('wrong-nesting', here, `${key} is a block: write \`${key} { ... }\`, not \`${key} = ...\``);
      return;
    }
    if (!nested.repeated && v.length > 1) this.report('repeated-single-block', here, `${key} may appear at most once, but is written ${v.length} times`);
    for (const item of v) this.body(nested.body, item, here, root, new Set());
  }

  private unknown(schema: BodySchema, root: BodySchema, key: string, where: string, what: string) {
    const readOnly = schema.attributes.get(key) ?? schema.blocks.get(key);
    if (readOnly) {
      this.report('unknown-argument', `${where}.${key}`, `${key} is computed by the provider and cannot be set`);
      return;
    }
    const elsewhere = whereDefined(root, key);
    if (elsewhere.length > 0) {
      this.report('wrong-nesting', `${where}.${key}`, `${key} is not allowed here; it belongs in ${elsewhere.join(' or ')}`);
      return;
    }
    this.report('unknown-argument', `${where}.${key}`, `unknown ${what} ${key}`);
  }

  /** Looks up a schema, reporting an unknown type instead of throwing. */
  schema(type: string, kind: SchemaKind, where: string): BodySchema | undefined {
    try {
      return schemaOf(type, kind);
    } catch (err) {
      if (!(err instanceof SchemaUnavailableError)) throw err;
      this.report('unknown-type', where, err.message);
      return undefined;
    }
  }
}

/** Every resource, data source and provider block of the files, checked against its schema. */
export function checkSchemas(files: ParsedFile[]): Problem[] {
  const problems: Problem[] = [];
  for (const file of files) {
    const checker = new Checker(file.path);
    for (const { kind, type, address, body } of declaredIn(file)) {
      const schema = checker.schema(type, kind, address);
      if (schema) checker.body(schema, body, address, schema, RESOURCE_META);
    }
    for (const [type, bodies] of Object.entries<Hcl>(file.json.provider ?? {})) {
      const schema = checker.schema(type, 'provider', `provider.${type}`);
      if (!schema) continue;
      for (const body of bodies as Hcl[]) checker.body(schema, body, `provider.${type}`, schema, PROVIDER_META);
    }
    problems.push(...checker.problems);
  }
  return problems;
}

// ---------------------------------------------------------------- references

/**
 * The expressions inside a template string: each `${...}`, with string
 * literals inside it blanked out (their own `${...}` returned separately), so
 * text such as a description never looks like a reference.
 */
export function expressionsIn(template: string): string[] {
  const out: string[] = [];
  const readExpression = (start: number): number => {
    let depth = 0;
    let code = '';
    let i = start;
    while (i < template.length) {
      const c = template[i]!;
      if (c === '"') {
        let j = i + 1;
        while (j < template.length && template[j] !== '"') {
          if (template[j] === '\\') j += 2;
          else if (template.startsWith('$${', j)) j += 3;
          else if (template.startsWith('${', j)) j = readExpression(j + 2);
          else j++;
        }
        code += '""';
        i = j + 1;
        continue;
      }
      if (c === '{') depth++;
      if (c === '}') {
        if (depth === 0) {
          out.push(code);
          return i + 1;
        }
        depth--;
      }
      code += c;
      i++;
    }
    throw new Error(`unterminated expression in ${template}`);
  };
  let i = 0;
  while (i < template.length) {
    if (template.startsWith('$${', i)) i += 3;
    else if (template.startsWith('${', i)) i = readExpression(i + 2);
    else i++;
  }
  return out;
}

type Segment = { name: string } | { index: string };

/** Parses `.a[0]["k"].b` from `start`; stops at the first character that continues neither. */
function segmentsAt(code: string, start: number): { segments: Segment[]; end: number } {
  const segments: Segment[] = [];
  let i = start;
  for (;;) {
    const name = /^\.([A-Za-z_][\w-]*|\*)/.exec(code.slice(i));
    if (name) {
      segments.push(name[1] === '*' ? { index: '*' } : { name: name[1]! });
      i += name[0].length;
      continue;
    }
    if (code[i] === '[') {
      let depth = 0;
      let j = i;
      for (; j < code.length; j++) {
        if (code[j] === '[') depth++;
        if (code[j] === ']' && --depth === 0) break;
      }
      segments.push({ index: code.slice(i + 1, j).trim() });
      i = j + 1;
      continue;
    }
    return { segments, end: i };
  }
}

/** Why a path does not exist in a schema, or undefined when it does. */
function resolvePath(body: BodySchema, segments: Segment[], path: string): string | undefined {
  const [first, ...rest] = segments;
  if (!first) return undefined;
  if (!('name' in first)) return `${path || 'it'} is an object: [${first.index}] does not apply`;
  const here = path ? `${path}.${first.name}` : first.name;
  const attribute = body.attributes.get(first.name);
  if (attribute) {
    if (attribute.kind === 'any' || rest.length === 0) return undefined;
    const [next, ...after] = rest;
    if (attribute.kind === 'scalar') return `${here} is a single value: it has no ${'name' in next! ? `.${next.name}` : `[${next!.index}]`}`;
    if (attribute.kind === 'list' && 'name' in next! && next.name !== '*') return `${here} is a list: index it`;
    // One step into a list or map; nothing after that can be checked against the schema.
    return after.length > 0 && attribute.kind === 'list' && 'name' in after[0]! ? `${here} holds plain values: they have no .${after[0].name}` : undefined;
  }
  const nested = body.blocks.get(first.name);
  if (!nested) return `${here} does not exist`;
  if (rest.length === 0) return undefined;
  if (nested.collection === 'struct') return resolvePath(nested.body, rest, here);
  const [next, ...after] = rest;
  if ('name' in next!) return `${here} is a ${nested.collection} of blocks: write ${here}[0].${next.name}${nested.collection === 'set' ? ' (after tolist())' : ''}`;
  if (nested.collection === 'set' && next!.index !== '*') return `${here} is a set: it cannot be indexed with [${next!.index}]`;
  return resolvePath(nested.body, after, `${here}[${next!.index}]`);
}

/** A reference to a resource or data source found in an expression. */
interface Reference {
  kind: 'resource' | 'data';
  type: string;
  name: string;
  segments: Segment[];
  text: string;
}

const PREFIXES = PROVIDER_PREFIXES.join('|');
const RESOURCE_REFERENCE = new RegExp(`(?<![\\w.\\]])(data\\.)?((?:${PREFIXES})_[a-z0-9_]+)\\.([A-Za-z_][\\w-]*)`, 'g');
const LOOP = new RegExp(`\\bfor\\s+(\\w+)(?:\\s*,\\s*(\\w+))?\\s+in\\s+(data\\.)?((?:${PREFIXES})_[a-z0-9_]+)\\.(\\w+)\\s*:`, 'g');

function referencesIn(code: string): { references: Reference[]; loopVariables: Map<string, Reference> } {
  const references: Reference[] = [];
  for (const m of code.matchAll(RESOURCE_REFERENCE)) {
    const start = m.index + m[0].length;
    const { segments, end } = segmentsAt(code, start);
    references.push({ kind: m[1] ? 'data' : 'resource', type: m[2]!, name: m[3]!, segments, text: code.slice(m.index, end) });
  }
  // `for k, v in google_x.y : ... v.attr` binds v to one instance of google_x.y.
  const loopVariables = new Map<string, Reference>();
  for (const m of code.matchAll(LOOP)) {
    loopVariables.set((m[2] ?? m[1])!, { kind: m[3] ? 'data' : 'resource', type: m[4]!, name: m[5]!, segments: [], text: m[0] });
  }
  return { references, loopVariables };
}

/** Every string anywhere in a parsed value, with the path that leads to it. */
function stringsIn(value: Hcl, path: string): { path: string; value: string }[] {
  if (typeof value === 'string') return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v) => stringsIn(v, path));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => [...(k.includes('${') ? [{ path, value: k }] : []), ...stringsIn(v, `${path}.${k}`)]);
  return [];
}

/** Declared resources and data sources, and whether each has count or for_each. */
function declarations(files: ParsedFile[]): Map<string, { repeated: boolean }> {
  const declared = new Map<string, { repeated: boolean }>();
  for (const file of files) {
    for (const { address, body } of declaredIn(file)) declared.set(address, { repeated: body.count !== undefined || body.for_each !== undefined });
  }
  return declared;
}

/**
 * Every reference to an attribute of a resource or data source resolves in
 * its schema: the attribute exists, a list block is indexed, a set is not, a
 * single value is not walked into, and an instance of a resource with count
 * or for_each is picked before its attributes are read.
 */
export function checkReferences(files: ParsedFile[]): Problem[] {
  const problems: Problem[] = [];
  const declared = declarations(files);
  for (const file of files) {
    for (const { path, value } of stringsIn(file.json, '')) {
      for (const code of expressionsIn(value)) {
        const { references, loopVariables } = referencesIn(code);
        const where = path.replace(/^\.(resource|data)\./, '').replace(/\.0(?=\.|$)/g, '');
        const check = (ref: Reference, segments: Segment[], text: string, instance: boolean) => {
          const address = `${ref.kind === 'data' ? 'data.' : ''}${ref.type}.${ref.name}`;
          const declaration = declared.get(address);
          if (!declaration) return; // references.test.ts reports undeclared names
          let rest = segments;
          if (declaration.repeated && !instance) {
            if (rest.length === 0) return; // the whole collection (depends_on, for expressions)
            const [first] = rest;
            if ('name' in first!) {
              problems.push({ kind: 'unknown-attribute', file: file.path, where, message: `${text}: ${address} has count or for_each; pick an instance before .${first.name}` });
              return;
            }
            rest = rest.slice(1);
          }
          let schema: BodySchema;
          try {
            schema = schemaOf(ref.type, ref.kind);
          } catch (err) {
            if (err instanceof SchemaUnavailableError) return; // reported by checkSchemas
            throw err;
          }
          const why = resolvePath(schema, rest, address);
          if (why) problems.push({ kind: 'unknown-attribute', file: file.path, where, message: `${text}: ${why}` });
        };
        for (const ref of references) check(ref, ref.segments, ref.text, false);
        for (const [variable, ref] of loopVariables) {
          for (const m of code.matchAll(new RegExp(`(?<![\\w.])${variable}(?=[.\\[])`, 'g'))) {
            const { segments } = segmentsAt(code, m.index + variable.length);
            check(ref, segments, `${variable} (an instance of ${ref.type}.${ref.name})`, true);
          }
        }
      }
    }
  }
  return problems;
}
