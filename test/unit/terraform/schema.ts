/**
 * The schema of every resource, data source and provider block terraform/
 * uses, read from the prebuilt CDKTF bindings on npm: `@cdktf/provider-google`
 * 16.12.1 is generated from hashicorp/google 6.50.0 and
 * `@cdktf/provider-archive` 11.0.1 from hashicorp/archive 2.7.1,
 * `@cdktf/provider-time` 11.0.1 from hashicorp/time 0.13.1.
 *
 * The compiled bindings carry their generated TypeScript in an inline source
 * map. That source says, for every argument and attribute of every block,
 * its Terraform name, whether it is required, optional or computed
 * (`// name - computed: x, optional: y, required: z`), whether a nested type is
 * one block or a list/set of them (`new XOutputReference(...)` or
 * `new XList(..., wrapsSet)`), and whether it is written as a block
 * (`isBlock` in the `...ToHclTerraform` functions). It is read with the
 * TypeScript compiler at test time, only for the types terraform/ names
 * (about 30 of the provider's 1,470, under two seconds), so there is no
 * generated copy to drift from the packages.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** What a schema says about one argument or attribute. */
export interface AttributeSchema {
  /** May be set in configuration (optional or required, not computed-only). */
  settable: boolean;
  required: boolean;
  /** How a reference may continue after it: `[i]` into a list, `["k"]` into a map, nothing after a scalar. */
  kind: 'scalar' | 'list' | 'map' | 'any';
}

/** What a schema says about one nested block (or nested object attribute). */
export interface BlockSchema {
  settable: boolean;
  required: boolean;
  /** Several may be written (a list or set block); false for a block of at most one. */
  repeated: boolean;
  /** Written `name { ... }` (block) or `name = { ... }` (object attribute). */
  syntax: 'block' | 'attribute';
  /** A set cannot be indexed (`x[0]`); a list, even of one block, must be. A struct is an object: `x.y`. */
  collection: 'list' | 'set' | 'struct';
  body: BodySchema;
}

/** The arguments, attributes and nested blocks of one block body. */
export interface BodySchema {
  attributes: Map<string, AttributeSchema>;
  blocks: Map<string, BlockSchema>;
}

/** One provider package and the Terraform provider it was generated from. */
interface ProviderPackage {
  npm: string;
  /** Terraform type prefix, e.g. `google` for `google_pubsub_topic`. */
  prefix: string;
}

const PACKAGES: ProviderPackage[] = [
  { npm: '@cdktf/provider-google', prefix: 'google' },
  { npm: '@cdktf/provider-archive', prefix: 'archive' },
  { npm: '@cdktf/provider-time', prefix: 'time' },
];

/** Type prefixes of the providers whose schemas are known (`google`, `archive`, `time`). */
export const PROVIDER_PREFIXES = PACKAGES.map((p) => p.prefix);

const require = createRequire(import.meta.url);

function packageRoot(npm: string): string {
  return dirname(require.resolve(`${npm}/package.json`));
}

/** A schema that cannot be read: the type does not exist in the provider, or the bindings changed shape. */
export class SchemaUnavailableError extends Error {
  override readonly name = 'SchemaUnavailableError';
}

/** The generated TypeScript of one binding module, from the inline source map of its compiled index.js. */
function generatedSource(file: string): string {
  const compiled = readFileSync(file, 'utf8');
  const map = /sourceMappingURL=data:application\/json;base64,(\S+)\s*$/.exec(compiled);
  if (!map) throw new SchemaUnavailableError(`${file} has no inline source map`);
  const parsed = JSON.parse(Buffer.from(map[1]!, 'base64').toString('utf8')) as { sourcesContent?: string[] };
  const source = parsed.sourcesContent?.[0];
  if (!source) throw new SchemaUnavailableError(`the source map of ${file} does not embed its source`);
  return source;
}

const MARKER = /^\/\/ (\w+) - computed: (true|false), optional: (true|false), required: (true|false)$/;

/** Reads every block body of one generated module, starting from its resource, data source or provider class. */
class ModuleReader {
  private readonly classes = new Map<string, ts.ClassDeclaration>();
  private readonly functions = new Map<string, ts.FunctionDeclaration>();
  private readonly bodies = new Map<string, BodySchema>();
  readonly mainClass: ts.ClassDeclaration;
  readonly tfType: string;
  readonly providerVersion: string | undefined;

