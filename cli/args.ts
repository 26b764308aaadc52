/**
 * Argument parsers for commander options: each turns a malformed value into a
 * {@link UsageError} naming the flag, so the exit code is 2 and the line says
 * what was expected.
 */
import { InvalidArgumentError } from 'commander';
import { isValidDocumentId } from '../lib/model.ts';

/** An integer ≥ `min` (commander reports the flag and exits 2). */
export function intArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer, got ${JSON.stringify(value)}`);
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}, got ${value}`);
    }
    return n;
  };
}

/** A string usable as a Firestore document id (event keys, product and user ids). */
export function idArg(value: string): string {
  if (!isValidDocumentId(value)) throw new InvalidArgumentError(`not a valid id: ${JSON.stringify(value)} (no "/", 1–1500 bytes)`);
  return value;
}
