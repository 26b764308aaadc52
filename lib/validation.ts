/**
 * Turns a schema failure into one sentence a person can act on: the field's
 * path and what is wrong with it. Shared by every input the pipeline accepts.
 */
import { z } from 'zod';

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

/** One problem of a failed parse, at a path of the input. */
export interface PathProblem {
  path: PropertyKey[];
  problem: string;
}

/**
 * Every problem of a failed parse, in zod's order: missing fields read "is
 * required", unknown fields "is not a known field" (one each), wrong types
 * "must be a number, not string". Missing is judged on the input itself,
 * because zod 4 does not keep the offending value on its issues.
 */
export function allProblems(error: z.ZodError, input: unknown): PathProblem[] {
  const out: PathProblem[] = [];
  for (const issue of error.issues) {
    const path = [...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: [...path.map(clipName), clipName(key)], problem: 'is not a known field' });
    } else if (issue.code === 'invalid_type') {
      const actual = valueAt(input, path);
      if (actual === undefined) out.push({ path, problem: 'is required' });
      else if (issue.expected === 'int' && typeof actual === 'number') out.push({ path, problem: 'must be a whole number' });
      else out.push({ path, problem: `must be ${article(issue.expected)}, not ${typeName(actual)}` });
    } else {
      out.push({ path, problem: issue.message });
    }
  }
  return out;
}

/** The first problem of a failed parse, with `prefix` before the dotted field path. */
export function firstProblem(error: z.ZodError, input: unknown, prefix = ''): Problem {
  const first = allProblems(error, input)[0];
  const field = [prefix, ...(first?.path ?? []).map(String)].filter(Boolean).join('.') || '(root)';
  return { field, problem: first?.problem ?? 'is invalid' };
}

/** Longest field name echoed back: a caller's unknown key is theirs, and may be anything. */
export const MAX_ECHOED_NAME_CHARS = 64;

/** A name as echoed in an answer: clipped to {@link MAX_ECHOED_NAME_CHARS}, saying so. */
export function clipName<K extends PropertyKey>(key: K): K | string {
  return typeof key === 'string' && key.length > MAX_ECHOED_NAME_CHARS ? `${key.slice(0, MAX_ECHOED_NAME_CHARS)}…(${key.length} characters)` : key;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

/**
 * A product's display name as an inventory event carries it, and every
 * delivery task after it: one limit for both, so delivery can never accept
 * what the event refused.
 */
export const productNameSchema = z.string().max(500, 'must be at most 500 characters');

/** A product's link, likewise: shoppers open it from a notification, so only https (javascript:, data:, file: would pass as "a URL"). */
export const productUrlSchema = z.url({ protocol: /^https$/, message: 'must be an https: URL' }).max(2000, 'must be at most 2000 characters');