  constructor(
    private readonly path: string,
    private readonly source: string,
  ) {
    const file = ts.createSourceFile(path, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    let main: ts.ClassDeclaration | undefined;
    let tfType: string | undefined;
    for (const statement of file.statements) {
      if (ts.isClassDeclaration(statement) && statement.name) {
        this.classes.set(statement.name.text, statement);
        for (const member of statement.members) {
          if (ts.isPropertyDeclaration(member) && member.name.getText(file) === 'tfResourceType' && member.initializer && ts.isStringLiteral(member.initializer)) {
            main = statement;
            tfType = member.initializer.text;
          }
        }
      } else if (ts.isFunctionDeclaration(statement) && statement.name) {
        this.functions.set(statement.name.text, statement);
      }
    }
    if (!main || !tfType) throw new SchemaUnavailableError(`${path}: no class with a tfResourceType`);
    this.mainClass = main;
    this.tfType = tfType;
    this.providerVersion = /providerVersion: '([^']+)'/.exec(source)?.[1];
  }

  /** The body of the module's main class (the resource, data source or provider itself). */
  main(): BodySchema {
    return this.body(this.mainClass.name!.text, this.hclKinds(this.methodObject(this.mainClass, 'synthesizeHclAttributes')));
  }

  /** `{ tf_name: { isBlock, type } }` of a `...ToHclTerraform` function or method, by Terraform name. */
  private hclKinds(attrs: ts.ObjectLiteralExpression | undefined): Map<string, { isBlock: boolean; type: string }> {
    const kinds = new Map<string, { isBlock: boolean; type: string }>();
    for (const property of attrs?.properties ?? []) {
      if (!ts.isPropertyAssignment(property) || !ts.isObjectLiteralExpression(property.initializer)) continue;
      const fields = new Map(
        property.initializer.properties.filter(ts.isPropertyAssignment).map((p) => [p.name.getText(), p.initializer.getText()] as const),
      );
      kinds.set(property.name.getText().replace(/^"|"$/g, ''), { isBlock: fields.get('isBlock') === 'true', type: (fields.get('type') ?? '').replace(/"/g, '') });
    }
    return kinds;
  }

  /** The object literal assigned to `attrs` in a function or method body. */
  private attrsObject(body: ts.Block | undefined): ts.ObjectLiteralExpression | undefined {
    for (const statement of body?.statements ?? []) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const declaration of statement.declarationList.declarations) {
        if (declaration.name.getText() === 'attrs' && declaration.initializer && ts.isObjectLiteralExpression(declaration.initializer)) return declaration.initializer;
      }
    }
    return undefined;
  }

  private methodObject(cls: ts.ClassDeclaration, name: string): ts.ObjectLiteralExpression | undefined {
    const method = cls.members.find((m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m) && m.name.getText() === name);
    return this.attrsObject(method?.body);
  }

  /**
   * The body of a class (main class or `XOutputReference`): one entry per
   * `// name - computed...` marker, its kind read from the members up to the
   * next marker.
   */
  private body(className: string, hcl: Map<string, { isBlock: boolean; type: string }>): BodySchema {
    const cached = this.bodies.get(className);
    if (cached) return cached;
    const cls = this.classes.get(className);
    if (!cls) throw new SchemaUnavailableError(`${this.path}: class ${className} is missing`);
    const body: BodySchema = { attributes: new Map(), blocks: new Map() };
    this.bodies.set(className, body);

    type Entry = { name: string; computed: boolean; optional: boolean; required: boolean; text: string };
    const entries: Entry[] = [];
    for (const member of cls.members) {
      const comments = ts.getLeadingCommentRanges(this.source, member.getFullStart()) ?? [];
      for (const range of comments) {
        const marker = MARKER.exec(this.source.slice(range.pos, range.end).trim());
        if (marker) entries.push({ name: marker[1]!, computed: marker[2] === 'true', optional: marker[3] === 'true', required: marker[4] === 'true', text: '' });
      }
      const current = entries.at(-1);
      if (current) current.text += member.getText() + '\n';
    }

    for (const entry of entries) {
      const settable = entry.optional || entry.required;
      const nested = /new (\w+(?:\.\w+)?)\(this, "(\w+)"(?:, (true|false))?\)/.exec(entry.text);
      if (nested && !nested[1]!.startsWith('cdktf.')) {
        const typeName = nested[1]!;
        const repeated = typeName.endsWith('List') || typeName.endsWith('Map');
        const structName = typeName.replace(/(OutputReference|List|Map)$/, '');
        const hclKind = hcl.get(entry.name);
        const collection = hclKind?.type === 'struct' ? 'struct' : nested[3] === 'true' || hclKind?.type === 'set' ? 'set' : 'list';
        body.blocks.set(entry.name, {
          settable,
          required: entry.required,
          repeated,
          syntax: settable && hclKind && !hclKind.isBlock ? 'attribute' : 'block',
          collection,
          body: this.body(`${structName}OutputReference`, this.hclKinds(this.attrsObject(this.functions.get(`${lowerFirst(structName)}ToHclTerraform`)?.body))),
        });
        continue;
      }
      const getter = /this\.get(\w*)Attribute\('(\w+)'\)/.exec(entry.text)?.[1];
      const kind: AttributeSchema['kind'] = nested
        ? 'map' // cdktf.StringMap and friends: computed maps
        : getter === undefined || getter === 'Any'
          ? 'any'
          : /Map$/.test(getter)
            ? 'map'
            : /List$/.test(getter)
              ? 'list'
              : 'scalar';
      body.attributes.set(entry.name, { settable, required: entry.required, kind });
    }
    return body;
  }
}

