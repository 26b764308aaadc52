/**
 * The manual tells the truth about facts that drift (issue 38). Each kind of
 * fact is either generated into the pages (`npm run docs:facts`, compared
 * here) or tested where it is written; docs/contributing.md lists which.
 * Every check reads every page of the manual (README.md and docs/*.md), so a
 * page added later is held to the same facts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { beforeAll, describe, expect, test } from 'vitest';
import { FUNCTION_NAMES } from '../../../lib/functions.ts';
import { SETTINGS } from '../../../lib/config.ts';
import { INSTRUMENT_SPECS } from '../../../lib/metrics/index.ts';
import { DEFAULT_SUBSCRIPTION } from '../../../emulators/stack/resources.ts';
import { openApiDocument } from '../../../lib/subscriptions/index.ts';
import { cliCommands, cliProgram, GENERATED, type GeneratedName, generatedBlocks, generatedSection } from '../../../scripts/doc-facts.ts';
import { manualPages } from '../../helpers/manual.ts';
import { block, loadTerraform, REPO_ROOT, resourcesOf, type Terraform } from '../terraform/hcl.ts';

const read = (page: string) => readFileSync(join(REPO_ROOT, page), 'utf8');
const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length;

let tf: Terraform;
// Parsing starts a WebAssembly module: allow for a busy machine.
beforeAll(async () => {
  tf = await loadTerraform();
}, 30_000);

describe('generated facts are what the code says (regenerate with `npm run docs:facts`)', () => {
  test.each(Object.entries(GENERATED) as [GeneratedName, string][])('%s in %s', async (name, page) => {
    const section = generatedSection(page, name);
    expect(section, `${page} has the generated:${name} markers`).toBeDefined();
    expect(section).toBe((await generatedBlocks(tf))[name]);
  });
});

// ---------------------------------------------------------------------------
// `restock …` commands: every one in the manual parses with the real parser.

/** Where a command appears, and whether it is a whole command line (a shell block) or a mention (inline code). */
interface Mention {
  where: string;
  words: string[];
  whole: boolean;
}

/** Blocks that hold command lines: shell, console, or no language given. */
const SHELL_INFO = /^((sh|bash|shell|console|zsh)\b.*)?$/;

/**
 * Splits what follows `restock` into words as a shell would, up to the end of
 * the command (a pipe, `;`, `&&`, `)`, a redirection or a comment). Values a
 * reader fills in (`<eventKey>`, `"$event"`, `$(...)`) become `1`, which every
 * argument parser of the CLI accepts; `[` `]` around optional parts and `…`
 * are dropped, so `[--product <id>]` is checked as `--product 1`.
 */
function shellWords(text: string): string[] {
  const source = text.replace(/<[A-Za-z][^<>]*>/g, '1');
  const words: string[] = [];
  let word: string | undefined;
  const push = () => {
    if (word !== undefined) {
      const w = word.replace(/^\[+|\]+$/g, '');
      if (w !== '' && w !== '…' && w !== '...') words.push(w);
    }
    word = undefined;
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === "'" || ch === '"') {
      const end = source.indexOf(ch, i + 1);
      const quoted = source.slice(i + 1, end === -1 ? undefined : end);
      word = (word ?? '') + (ch === '"' && /\$/.test(quoted) ? '1' : quoted);
      i = end === -1 ? source.length : end;
    } else if (ch === '$') {
      const paren = source[i + 1] === '(';
      const brace = source[i + 1] === '{';
      if (paren || brace) {
        let depth = 0;
        let j = i + 1;
        for (; j < source.length; j++) {
          if (source[j] === (paren ? '(' : '{')) depth++;
          else if (source[j] === (paren ? ')' : '}') && --depth === 0) break;
        }
        i = j;
      } else {
        while (i + 1 < source.length && /\w/.test(source[i + 1]!)) i++;
      }
      word = (word ?? '') + '1';
    } else if (/\s/.test(ch)) {
      push();
    } else if ('|;&)<>'.includes(ch) || (ch === '#' && word === undefined)) {
      break;
    } else {
      word = (word ?? '') + ch;
    }
  }
  push();
  return words;
}

