/**
 * A small evaluator of the HCL expressions terraform/ uses for values (not a
 * Terraform): literals, templates, `var.` and `local.` traversals, indexing,
 * arithmetic, comparisons, `&&` `||` `!`, conditionals, object constructors,
 * `{ for ... }` expressions and a few functions. With it the production clock
 * reads what `terraform/` deploys (the defaults of an object variable's
 * `optional()` attributes among them), and the Terraform tests compute each
 * function's environment where the `terraform` binary is missing.
 *
 * Anything else is refused with {@link UnsupportedHclError} rather than
 * guessed; callers resolve references it cannot (resource attributes) through
 * {@link Scope.resolve}.
 */

/** A value as Terraform holds it, in JSON shapes. */
export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue };

/** An expression or type this evaluator does not handle. */
export class UnsupportedHclError extends Error {
  override readonly name = 'UnsupportedHclError';
}

/** What names mean while evaluating. */
export interface Scope {
  /** `var.name` (already converted to the variable's type, defaults applied). */
  variable(name: string): HclValue;
  /** `local.name`. */
  local(name: string): HclValue;
  /** Any other traversal root (a resource, `data.`, `each`...): the whole traversal's text, e.g. `google_service_account.build.email`. */
  resolve?(traversal: string): HclValue | undefined;
}

type Token = { kind: 'num' | 'str' | 'ident' | 'op'; text: string; parts?: (string | { code: string })[] };

const OPS = ['==', '!=', '>=', '<=', '&&', '||', '=>', '...', '>', '<', '+', '-', '*', '/', '%', '!', '?', ':', '(', ')', '[', ']', '{', '}', ',', '.', '='];

/** Reads a template string starting after its opening quote; returns its parts and the index after the closing quote. */
function readString(src: string, start: number): { parts: (string | { code: string })[]; end: number } {
  const parts: (string | { code: string })[] = [];
  let text = '';
  let i = start;
  while (i < src.length && src[i] !== '"') {
    if (src[i] === '\\') {
      const next = src[i + 1]!;
      text += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      i += 2;
    } else if (src.startsWith('$${', i)) {
      text += '${';
      i += 3;
    } else if (src.startsWith('${', i)) {
      if (text) parts.push(text);
      text = '';
      const end = matchBrace(src, i + 2);
      parts.push({ code: src.slice(i + 2, end) });
      i = end + 1;
    } else {
      text += src[i];
      i++;
    }
  }
  if (text || parts.length === 0) parts.push(text);
  return { parts, end: i + 1 };
}

/** Index of the `}` closing an interpolation whose code starts at `start`. */
function matchBrace(src: string, start: number): number {
  let depth = 0;
  for (let i = start; i < src.length; i++) {
    const c = src[i];
    if (c === '"') {
      i = readString(src, i + 1).end - 1;
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  throw new UnsupportedHclError(`unterminated interpolation in ${src}`);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '#' || src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i))![0];
      tokens.push({ kind: 'num', text: m });
      i += m.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i))![0].replace(/-+$/, '');
      tokens.push({ kind: 'ident', text: m });
      i += m.length;
    } else if (c === '"') {
      const { parts, end } = readString(src, i + 1);
      tokens.push({ kind: 'str', text: src.slice(i, end), parts });
      i = end;
    } else {
      const op = OPS.find((o) => src.startsWith(o, i));
      if (!op) throw new UnsupportedHclError(`unexpected ${c} in ${src}`);
      tokens.push({ kind: 'op', text: op });
      i += op.length;
    }
  }
  return tokens;
}

/** Terraform's string form of a primitive. */
export function hclString(value: HclValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnsupportedHclError(`cannot use ${JSON.stringify(value)} as a string`);
}

const isObject = (v: HclValue): v is { [key: string]: HclValue } => typeof v === 'object' && v !== null && !Array.isArray(v);