function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** `google_cloudfunctions2_function` → `cloudfunctions2-function` (the binding's folder). */
function bindingFolder(prefix: string, type: string, kind: 'resource' | 'data'): string {
  const rest = type.slice(prefix.length + 1).replace(/_/g, '-');
  return kind === 'data' ? `data-${type.replace(/_/g, '-')}` : rest;
}

export type SchemaKind = 'resource' | 'data' | 'provider';

const schemas = new Map<string, BodySchema>();

function providerPackage(type: string, kind: SchemaKind): ProviderPackage {
  const found = PACKAGES.find((p) => (kind === 'provider' ? type === p.prefix : type.startsWith(`${p.prefix}_`)));
  if (!found) throw new SchemaUnavailableError(`no provider binding package for ${kind} type ${type} (checked: ${PACKAGES.map((p) => p.npm).join(', ')})`);
  return found;
}

/**
 * The schema of a resource type, data source type or provider. Throws
 * {@link SchemaUnavailableError} when the provider has no such type.
 */
export function schemaOf(type: string, kind: SchemaKind): BodySchema {
  const key = `${kind}:${type}`;
  const cached = schemas.get(key);
  if (cached) return cached;
  // google-beta takes the same provider arguments as google (one provider, two builds).
  if (kind === 'provider' && type === 'google-beta') return schemaOf('google', 'provider');
  const beta = kind === 'resource' ? GOOGLE_BETA_ONLY[type] : undefined;
  if (beta) return beta.schema;
  const pkg = providerPackage(type, kind);
  const folder = kind === 'provider' ? 'provider' : bindingFolder(pkg.prefix, type, kind);
  const file = join(packageRoot(pkg.npm), 'lib', folder, 'index.js');
  if (!existsSync(file)) throw new SchemaUnavailableError(`${kind} type ${type} does not exist in ${pkg.npm} (no lib/${folder})`);
  const reader = new ModuleReader(file, generatedSource(file));
  const expected = kind === 'provider' ? pkg.prefix : type;
  if (reader.tfType !== expected) throw new SchemaUnavailableError(`lib/${folder} of ${pkg.npm} describes ${reader.tfType}, not ${expected}`);
  const body = reader.main();
  schemas.set(key, body);
  return body;
}

/** The Terraform provider version a binding package was generated from (e.g. 6.50.0 for provider-google). */
export function generatedFromVersion(prefix: string): string {
  const pkg = providerPackage(prefix, 'provider');
  const file = join(packageRoot(pkg.npm), 'lib', 'provider', 'index.js');
  const version = new ModuleReader(file, generatedSource(file)).providerVersion;
  if (!version) throw new SchemaUnavailableError(`${pkg.npm} does not say which provider version it was generated from`);
  return version;
}

// ---------------------------------------------------------------- google-beta

const attribute = (a: Partial<AttributeSchema>): AttributeSchema => ({ settable: true, required: false, kind: 'scalar', ...a });

/**
 * Resource types terraform/ takes from hashicorp/google-beta because the GA
 * provider (and so `@cdktf/provider-google`) does not have them. No CDKTF
 * binding of google-beta is installed, so each schema is written here from the
 * provider's own source, named with the file and commit it was read from; a
 * test checks the GA bindings still lack each type (or the entry must go) and
 * that every resource of these types says `provider = google-beta`.
 */
export const GOOGLE_BETA_ONLY: Record<string, { source: string; schema: BodySchema }> = {
  google_project_service_identity: {
    source:
      'hashicorp/terraform-provider-google-beta google-beta/services/resourcemanager/resource_project_service_identity.go (commit 7d060ee735ae918908fe3f1026ad57befb73329b): service Required, project Optional+Computed, email and member Computed',
    schema: {
      attributes: new Map([
        ['service', attribute({ required: true })],
        ['project', attribute({})],
        ['email', attribute({ settable: false })],
        ['member', attribute({ settable: false })],
        ['id', attribute({ settable: false })],
      ]),
      blocks: new Map([
        [
          'timeouts',
          {
            settable: true,
            required: false,
            repeated: false,
            syntax: 'block',
            collection: 'struct',
            body: { attributes: new Map([['create', attribute({})], ['read', attribute({})], ['delete', attribute({})]]), blocks: new Map() },
          },
        ],
      ]),
    },
  },
};

/** Whether the GA bindings have a resource type (used to keep {@link GOOGLE_BETA_ONLY} honest). */
export function gaBindingsHave(type: string): boolean {
  return existsSync(join(packageRoot('@cdktf/provider-google'), 'lib', bindingFolder('google', type, 'resource'), 'index.js'));
}