/** The commands of the manual: lines of shell blocks, and inline code that starts with `restock`. */
function mentions(): Mention[] {
  const out: Mention[] = [];
  for (const page of manualPages()) {
    const text = read(page);
    for (const m of text.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)) {
      if (!SHELL_INFO.test(m[1]!.trim())) continue;
      const first = lineOf(text, m.index) + 1;
      const info = m[1]!.trim();
      m[2]!
        .replace(/\\\n/g, ' \n')
        .split('\n')
        .forEach((line, i) => {
          // A console block shows commands after `$ ` and output without; a block with no language may be a diagram.
          if (info.startsWith('console') && !line.startsWith('$ ')) return;
          const code = line.replace(/(^|\s)#.*$/, '');
          for (const c of code.matchAll(/(?:^|[\s;(|&])(?:\$ )?(?:npx\s+)?restock\s+(?=[a-z-])/g)) {
            const words = shellWords(code.slice(c.index + c[0].length));
            if (info === '' && !TOP_COMMANDS.has(words[0] ?? '') && !words[0]?.startsWith('-')) continue;
            out.push({ where: `${page}:${first + i}`, words, whole: true });
          }
        });
    }
    const prose = text.replace(/^```[\s\S]*?^```$/gm, (block) => block.replace(/[^\n]/g, ' '));
    for (const m of prose.matchAll(/`(?:npx )?restock ((?:-|[a-z])[^`]*)`/g)) {
      out.push({ where: `${page}:${lineOf(prose, m.index)}`, words: shellWords(m[1]!.replace(/\\\|/g, '|')), whole: false });
    }
  }
  return out;
}

const TOP_COMMANDS = new Set(cliProgram().commands.map((c) => c.name()));

/** The CLI's parser with every action replaced by nothing, so parsing is all that happens. */
function probe(whole: boolean): Command {
  const program = cliProgram();
  const quiet = (c: Command) => {
    c.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined });
    if (c.commands.length === 0) c.action(() => undefined);
    // A mention names a command and some of its flags; only a whole command line must carry the required ones.
    if (!whole) for (const o of c.options) o.mandatory = false;
    c.commands.forEach(quiet);
  };
  quiet(program);
  return program;
}

/** Why `restock <words>` does not parse, or undefined when it does. */
async function parseProblem(words: string[], whole: boolean): Promise<string | undefined> {
  try {
    await probe(whole).parseAsync(words, { from: 'user' });
    return undefined;
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (['commander.helpDisplayed', 'commander.version'].includes(err.code)) return undefined;
    // A mention may stop before an argument (`restock status`) or name a group (`restock outbox`).
    if (!whole && ['commander.missingArgument', 'commander.optionMissingArgument', 'commander.help'].includes(err.code)) return undefined;
    return err.message;
  }
}

describe('`restock …` in the manual', () => {
  test('the manual has commands to check (the extraction works)', () => {
    const found = mentions();
    expect(found.filter((m) => m.whole).length).toBeGreaterThan(20);
    expect(found.filter((m) => !m.whole).length).toBeGreaterThan(20);
  });

  test('every command line in a shell block parses with the real CLI parser, required options included', async () => {
    const problems: string[] = [];
    for (const m of mentions().filter((x) => x.whole)) {
      const problem = await parseProblem(m.words, true);
      if (problem) problems.push(`${m.where}: restock ${m.words.join(' ')}: ${problem}`);
    }
    expect(problems).toEqual([]);
  });

  test('every command mentioned in the text names a command and options that exist', async () => {
    const problems: string[] = [];
    for (const m of mentions().filter((x) => !x.whole)) {
      const problem = await parseProblem(m.words, false);
      if (problem) problems.push(`${m.where}: restock ${m.words.join(' ')}: ${problem}`);
    }
    expect(problems).toEqual([]);
  });

  test('the parse check fails on what it must catch', async () => {
    expect(await parseProblem(['publish', '--product', 'sku-1', '--available', '3', '--previus', '0'], true)).toMatch(/unknown option '--previus'/);
    expect(await parseProblem(['publish', '--available', '3'], true)).toMatch(/--product/);
    expect(await parseProblem(['pubish'], false)).toMatch(/unknown command/);
    expect(await parseProblem(['publish', '--available', '3'], false)).toBeUndefined();
    expect(shellWords('status "$event" --watch --timeout 60 | jq .')).toEqual(['status', '1', '--watch', '--timeout', '60']);
    expect(shellWords('trace --user <userId> [--product <productId>]   # each event')).toEqual(['trace', '--user', '1', '--product', '1']);
  });

  test('operate.md, the operators\' page, has a row for every command', () => {
    const operate = read('docs/operate.md');
    const table = operate.slice(operate.indexOf('| command | what it does |')).split('\n\n')[0]!;
    const firstCells = table.split('\n').map((row) => row.split(/(?<!\\)\|/)[1] ?? '');
    const top = probe(true).commands.map((c) => c.name());
    expect(top.filter((name) => !firstCells.some((c) => new RegExp(`\`${name}\\b`).test(c)))).toEqual([]);
  });
});