const FUNCTIONS: Record<string, (...args: HclValue[]) => HclValue> = {
  tostring: (v) => (v === null ? null : hclString(v)),
  tonumber: (v) => (v === null ? null : Number(v)),
  lower: (v) => hclString(v).toLowerCase(),
  min: (...a) => Math.min(...a.map(Number)),
  max: (...a) => Math.max(...a.map(Number)),
  floor: (v) => Math.floor(Number(v)),
  coalesce: (...a) => {
    const found = a.find((v) => v !== null && v !== '');
    if (found === undefined) throw new UnsupportedHclError('coalesce: no non-null, non-empty argument');
    return found;
  },
  keys: (v) => (isObject(v) ? Object.keys(v).sort() : []),
  values: (v) => (isObject(v) ? Object.keys(v).sort().map((k) => v[k]!) : []),
  merge: (...a) => Object.assign({}, ...a.filter((v) => v !== null)),
  trimsuffix: (s, suffix) => (hclString(s).endsWith(hclString(suffix)) ? hclString(s).slice(0, -hclString(suffix).length) : hclString(s)),
  replace: (s, from, to) => hclString(s).split(hclString(from)).join(hclString(to)),
  length: (v) => (typeof v === 'string' ? v.length : Array.isArray(v) ? v.length : isObject(v) ? Object.keys(v).length : 0),
};

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly scope: Scope,
    private readonly locals: Map<string, HclValue> = new Map(),
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }

  private next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new UnsupportedHclError('unexpected end of expression');
    return t;
  }

  private expect(text: string): void {
    const t = this.next();
    if (t.text !== text) throw new UnsupportedHclError(`expected ${text}, found ${t.text}`);
  }

  private at(text: string): boolean {
    return this.peek()?.kind === 'op' && this.peek()?.text === text;
  }

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  /** Evaluates one whole expression; `skip` parses it without evaluating (the branch a conditional does not take). */
  expression(skip = false): HclValue {
    const condition = this.binary(0, skip);
    if (!this.at('?')) return condition;
    this.next();
    const taken = !skip && condition === true;
    const yes = this.expression(skip || !taken);
    this.expect(':');
    const no = this.expression(skip || taken);
    return skip ? null : taken ? yes : no;
  }

  private static readonly PRECEDENCE: Record<string, number> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '>': 4, '<': 4, '>=': 4, '<=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6 };

  private binary(min: number, skip: boolean): HclValue {
    let left = this.unary(skip);
    for (;;) {
      const op = this.peek();
      const precedence = op?.kind === 'op' ? Parser.PRECEDENCE[op.text] : undefined;
      if (precedence === undefined || precedence <= min) return left;
      this.next();
      const right = this.binary(precedence, skip);
      left = skip ? null : Parser.apply(op!.text, left, right);
    }
  }

  private static apply(op: string, a: HclValue, b: HclValue): HclValue {
    switch (op) {
      case '||':
        return a === true || b === true;
      case '&&':
        return a === true && b === true;
      case '==':
        return JSON.stringify(a) === JSON.stringify(b);
      case '!=':
        return JSON.stringify(a) !== JSON.stringify(b);
    }
    if (a === null || b === null) throw new UnsupportedHclError(`${op} on null`);
    const x = Number(a);
    const y = Number(b);
    switch (op) {
      case '>':
        return x > y;
      case '<':
        return x < y;
      case '>=':
        return x >= y;
      case '<=':
        return x <= y;
      case '+':
        return x + y;
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '/':
        return x / y;
      case '%':
        return x % y;
    }
    throw new UnsupportedHclError(`operator ${op}`);
  }

  private unary(skip: boolean): HclValue {
    if (this.at('!')) {
      this.next();
      const v = this.unary(skip);
      return skip ? null : v !== true;
    }
    if (this.at('-')) {
      this.next();
      const v = this.unary(skip);
      return skip ? null : -Number(v);
    }
    return this.postfix(this.primary(skip), skip);
  }

  private postfix(value: HclValue, skip: boolean): HclValue {
    let v = value;
    for (;;) {
      if (this.at('.') && this.peek(1)?.kind === 'ident') {
        this.next();
        const name = this.next().text;
        v = skip ? null : isObject(v) ? (v[name] ?? null) : Parser.fail(`.${name} of ${JSON.stringify(v)}`);
      } else if (this.at('[')) {
        this.next();
        const key = this.expression(skip);
        this.expect(']');
        if (!skip) {
          if (Array.isArray(v)) v = v[Number(key)] ?? Parser.fail(`[${String(key)}] out of range`);
          else if (isObject(v)) v = hclString(key) in v ? v[hclString(key)]! : Parser.fail(`no key ${String(key)}`);
          else Parser.fail(`[${String(key)}] of ${JSON.stringify(v)}`);
        }
      } else {
        return v;
      }
    }
  }

  private static fail(what: string): never {
    throw new UnsupportedHclError(`cannot evaluate ${what}`);
  }

  private primary(skip: boolean): HclValue {
    const t = this.next();
    if (t.kind === 'num') return Number(t.text);
    if (t.kind === 'str') return skip ? null : this.template(t.parts!);
    if (t.kind === 'op' && t.text === '(') {
      const v = this.expression(skip);
      this.expect(')');
      return v;
    }
    if (t.kind === 'op' && t.text === '{') return this.objectOrFor(skip);
    if (t.kind === 'op' && t.text === '[') {
      const items: HclValue[] = [];
      while (!this.at(']')) {
        items.push(this.expression(skip));
        if (this.at(',')) this.next();
      }
      this.next();
      return items;
    }
    if (t.kind !== 'ident') throw new UnsupportedHclError(`unexpected ${t.text}`);
    if (t.text === 'true' || t.text === 'false') return t.text === 'true';
    if (t.text === 'null') return null;
    if (this.at('(')) {
      this.next();
      const args: HclValue[] = [];
      while (!this.at(')')) {
        args.push(this.expression(skip));
        if (this.at(',')) this.next();
      }
      this.next();
      if (skip) return null;
      const fn = FUNCTIONS[t.text];
      if (!fn) throw new UnsupportedHclError(`function ${t.text}()`);
      return fn(...args);
    }
    if (this.locals.has(t.text)) return this.locals.get(t.text)!;
    if ((t.text === 'var' || t.text === 'local') && this.at('.')) {
      this.next();
      const name = this.next().text;
      if (skip) return null;
      return t.text === 'var' ? this.scope.variable(name) : this.scope.local(name);
    }
    // Anything else (a resource, data., each.) is the scope's to resolve, whole traversal at once.
    let text = t.text;
    while (this.at('.') || this.at('[')) {
      if (this.at('.')) {
        this.next();
        text += `.${this.next().text}`;
      } else {
        const start = this.i;
        this.next();
        let depth = 1;
        while (depth > 0) {
          const n = this.next();
          if (n.text === '[') depth++;
          if (n.text === ']') depth--;
        }
        text += `[${this.tokens.slice(start + 1, this.i - 1).map((x) => x.text).join('')}]`;
      }
    }
    if (skip) return null;
    const resolved = this.scope.resolve?.(text);
    if (resolved === undefined) throw new UnsupportedHclError(`${text} (a reference the evaluator cannot resolve)`);
    return resolved;
  }

  private objectOrFor(skip: boolean): HclValue {
    if (this.peek()?.kind === 'ident' && this.peek()?.text === 'for') {
      this.next();
      const first = this.next().text;
      let second: string | undefined;
      if (this.at(',')) {
        this.next();
        second = this.next().text;
      }
      const inWord = this.next();
      if (inWord.text !== 'in') throw new UnsupportedHclError('for without in');
      const collection = this.expression(skip);
      this.expect(':');
      const start = this.i;
      // Parse once without evaluating to find the shape, then evaluate per element.
      const entries: [string, HclValue][] = [];
      const items: [HclValue, HclValue][] = skip
        ? []
        : Array.isArray(collection)
          ? collection.map((v, i) => [i, v])
          : isObject(collection)
            ? Object.keys(collection).sort().map((k) => [k, collection[k]!])
            : [];
      for (const [key, value] of items) {
        // `for v in c` binds the element (a map's value); `for k, v in c` its key or index too.
        const locals = new Map(this.locals);
        if (second === undefined) locals.set(first, value);
        else {
          locals.set(first, key);
          locals.set(second, value);
        }
        const p = new Parser(this.tokens, this.scope, locals);
        p.i = start;
        const k = p.expression();
        p.expect('=>');
        const v = p.expression();
        let keep = true;
        if (p.peek()?.kind === 'ident' && p.peek()?.text === 'if') {
          p.next();
          keep = p.expression() === true;
        }
        if (keep) entries.push([hclString(k), v]);
      }
      // Skip the body in this parser.
      const skipper = new Parser(this.tokens, this.scope, new Map([...this.locals, [first, null], ...(second ? ([[second, null]] as [string, HclValue][]) : [])]));
      skipper.i = start;
      skipper.expression(true);
      skipper.expect('=>');
      skipper.expression(true);
      if (skipper.peek()?.kind === 'ident' && skipper.peek()?.text === 'if') {
        skipper.next();
        skipper.expression(true);
      }
      this.i = skipper.i;
      this.expect('}');
      return skip ? null : Object.fromEntries(entries);
    }
    const out: { [key: string]: HclValue } = {};
    while (!this.at('}')) {
      const keyToken = this.peek()!;
      let key: string;
      if (keyToken.kind === 'ident' && (this.peek(1)?.text === '=' || this.peek(1)?.text === ':')) {
        this.next();
        key = keyToken.text;
      } else {
        key = hclString(this.expression(skip) ?? '');
      }
      const sep = this.next();
      if (sep.text !== '=' && sep.text !== ':') throw new UnsupportedHclError(`expected = in an object, found ${sep.text}`);
      out[key] = this.expression(skip);
      if (this.at(',')) this.next();
    }
    this.next();
    return skip ? null : out;
  }

  private template(parts: (string | { code: string })[]): HclValue {
    if (parts.length === 1 && typeof parts[0] !== 'string') return evaluateExpression(parts[0]!.code, this.scope, this.locals);
    return parts.map((p) => (typeof p === 'string' ? p : hclString(evaluateExpression(p.code, this.scope, this.locals)))).join('');
  }
}

