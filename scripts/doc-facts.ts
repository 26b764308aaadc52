/**
 * Facts of the manual that are generated, never copied: the CLI reference
 * (docs/cli.md, from the commander tree `restock` really parses) and the
 * Firestore indexes production needs (docs/operate.md, from
 * terraform/firestore.tf). Each lives between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->` markers; `npm run docs:facts` rewrites them and
 * test/unit/docs/facts.test.ts fails when a page and its source disagree.
 * docs/contributing.md lists which facts are generated and which are tested.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argument, Command, Option } from 'commander';
import { buildProgram } from '../cli/main.ts';
import { block, firestoreFields, loadTerraform, resourcesOf, type Hcl, type Terraform } from '../test/unit/terraform/hcl.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The CLI's command tree, built as `restock` builds it, with streams that go nowhere and no connection. */
export function cliProgram(): Command {
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, confirm: async () => undefined };
  return buildProgram(
    {
      io,
      ops: () => Promise.reject(new Error('the documentation never connects')),
      nowMs: () => 0,
      sleep: async () => undefined,
    },
    io,
  );
}

/** Every command that does something (groups such as `product` are reached through theirs), with its full name. */
export function cliCommands(program: Command = cliProgram()): { path: string; command: Command }[] {
  const out: { path: string; command: Command }[] = [];
  const walk = (command: Command, prefix: string) => {
    for (const sub of command.commands) {
      const path = `${prefix}${sub.name()}`;
      if (sub.commands.length) walk(sub, `${path} `);
      else out.push({ path, command: sub });
    }
  };
  walk(program, '');
  return out;
}

// A table cell: a pipe would end it.
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
// Prose in a cell: `<name>` outside code would be taken for an HTML tag.
const prose = (text: string) => cell(text).replace(/<([^>\s]+)>/g, '`<$1>`');

function optionRow(o: Option): string {
  const notes = [o.mandatory ? 'required' : '', o.argChoices ? `one of ${o.argChoices.map((c) => `\`${c}\``).join(', ')}` : '', o.defaultValue !== undefined ? `default \`${String(o.defaultValue)}\`` : '']
    .filter(Boolean)
    .join('; ');
  return `| \`${cell(o.flags)}\` | ${prose(o.description)}${notes ? ` (${notes})` : ''} |`;
}

/** docs/cli.md's reference: every command, its arguments and options, from the parser itself. */
export function cliReference(program: Command = cliProgram()): string {
  const lines: string[] = [];
  lines.push('Global options, before the command:', '', '| option | meaning |', '| --- | --- |');
  for (const o of program.options) lines.push(optionRow(o));
  for (const { path, command } of cliCommands(program)) {
    const argument = (a: Argument) => (a.required ? `<${a.name()}${a.variadic ? '...' : ''}>` : `[${a.name()}${a.variadic ? '...' : ''}]`);
    const args = command.registeredArguments.map(argument).join(' ');
    lines.push('', `### \`restock ${path}${args ? ` ${args}` : ''}\``, '', `${prose(command.description())}.`, '');
    if (command.registeredArguments.length === 0 && command.options.length === 0) continue;
    lines.push('| argument or option | meaning |', '| --- | --- |');
    for (const a of command.registeredArguments) lines.push(`| \`${argument(a)}\` | ${prose(a.description)} |`);
    for (const o of command.options) lines.push(optionRow(o));
  }
  return lines.join('\n');
}

/** One composite or field index terraform/ creates, as a reader lists it. */
export interface IndexFact {
  collection: string;
  scope: 'COLLECTION' | 'COLLECTION_GROUP';
  fields: string;
}

/** The indexes terraform/firestore.tf creates beyond Firestore's automatic ones. */
export function firestoreIndexes(tf: Terraform): IndexFact[] {
  const out: IndexFact[] = [];
  for (const [, index] of resourcesOf(tf, 'google_firestore_index')) {
    const fields = ([] as Hcl[]).concat(index.fields ?? []).map((f: Hcl) => `${f.field_path}${f.order === 'DESCENDING' ? ' desc' : f.array_config ? ' (array)' : ''}`);
    out.push({ collection: index.collection, scope: index.query_scope ?? 'COLLECTION', fields: fields.join(', ') });
  }
  for (const field of firestoreFields(tf)) {
    const config = field.index_config ? block(field.index_config) : undefined;
    const groupIndexes = ([] as Hcl[]).concat(config?.indexes ?? []).filter((i: Hcl) => i.query_scope === 'COLLECTION_GROUP');
    if (groupIndexes.length === 0) continue;
    const kinds = groupIndexes.map((i: Hcl) => (i.array_config ? 'array' : (i.order ?? 'ASCENDING').toLowerCase())).join(', ');
    out.push({ collection: field.collection, scope: 'COLLECTION_GROUP', fields: `${field.field} (${kinds})` });
  }
  return out.sort((a, b) => a.collection.localeCompare(b.collection) || a.fields.localeCompare(b.fields));
}

/** docs/operate.md's list of the indexes production needs. */
export function indexList(tf: Terraform): string {
  return [
    '| collection | scope | fields |',
    '| --- | --- | --- |',
    ...firestoreIndexes(tf).map((i) => `| \`${i.collection}\` | ${i.scope === 'COLLECTION' ? 'collection' : 'collection group'} | \`${i.fields}\` |`),
  ].join('\n');
}

/** Where each generated block lives. */
export const GENERATED = {
  'cli-reference': 'docs/cli.md',
  'firestore-indexes': 'docs/operate.md',
} as const;

export type GeneratedName = keyof typeof GENERATED;

/** Every generated block's content, from the code and terraform/ as they are (`tf`: terraform/ already parsed, which is slow). */
export async function generatedBlocks(tf?: Terraform): Promise<Record<GeneratedName, string>> {
  tf ??= await loadTerraform();
  return { 'cli-reference': cliReference(), 'firestore-indexes': indexList(tf) };
}

const fence = (name: string) => new RegExp(`(<!-- generated:${name} [^>]*-->\\n)([\\s\\S]*?)\\n?<!-- /generated:${name} -->`);

/** The text between a page's markers for `name`, or undefined when the page has none. */
export function generatedSection(page: string, name: GeneratedName): string | undefined {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const m = fence(name).exec(text);
  return m?.[2];
}

async function write(): Promise<void> {
  const blocks = await generatedBlocks();
  for (const [name, page] of Object.entries(GENERATED) as [GeneratedName, string][]) {
    const path = join(ROOT, page);
    const text = readFileSync(path, 'utf8');
    if (!fence(name).test(text)) throw new Error(`${page} has no generated:${name} markers`);
    writeFileSync(path, text.replace(fence(name), (_all, open: string) => `${open}${blocks[name]}\n<!-- /generated:${name} -->`));
    console.log(`wrote ${page} (${name})`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await write();