describe('who may run each command (docs/deploy.md "Operator roles")', () => {
  test('every command of the CLI has its roles in the table', () => {
    const deploy = read('docs/deploy.md');
    const start = deploy.indexOf('| commands | roles |');
    expect(start, 'deploy.md has the operator roles table').toBeGreaterThan(-1);
    const cells = deploy.slice(start).split('\n\n')[0]!.split('\n').map((row) => row.split(/(?<!\\)\|/)[1] ?? '');
    const covered = (path: string) => {
      const [group, leaf] = path.includes(' ') ? (path.split(' ') as [string, string]) : [undefined, path];
      return cells.some((c) => c.includes(`\`${path}\``) || (group !== undefined && ((c.includes(`\`${leaf}\``) && c.includes(group)) || (leaf === 'list' && c.includes(`\`${group}\``)))));
    };
    expect(cliCommands().map((c) => c.path).filter((path) => !covered(path))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Settings: every RESTOCK_… variable the manual names is one the code reads.

/** Every source file the repository's code lives in (what may read a variable). */
function sourceText(): string {
  const roots = ['lib', 'functions', 'cli', 'emulators', 'sim', 'bench', 'scripts', 'terraform', 'bin', 'test/helpers'];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|js|tf)$/.test(entry.name)) out.push(read(path));
    }
  };
  for (const root of roots) if (existsSync(join(REPO_ROOT, root))) walk(root);
  return out.join('\n');
}

describe('settings named in the manual', () => {
  test('every RESTOCK_… variable a page names is a setting of lib/config.ts or read by the code', () => {
    const settings = new Set(Object.values(SETTINGS).map((s) => s.env));
    const source = sourceText();
    const unknown: string[] = [];
    for (const page of manualPages()) {
      const text = read(page);
      for (const m of text.matchAll(/\bRESTOCK_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_]*\*)\b/g)) {
        if (!settings.has(m[0]) && !new RegExp(`\\b${m[0]}\\b`).test(source)) unknown.push(`${page}:${lineOf(text, m.index)}: ${m[0]}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Counts written as words or digits: functions, alerts, promises.

const NUMBERS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];
const toNumber = (word: string) => (/^\d+$/.test(word) ? Number(word) : NUMBERS.indexOf(word.toLowerCase()));

/** Every "<n> <noun>" of the manual (`three gen2 functions`, `9 alerts`), with the sentence it is in. */
function counted(noun: RegExp): { where: string; n: number; sentence: string }[] {
  const out: { where: string; n: number; sentence: string }[] = [];
  const word = `(\\d+|${NUMBERS.join('|')})`;
  for (const page of manualPages()) {
    const text = read(page);
    for (const m of text.matchAll(new RegExp(`\\b${word}\\s+(?:[a-z0-9-]+\\s+)?${noun.source}(?![-\\w])`, 'gi'))) {
      const start = Math.max(text.lastIndexOf('. ', m.index), text.lastIndexOf('\n\n', m.index), 0);
      const end = [text.indexOf('. ', m.index), text.indexOf('\n\n', m.index)].filter((i) => i !== -1).reduce((a, b) => Math.min(a, b), text.length);
      out.push({ where: `${page}:${lineOf(text, m.index)}`, n: toNumber(m[1]!), sentence: text.slice(start, end) });
    }
  }
  return out;
}

describe('counts in the manual', () => {
  test('"N functions" is every function of lib/functions.ts, or as many as the sentence names', () => {
    const wrong = counted(/functions/)
      .filter(({ n, sentence }) => {
        const named = FUNCTION_NAMES.filter((f) => sentence.includes(f)).length;
        return n !== FUNCTION_NAMES.length && n !== named;
      })
      .map(({ where, n }) => `${where}: ${n} functions (the table has ${FUNCTION_NAMES.length})`);
    expect(wrong).toEqual([]);
  });

  test('the pages that list the deployed functions name every one of lib/functions.ts', () => {
    const lists = { 'docs/deploy.md': read('docs/deploy.md').split('\n## ')[0]!, 'docs/local-stack.md': read('docs/local-stack.md'), 'docs/design.md': read('docs/design.md') };
    const missing = Object.entries(lists).flatMap(([page, text]) => FUNCTION_NAMES.filter((f) => !text.includes(`\`${f}\``) && !new RegExp(`^${f}\\b`, 'm').test(text)).map((f) => `${page}: ${f}`));
    expect(missing).toEqual([]);
  });

  test('"N alerts" is the number of alert policies terraform/ creates', () => {
    const policies = resourcesOf(tf, 'google_monitoring_alert_policy').length;
    const wrong = counted(/alerts/)
      .filter(({ n, sentence }) => n !== policies && !/\bN\b|alert_/.test(sentence))
      .map(({ where, n }) => `${where}: ${n} alerts (terraform/ has ${policies})`);
    expect(wrong).toEqual([]);
  });

  test('"N promises" is the number of rows of the promise table in docs/design.md', () => {
    const rows = promiseRows().length;
    const wrong = counted(/promises/)
      .filter(({ n }) => n !== rows)
      .map(({ where, n }) => `${where}: ${n} promises (design.md has ${rows})`);
    expect(wrong).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// A CLI option's default written in prose, "(500 rows, `--batch-size`)": the parser's default.

/** Each "(N unit, `--option`)" of `text` whose N is not a default the CLI's parser gives `--option` (options the CLI lacks are another tool's). */
function wrongOptionDefaults(text: string, commands = cliCommands()): string[] {
  const wrong: string[] = [];
  for (const m of text.matchAll(/\((\d[\d,]*) [a-z]+,\s+`(--[a-z][a-z-]*)`\)/g)) {
    const options = commands.flatMap(({ command }) => command.options.filter((o) => o.long === m[2]));
    const defaults = options.map((o) => o.defaultValue as unknown);
    if (options.length && !defaults.includes(Number(m[1]!.replace(/,/g, '')))) wrong.push(`line ${lineOf(text, m.index)}: ${m[1]} for ${m[2]} (the parser's default: ${defaults.join(' or ')})`);
  }
  return wrong;
}

describe('CLI option defaults in the prose', () => {
  test('"(N rows, `--batch-size`)" states the default the parser gives the option', () => {
    const wrong = manualPages().flatMap((page) => wrongOptionDefaults(read(page)).map((w) => `${page}:${w}`));
    expect(wrong).toEqual([]);
  });

  test('the check fails on what it must catch', () => {
    expect(wrongOptionDefaults('in batches (500 rows,\n`--batch-size`), a bench (10 shoppers, `--subscribers`)')).toEqual([]);
    expect(wrongOptionDefaults('in batches (400 rows, `--batch-size`)')).toEqual(["line 1: 400 for --batch-size (the parser's default: 500)"]);
  });
});

// ---------------------------------------------------------------------------
// Promises: a promise's status comes from its tests' existence.

function promiseRows(): { n: number; proof: string }[] {
  const design = read('docs/design.md');
  return [...design.matchAll(/^\| (\d+) \| .*? \| ([^|]*) \|$/gm)].map((m) => ({ n: Number(m[1]), proof: m[2]! }));
}

describe('the instruments in docs/metrics.md', () => {
  test('one row per instrument of lib/metrics, with its kind and its labels; "N metric descriptors" counts them', () => {
    const text = read('docs/metrics.md');
    const rows = text.split('\n').filter((l) => /^\| `restock\./.test(l));
    const wrong: string[] = [];
    for (const spec of Object.values(INSTRUMENT_SPECS)) {
      const row = rows.find((r) => r.startsWith(`| \`${spec.name}\` |`));
      if (!row) {
        wrong.push(`${spec.name}: no row`);
        continue;
      }
      const [, kind, labels] = row.split(' | ');
      if (kind !== spec.kind) wrong.push(`${spec.name}: says ${kind}, is a ${spec.kind}`);
      // The label names, without the values listed in parentheses after each.
      const named = [...(labels ?? '').replace(/\([^)]*\)/g, '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
      if (named.join() !== spec.labels.join()) wrong.push(`${spec.name}: labels ${named.join(', ')}, records ${spec.labels.join(', ')}`);
    }
    if (rows.length !== Object.keys(INSTRUMENT_SPECS).length) wrong.push(`${rows.length} rows for ${Object.keys(INSTRUMENT_SPECS).length} instruments`);
    for (const { where, n } of counted(/metric descriptors/)) if (n !== Object.keys(INSTRUMENT_SPECS).length) wrong.push(`${where}: ${n} metric descriptors`);
    expect(wrong).toEqual([]);
  });
});

describe('promises in docs/design.md', () => {
  test('the table is numbered 1..N', () => {
    expect(promiseRows().map((r) => r.n)).toEqual(promiseRows().map((_, i) => i + 1));
  });

  test('every promise names a test that exists, and only tests that exist (no "to be built" beside a kept promise)', () => {
    const wrong: string[] = [];
    for (const { n, proof } of promiseRows()) {
      const paths = [...proof.matchAll(/`(test\/[^`]+)`/g)].map((m) => m[1]!);
      const missing = paths.filter((p) => !existsSync(join(REPO_ROOT, p)));
      if (paths.length === 0) wrong.push(`promise ${n}: names no test (${proof.trim()})`);
      for (const p of missing) wrong.push(`promise ${n}: ${p} does not exist`);
      if (/to be built/i.test(proof)) wrong.push(`promise ${n}: says "to be built"`);
    }
    expect(wrong).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// Terraform variables: docs/deploy.md's table has each one's default as terraform/ declares it.

/** How the variable table writes a default. */
function writtenDefault(variable: Record<string, unknown>): string {
  if (!('default' in variable)) return '**required**';
  const value = variable.default;
  if (value === null) return '`null`';
  if (typeof value === 'string') return value === '' ? '`""`' : `\`${value}\``;
  if (typeof value === 'object') return `\`${JSON.stringify(value)}\``;
  return `\`${String(value)}\``;
}

describe('Terraform variables in docs/deploy.md', () => {
  test('every row states the default terraform/ declares (and ephemeral where it is)', () => {
    const deploy = read('docs/deploy.md');
    const wrong: string[] = [];
    for (const [name, body] of Object.entries(tf.variable)) {
      const variable = block(body) as Record<string, unknown>;
      const row = deploy.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      if (!row) {
        wrong.push(`${name}: no row`);
        continue;
      }
      const stated = row.split(' | ')[1]!.trim();
      const expected = writtenDefault(variable) + (variable.ephemeral === true ? ', ephemeral' : '');
      if (stated !== expected && !(expected === '**required**' && stated === '(required)')) wrong.push(`${name}: says ${stated}, terraform/ has ${expected}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('the dead-letter count', () => {
  test('"after N deliveries" says where, and is pubsub_max_delivery_attempts as Terraform deploys it or the local stack\'s', () => {
    const deployed = Number(block(tf.variable.pubsub_max_delivery_attempts).default);
    const local = DEFAULT_SUBSCRIPTION.maxDeliveryAttempts;
    const wrong: string[] = [];
    for (const page of manualPages()) {
      const text = read(page);
      for (const m of text.matchAll(/after (\d+) deliveries(?! (?:as Terraform deploys it|on the local stack))/g)) {
        wrong.push(`${page}:${lineOf(text, m.index)}: after ${m[1]} deliveries: say where (as Terraform deploys it, or on the local stack)`);
      }
      for (const m of text.matchAll(/(\d+)(?: deliveries)? (as Terraform deploys it|on the local stack)/g)) {
        const expected = m[2] === 'on the local stack' ? local : deployed;
        if (Number(m[1]) !== expected) wrong.push(`${page}:${lineOf(text, m.index)}: ${m[0]} (it is ${expected})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The licence the API document states is the package's.

describe('licence', () => {
  test('the OpenAPI document states the licence package.json does', () => {
    const pkg = JSON.parse(read('package.json')) as { license: string };
    const info = (openApiDocument().document as { info: { license?: { identifier?: string } } }).info;
    expect(info.license?.identifier).toBe(pkg.license);
  });
});

// ---------------------------------------------------------------------------
// Test files the manual cites as proof, and the API's operations.

/** Expands `a/{b,c}.test.ts` into its paths (one level of braces, as the pages write it). */
function expandBraces(path: string): string[] {
  const m = /\{([^{}]*)\}/.exec(path);
  if (!m) return [path];
  return m[1]!.split(',').flatMap((alt) => expandBraces(path.slice(0, m.index) + alt + path.slice(m.index + m[0].length)));
}

/** The `test/….test.ts` paths a page names (with `{a,b}` and a `*` file name as written), and which do not exist. */
function missingTestFiles(text: string): string[] {
  const missing: string[] = [];
  for (const [cited] of text.matchAll(/test\/[A-Za-z0-9_/.{},*-]*\.test\.ts/g)) {
    for (const path of expandBraces(cited)) {
      const found = path.includes('*')
        ? existsSync(join(REPO_ROOT, path.slice(0, path.lastIndexOf('/')))) &&
          readdirSync(join(REPO_ROOT, path.slice(0, path.lastIndexOf('/')))).some((f) => f.endsWith('.test.ts'))
        : existsSync(join(REPO_ROOT, path));
      if (!found) missing.push(path);
    }
  }
  return missing;
}

describe('tests the manual cites', () => {
  test('every test file a page names exists', () => {
    const missing = manualPages().flatMap((page) => missingTestFiles(read(page)).map((path) => `${page}: ${path}`));
    expect(missing).toEqual([]);
  });

  test('the check fails on what it must catch', () => {
    expect(missingTestFiles('`test/unit/docs/facts.test.ts`, `test/unit/notify/{fcm,gone}.test.ts`, `test/unit/nowhere/*.test.ts`')).toEqual([
      'test/unit/notify/gone.test.ts',
      'test/unit/nowhere/*.test.ts',
    ]);
  });
});

describe('operations of the API in docs/api.md', () => {
  test('the page names every operationId of the OpenAPI document (what a generated client has)', () => {
    const paths = (openApiDocument().document as { paths: Record<string, Record<string, { operationId?: string }>> }).paths;
    const ids = Object.values(paths).flatMap((item) => Object.values(item).flatMap((op) => (op?.operationId ? [op.operationId] : [])));
    expect(ids.length).toBeGreaterThan(5);
    const page = read('docs/api.md');
    expect(ids.filter((id) => !page.includes(`\`${id}\``))).toEqual([]);
  });
});