/** Evaluates the code of one expression (what sits between `${` and `}`). */
export function evaluateExpression(code: string, scope: Scope, locals: Map<string, HclValue> = new Map()): HclValue {
  const parser = new Parser(tokenize(code), scope, locals);
  const value = parser.expression();
  if (!parser.done()) throw new UnsupportedHclError(`trailing text in ${code}`);
  return value;
}

/**
 * Evaluates a value as hcl2json returns it: a string is a template (`${...}`
 * interpolations evaluated), objects and arrays are evaluated member by member.
 */
export function evaluateHcl(value: unknown, scope: Scope): HclValue {
  if (typeof value === 'string') {
    // hcl2json hands templates back as written (escapes and all), so they read like source.
    const { parts } = readString(`${value}"`, 0);
    if (parts.length === 1 && typeof parts[0] !== 'string') return evaluateExpression(parts[0]!.code, scope);
    return parts.map((p) => (typeof p === 'string' ? p : hclString(evaluateExpression(p.code, scope)))).join('');
  }
  if (Array.isArray(value)) return value.map((v) => evaluateHcl(v, scope));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateHcl(v, scope)]));
  return value as HclValue;
}

// ---------------------------------------------------------------- types

/** A type constraint, as far as defaults go: an object's attributes (optional, with a default or not), or anything else. */
type TypeNode = { kind: 'object'; attributes: Map<string, { type: TypeNode; optional: boolean; default?: HclValue }> } | { kind: 'other' };

