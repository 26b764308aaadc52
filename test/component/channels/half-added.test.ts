/**
 * A channel is one entry of lib/channels.ts plus its sender: a half-added one
 * fails to compile. Each case compiles the code that derives from the table
 * (the router, its senders and their confirmation senders, the sink's
 * contract, the API's validation)
 * with lib/channels.ts patched to add an `sms` channel, and reads what the
 * compiler refuses.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const TABLE = join(ROOT, 'lib/channels.ts');
const ROOTS = ['lib/notify/router.ts', 'emulators/sink/contract.ts', 'lib/subscriptions/validation.ts', 'lib/config.ts'].map((f) => join(ROOT, f));

let options: ts.CompilerOptions;
let previous: ts.Program | undefined;

beforeAll(() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  options = { ...parsed!.options, noEmit: true };
});

/**
 * The compiler's errors, as `file: message`, for the project's derived code with
 * lib/channels.ts replaced by `table`: every file's, or with `only`, those of
 * these files (the checker then type-checks their bodies and only the
 * declarations they use, not the whole program again).
 */
function errorsWith(table: string, only?: readonly string[]): string[] {
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (file) => (resolve(file) === TABLE ? table : read(file));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, onError) =>
    resolve(file) === TABLE ? ts.createSourceFile(file, table, language) : getSourceFile(file, language, onError);
  const program = ts.createProgram({ rootNames: ROOTS, options, host, ...(previous ? { oldProgram: previous } : {}) });
  previous = program;
  const diagnostics = only
    ? only.flatMap((f) => {
        const file = program.getSourceFile(join(ROOT, f))!;
        return [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
      })
    : ts.getPreEmitDiagnostics(program);
  return diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => `${d.file ? d.file.fileName.slice(ROOT.length + 1) : '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
}

const original = readFileSync(TABLE, 'utf8');

/** The table with one more entry after `push`. */
function withSms(entry: string, senderKinds?: string): string {
  let table = original.replace(/\n} as const satisfies Record<string, ChannelSpec>;/, `\n  sms: ${entry},\n} as const satisfies Record<string, ChannelSpec>;`);
  if (senderKinds) table = table.replace(/export type SenderKind = [^;]+;/, `export type SenderKind = ${senderKinds};`);
  expect(table).not.toBe(original);
  return table;
}

const SMS = (senders: string) => `{ address: 'a phone number', schema: z.string(), senders: [${senders}], deadAddressLookup: false, standIn: 'sms' }`;

describe('a half-added channel', () => {
  test('the table as it is compiles', () => {
    expect(errorsWith(original)).toEqual([]);
  }, 120_000);

  test('an entry naming a sender that does not exist is refused in the table itself', () => {
    const errors = errorsWith(withSms(SMS("'twilio', 'http'")), ['lib/channels.ts']);
    expect(errors.some((e) => e.startsWith('lib/channels.ts:') && e.includes('"twilio"'))).toBe(true);
  }, 120_000);

  test('a new sender kind without its builder, its required settings and its summary is refused', () => {
    const errors = errorsWith(withSms(SMS("'twilio', 'http', 'log'"), "'http' | 'log' | 'smtp' | 'fcm' | 'webpush' | 'twilio'"), ['lib/notify/router.ts', 'lib/channels.ts']);
    expect(errors.filter((e) => e.startsWith('lib/notify/router.ts:')).length).toBeGreaterThanOrEqual(2); // BUILDERS and REQUIRED
    expect(errors.some((e) => e.startsWith('lib/channels.ts:') && e.includes('twilio'))).toBe(true); // SENDER_SUMMARY
  }, 120_000);

  test("an entry with known senders but without the sink's rule for it is refused where the sink's contract lists the channels", () => {
    const errors = errorsWith(withSms(SMS("'http', 'log'")), ['emulators/sink/contract.ts']);
    expect(errors.some((e) => e.startsWith('emulators/sink/contract.ts:') && e.includes('sms'))).toBe(true);
  }, 120_000);

  test('an entry with known senders but without its confirmation senders is refused where CONFIRMERS lists the pairs', () => {
    const errors = errorsWith(withSms(SMS("'http', 'log'")), ['lib/notify/router.ts']);
    expect(errors.some((e) => e.startsWith('lib/notify/router.ts:') && e.includes('sms'))).toBe(true);
  }, 120_000);

  test('a sender added to a channel without its confirmation sender is refused', () => {
    const table = original.replace("senders: ['fcm', 'http', 'log'],", "senders: ['fcm', 'http', 'log', 'smtp'],");
    expect(table).not.toBe(original);
    const errors = errorsWith(table, ['lib/notify/router.ts']);
    expect(errors.some((e) => e.startsWith('lib/notify/router.ts:') && e.includes('smtp'))).toBe(true);
  }, 120_000);
});
