/**
 * The contract check: does a real answer match the OpenAPI document? Used by
 * the subscription API's HTTP client on every answer of the integration tests,
 * so code and document cannot drift apart unnoticed.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '../../lib/subscriptions/index.ts';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** What the check needs of an answer. */
export interface ContractAnswer {
  status: number;
  headers: Headers;
  /** The body as received; '' when there is none. */
  text: string;
}

type Json = Record<string, any>;

export interface Contract {
  /** Every way `answer` breaks the document (empty when it keeps it). */
  violations(method: string, path: string, answer: ContractAnswer): string[];
}

/** Builds the check over `document` (by default the API's own). */
export function createContract(document: Json = openApiDocument().document): Contract {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi.json');

  const resolve = (node: Json): Json => {
    let n = node;
    while (typeof n?.$ref === 'string') {
      const pointer = (n.$ref as string).replace(/^#\//, '').split('/');
      n = pointer.reduce<Json>((o, key) => o?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
    }
    return n;
  };

  const templates = Object.keys(document.paths as Json).map((template) => ({
    template,
    pattern: new RegExp('^' + template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  }));

  function problemViolations(answer: ContractAnswer, where: string): string[] {
    const type = answer.headers.get('content-type') ?? '';
    if (type !== 'application/problem+json') return [`${where}: content type is ${type || 'missing'}, not application/problem+json`];
    return bodyViolations(answer, { $ref: '#/components/schemas/Problem' }, where);
  }

  function bodyViolations(answer: ContractAnswer, schema: Json, where: string): string[] {
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return [`${where}: body is not JSON`];
    }
    const validate = typeof schema.$ref === 'string' ? ajv.getSchema(`openapi.json${schema.$ref}`) : ajv.compile(schema);
    if (!validate) return [`${where}: the document has no schema at ${schema.$ref}`];
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${where}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }

  return {
    violations(method, path, answer) {
      const upper = method.toUpperCase();
      const where = `${upper} ${path} → ${answer.status}`;
      const pathOnly = path.split('?')[0] ?? '';
      const match = templates.find((t) => t.pattern.test(pathOnly));
      // Routes and methods the document does not name must be refused, as problems.
      if (!match) return answer.status === 404 ? problemViolations(answer, where) : [`${where}: the path is not in the document`];
      const item = resolve((document.paths as Json)[match.template]);
      const operation = item[upper === 'HEAD' ? 'get' : upper.toLowerCase()] as Json | undefined;
      if (!operation) return answer.status === 405 ? problemViolations(answer, where) : [`${where}: the document has no ${upper} for ${match.template}`];

      const responses = operation.responses as Json;
      const declared = responses[String(answer.status)] ?? responses.default;
      if (!declared) return [`${where}: status ${answer.status} is not in the document for ${upper} ${match.template}`];
      const response = resolve(declared);
      const content = response.content as Json | undefined;
      if (!content) {
        return answer.text === '' ? [] : [`${where}: the document says no body, the answer has ${answer.text.length} characters`];
      }
      const type = (answer.headers.get('content-type') ?? '').split(';')[0]!.trim();
      const media = content[type] as Json | undefined;
      if (!media) return [`${where}: content type ${type || 'missing'} is not one of ${Object.keys(content).join(', ')}`];
      // HEAD has no body; a page (text/html) is checked by its content type alone.
      if (upper === 'HEAD' || !/^application\/(.+\+)?json$/.test(type)) return [];
      if (answer.status >= 400 && type !== 'application/problem+json') return [`${where}: an error that is not problem+json`];
      return bodyViolations(answer, media.schema as Json, where);
    },
  };
}

/** Thrown by {@link assertKeepsContract} when an answer breaks the document. */
export class ContractViolationError extends Error {
  override name = 'ContractViolationError';
  constructor(readonly violations: string[]) {
    super(`The answer breaks the OpenAPI document:\n- ${violations.join('\n- ')}`);
  }
}

let shared: Contract | undefined;

/** Throws {@link ContractViolationError} when `answer` breaks the API's own document. */
export function assertKeepsContract(method: string, path: string, answer: ContractAnswer): void {
  shared ??= createContract();
  const violations = shared.violations(method, path, answer);
  if (violations.length > 0) throw new ContractViolationError(violations);
}