const NO_SCOPE: Scope = {
  variable: (name) => {
    throw new UnsupportedHclError(`var.${name} in a type`);
  },
  local: (name) => {
    throw new UnsupportedHclError(`local.${name} in a type`);
  },
};

class TypeParser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  type(): TypeNode {
    const t = this.tokens[this.i++];
    if (!t || t.kind !== 'ident') throw new UnsupportedHclError(`expected a type, found ${t?.text}`);
    if (t.text === 'object') {
      this.expect('(');
      this.expect('{');
      const attributes = new Map<string, { type: TypeNode; optional: boolean; default?: HclValue }>();
      while (this.tokens[this.i]?.text !== '}') {
        const name = this.tokens[this.i++]!.text;
        this.expect('=');
        const isOptional = this.tokens[this.i]?.text === 'optional';
        if (isOptional) {
          this.i++;
          this.expect('(');
          const type = this.type();
          let fallback: HclValue | undefined;
          if (this.tokens[this.i]?.text === ',') {
            this.i++;
            const start = this.i;
            let depth = 0;
            while (!(depth === 0 && this.tokens[this.i]?.text === ')')) {
              const text = this.tokens[this.i]!.text;
              if (text === '(' || text === '{' || text === '[') depth++;
              if (text === ')' || text === '}' || text === ']') depth--;
              this.i++;
            }
            fallback = new Parser(this.tokens.slice(start, this.i), NO_SCOPE).expression();
          }
          this.expect(')');
          attributes.set(name, { type, optional: true, default: fallback });
        } else {
          attributes.set(name, { type: this.type(), optional: false });
        }
        if (this.tokens[this.i]?.text === ',') this.i++;
      }
      this.expect('}');
      this.expect(')');
      return { kind: 'object', attributes };
    }
    if (this.tokens[this.i]?.text === '(') {
      this.i++;
      this.type();
      this.expect(')');
    }
    return { kind: 'other' };
  }

  private expect(text: string): void {
    const t = this.tokens[this.i++];
    if (t?.text !== text) throw new UnsupportedHclError(`expected ${text} in a type, found ${t?.text}`);
  }
}

