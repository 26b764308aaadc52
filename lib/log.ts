/**
 * Structured logging in Cloud Logging's shape: one JSON object a line on
 * stdout, with `severity`, `message` and the fields of the flow.
 *
 * Every line passes through {@link scrub}: email addresses and anything under a
 * key that names an address or token are masked, so a careless field cannot
 * put personal data in clear into the logs. Recipients are referred to by
 * {@link recipientRef}, a short one-way hash that operators can match against
 * `restock trace` output.
 */
import { createHash } from 'node:crypto';
import { loadConfig } from './config.ts';

export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type Fields = Record<string, unknown>;

const ORDER: Record<Severity, number> = { DEBUG: 0, INFO: 1, WARNING: 2, ERROR: 3 };
const LEVELS: Record<string, Severity> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

const EMAIL = /[\w.+-]+@[\w-]+(\.[\w-]+)+/g;
/** Google service accounts (user-managed and Google-managed): identities of systems, not of people. */
const SERVICE_ACCOUNT = /^[^@\s]+@([a-z0-9-]+\.iam|developer|appspot|cloudservices|cloudbuild)\.gserviceaccount\.com$/i;

/** Whether an email names a Google service account (a system), which logs keep in clear (who called). */
export function isServiceAccount(email: string): boolean {
  return SERVICE_ACCOUNT.test(email);
}

const SECRET_KEY = /(email|address|token|authorization|password|secret|^to$)/i;

/** Masks personal data anywhere in a value (deeply), keeping its shape. */
export function scrub(value: unknown, key = '', depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') {
    if (key && SECRET_KEY.test(key)) return value ? '[redacted]' : value;
    return value.replace(EMAIL, (m) => (isServiceAccount(m) ? m : '[email]'));
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, key, depth + 1));
  if (value instanceof Error) return scrub(errorFields(value), key, depth + 1);
  if (value && typeof value === 'object') {
    const out: Fields = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrub(v, k, depth + 1);
    return out;
  }
  return value;
}

/** A stable, non-reversible reference to a recipient for logs. */
export function recipientRef(userId: string): string {
  return createHash('sha256').update(`recipient:${userId}`).digest('hex').slice(0, 12);
}

/** The loggable shape of an error: name, message, stack, and its cause chain. */
export function errorFields(err: unknown): Fields {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: Fields = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined) out.cause = errorFields(err.cause);
  return out;
}

/**
 * The minimum severity the configuration asks for (`LOG_LEVEL`, lib/config.ts).
 * Read at the first line, not at import, so importing the logger never fails;
 * INFO while the settings do not parse (the process is about to refuse to start).
 */
function configuredMinimum(): Severity {
  try {
    return LEVELS[loadConfig().logLevel] ?? 'INFO';
  } catch {
    return 'INFO';
  }
}

/** Where log lines go; tests capture them by passing their own. */
export type Sink = (line: string) => void;

/** A logger bound to the fields of one flow (event key, product, chunk...). */
export class Logger {
  constructor(
    private readonly fields: Fields = {},
    /** Lowest severity written; by default the configuration's `logLevel`. */
    private readonly minimum?: Severity,
    private readonly sink: Sink = (line) => process.stdout.write(line + '\n'),
  ) {}

  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger {
    return new Logger({ ...this.fields, ...fields }, this.minimum, this.sink);
  }

  debug(message: string, fields?: Fields): void {
    this.write('DEBUG', message, fields);
  }
  info(message: string, fields?: Fields): void {
    this.write('INFO', message, fields);
  }
  warn(message: string, fields?: Fields): void {
    this.write('WARNING', message, fields);
  }
  /** Logs at ERROR; an `err` field is expanded with its cause chain. */
  error(message: string, fields?: Fields): void {
    this.write('ERROR', message, fields);
  }

  private write(severity: Severity, message: string, fields?: Fields): void {
    if (ORDER[severity] < ORDER[this.minimum ?? configuredMinimum()]) return;
    const entry = scrub({
      severity,
      message,
      time: new Date().toISOString(),
      ...this.fields,
      ...fields,
    }) as Fields;
    if (entry.err) {
      // Cloud Error Reporting picks up ERROR lines whose stack_trace is set.
      const err = entry.err as Fields;
      if (severity === 'ERROR' && typeof err.stack === 'string') entry.stack_trace = err.stack;
    }
    this.sink(JSON.stringify(entry));
  }
}

/** The process-wide root logger. */
export const log = new Logger({ service: process.env.K_SERVICE ?? process.env.FUNCTION_TARGET ?? 'restock' });
