/**
 * Turns a schema failure into one sentence a person can act on: the field's
 * path and what is wrong with it. Shared by every input the pipeline accepts.
 */
import type { z } from 'zod';

export interface Problem {
  /** Dotted path of the offending field (`data.available`, `channels.email`). */
  field: string;
  problem: string;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * The first problem of a failed parse, with `prefix` before the field path.
 * Missing fields read "is required"; unknown fields "is not a known field".
 */
export function firstProblem(error: z.ZodError, input: unknown, prefix = ''): Problem {
  const issue = error.issues[0];
  const join = (path: readonly PropertyKey[]) => [prefix, ...path.map(String)].filter(Boolean).join('.') || '(root)';
  if (!issue) return { field: join([]), problem: 'is invalid' };
  if (issue.code === 'unrecognized_keys') {
    return { field: join([...issue.path, issue.keys[0] ?? '']), problem: 'is not a known field' };
  }
  if (issue.code === 'invalid_type') {
    const actual = valueAt(input, issue.path);
    if (actual === undefined) return { field: join(issue.path), problem: 'is required' };
    if (issue.expected === 'int' && typeof actual === 'number') return { field: join(issue.path), problem: 'must be a whole number' };
    return { field: join(issue.path), problem: `must be ${article(issue.expected)}, not ${typeName(actual)}` };
  }
  return { field: join(issue.path), problem: issue.message };
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}