function parseType(typeExpression: string): TypeNode {
  const code = /^\$\{([\s\S]*)\}$/.exec(typeExpression.trim())?.[1] ?? typeExpression;
  return new TypeParser(tokenize(code)).type();
}

function convert(value: HclValue, type: TypeNode): HclValue {
  if (type.kind !== 'object' || !isObject(value)) return value;
  const out: { [key: string]: HclValue } = {};
  for (const [name, attribute] of type.attributes) {
    const given = value[name];
    if (given === undefined || given === null) {
      if (!attribute.optional) throw new UnsupportedHclError(`attribute ${name} is required`);
      out[name] = attribute.default === undefined ? null : convert(attribute.default, attribute.type);
    } else {
      out[name] = convert(given, attribute.type);
    }
  }
  for (const name of Object.keys(value)) if (!type.attributes.has(name)) throw new UnsupportedHclError(`unknown attribute ${name}`);
  return out;
}

/**
 * A variable's value as Terraform would hand it to expressions: `given` (or
 * the declared default) converted to the declared type, so the `optional()`
 * defaults of an object type fill what was left out.
 */
export function variableValue(declaration: { type?: string; default?: unknown }, given?: unknown): HclValue {
  const raw = (given === undefined ? declaration.default : given) as HclValue | undefined;
  if (raw === undefined) throw new UnsupportedHclError('the variable has no default and no value was given');
  return declaration.type ? convert(raw, parseType(declaration.type)) : raw;
}
