/**
 * Structured logging in Cloud Logging's shape: one JSON object a line on
 * stdout, with `severity`, `message` and the fields of the flow, written by
 * pino with Google's own configuration for Cloud Logging ({@link Logger}).
 *
 * Every line passes through {@link scrub}: email addresses and anything under a
 * key that names an address or token are masked, so a careless field cannot
 * put personal data in clear into the logs. Recipients are referred to by
 * {@link recipientRef}, a short one-way hash that operators can match against
 * `restock trace` output.
 */
import { createHmac } from 'node:crypto';
import { CHANNELS } from './channels.ts';
import { createGcpLoggingPinoConfig } from '@google-cloud/pino-logging-gcp-config';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { loadConfig } from './config.ts';
import { currentTrace } from './trace/index.ts';

export type Severity = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type Fields = Record<string, unknown>;

const LEVELS: Record<string, Severity> = { debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR' };

/** Google service accounts (user-managed and Google-managed): identities of systems, not of people. */
const SERVICE_ACCOUNT = /^[^@\s]+@([a-z0-9-]+\.iam|developer|appspot|cloudservices|cloudbuild)\.gserviceaccount\.com$/i;

/** Whether an email names a Google service account (a system), which logs keep in clear (who called). */
export function isServiceAccount(email: string): boolean {
  return SERVICE_ACCOUNT.test(email);
}

/**
 * Keys whose values are redacted whole: secrets, every channel's name (a
 * subscription's `channels.<channel>` is its address), and the parts of a web
 * push subscription (its endpoint names the browser; `p256dh` and `auth` are
 * its keys).
 */
const SECRET_KEY = new RegExp(`(email|address|token|authorization|password|secret|^to$|^endpoint$|^p256dh$|^auth$|${CHANNELS.map((c) => `^${c}$`).join('|')})`, 'i');

/** Longest string a log line (or a stored diagnostic) keeps; the rest is counted, not kept. */
export const MAX_LOGGED_STRING_CHARS = 8192;

/**
 * What can stand for the `@` of an address: itself, its JSON and JavaScript
 * escape, its percent-encoding, its HTML entities and the full-width form.
 */
const AT_SIGN = /@|\\u0040|%40|&#0*64;|&#x0*40;|\uFF20/giu;
/** Characters of an address's local part (Unicode letters and digits included: RFC 6531). */
const LOCAL_CHAR = /[\p{L}\p{N}._+%'-]/u;
/** Characters of a domain (internationalised labels included). */
const DOMAIN_CHAR = /[\p{L}\p{N}.-]/u;
/**
 * A push token (FCM registration tokens run to 150+ characters of base64url
 * with a colon; APNs device tokens are 64+ hex digits but so are our own
 * hashes, so only the long runs are masked).
 */
const PUSH_TOKEN = /[A-Za-z0-9_:-]{100,}/g;

/**
 * Masks email addresses (in any of the spellings of {@link AT_SIGN}) and push
 * tokens in a string. Linear in the length of `text`: each `@` is found by a
 * backtrack-free search, and the scans around it never cross the previous
 * match, so no character is examined more than a few times whatever the input
 * (the regular expression this replaces backtracked quadratically on long runs
 * of word characters). `work.steps`, when given, counts the characters the
 * scans examined, so a test can check the bound without a clock.
 */
export function scrubText(text: string, work?: { steps: number }): string {
  let out = '';
  let steps = 0;
  let copiedUpTo = 0;
  let floor = 0;
  AT_SIGN.lastIndex = 0;
  for (let m = AT_SIGN.exec(text); m !== null; m = AT_SIGN.exec(text)) {
    const at = m.index;
    const afterAt = at + m[0].length;
    let start = at;
    while (start > floor && LOCAL_CHAR.test(text[start - 1]!)) {
      start--;
      steps++;
    }
    let end = afterAt;
    let labelDot = -1; // the last dot followed by a label character: a domain needs one
    while (end < text.length && DOMAIN_CHAR.test(text[end]!)) {
      if (end > afterAt && text[end] !== '.' && text[end - 1] === '.') labelDot = end - 1;
      end++;
      steps++;
    }
    // Trailing dots end the sentence, not the domain.
    while (end > afterAt && text[end - 1] === '.') end--;
    const isAddress = start < at && labelDot > afterAt && !(m[0] === '@' && isServiceAccount(text.slice(start, end)));
    if (isAddress) {
      out += text.slice(copiedUpTo, start) + '[email]';
      copiedUpTo = end;
      AT_SIGN.lastIndex = Math.max(AT_SIGN.lastIndex, end);
    }
    floor = Math.max(afterAt, isAddress ? end : afterAt);
  }
  out += text.slice(copiedUpTo);
  if (work) work.steps += steps;
  return out.replace(PUSH_TOKEN, '[push-token]');
}

/** `text` cut to `max` characters, saying how many were dropped. Scrub first: a cut address is no longer found. */
export function clip(text: string, max = MAX_LOGGED_STRING_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…[${text.length - max} more characters]` : text;
}

/**
 * Masks personal data anywhere in a value (deeply), keeping its shape:
 * strings under a key that names an address or token are redacted, others
 * pass through {@link scrubText} and are clipped to {@link MAX_LOGGED_STRING_CHARS}.
 */
export function scrub(value: unknown, key = '', depth = 0): unknown {
  if (depth > 8) return '[deep]';
  if (typeof value === 'string') {
    if (key && SECRET_KEY.test(key)) return value ? '[redacted]' : value;
    return clip(scrubText(value));
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, key, depth + 1));
  if (value instanceof Error) return scrub(errorFields(value), key, depth + 1);
  if (value && typeof value === 'object') {
    const out: Fields = {};
    for (const [k, v] of Object.entries(value)) out[clip(scrubText(k), 256)] = scrub(v, k, depth + 1);
    return out;
  }
  return value;
}

/**
 * A text that may be JSON, made fit to show or store: parsed and
 * {@link scrub}bed when it is JSON (so keys that name an address redact their
 * values), scrubbed as text otherwise, and only then cut to `max` characters.
 */
export function scrubJsonText(text: string, max = MAX_LOGGED_STRING_CHARS): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return clip(scrubText(text), max);
  }
  return scrubJsonValue(value, max);
}

/**
 * A parsed JSON value as scrubbed text, cut to `max` characters. {@link scrub}
 * stops at a fixed depth, so even a 10,000-level input serialises safely.
 */
export function scrubJsonValue(value: unknown, max = MAX_LOGGED_STRING_CHARS): string {
  return clip(scrubText(JSON.stringify(scrub(value)) ?? ''), max);
}

/**
 * The key of {@link recipientRef} on the emulators when RESTOCK_PSEUDONYM_KEY
 * is unset (every process of a local stack and its tests agree on it).
 * Outside the emulators the setting is required (lib/config `deploymentProblems`).
 */
export const LOCAL_PSEUDONYM_KEY = 'local-stack-only-pseudonym-key-0123456789';

let pseudonymKey: string | undefined;

function keyOfPseudonyms(): string {
  if (pseudonymKey === undefined) {
    try {
      pseudonymKey = loadConfig().pseudonymKey?.[0] ?? LOCAL_PSEUDONYM_KEY;
    } catch {
      pseudonymKey = process.env.RESTOCK_PSEUDONYM_KEY?.split(',')[0]?.trim() || LOCAL_PSEUDONYM_KEY;
    }
  }
  return pseudonymKey;
}

/**
 * A stable, non-reversible reference to a recipient for logs: a keyed hash
 * (HMAC-SHA256 under RESTOCK_PSEUDONYM_KEY), so nobody without the key can
 * confirm a guessed user id or address against a log line, as anyone could
 * with a plain SHA-256 of a guessable id.
 */
export function recipientRef(userId: string): string {
  return createHmac('sha256', keyOfPseudonyms()).update(`recipient:${userId}`).digest('hex').slice(0, 12);
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

/**
 * The project whose traces the `logging.googleapis.com/trace` field names.
 * Never detected over the network (the library would ask the metadata
 * server): the configuration's, else none (the field is then the bare trace id).
 */
function traceProjectId(): string {
  try {
    return loadConfig().projectId;
  } catch {
    return process.env.GOOGLE_CLOUD_PROJECT ?? '';
  }
}

/** Where log lines go; tests capture them by passing their own. */
export type Sink = (line: string) => void;

const PINO_LEVEL: Record<Severity, 'debug' | 'info' | 'warn' | 'error'> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error' };

/**
 * Standard output, written synchronously: a line is on its way before the
 * call returns, so nothing is lost when a function instance is frozen after
 * its answer or a process exits (or is killed) right after logging, and tests
 * that read a process's log see every line. What this costs is measured by
 * `npm run bench:log` (docs/operate.md "Logs").
 */
let stdoutDestination: DestinationStream | undefined;
function stdout(): DestinationStream {
  stdoutDestination ??= pino.destination({ dest: 1, sync: true });
  return stdoutDestination;
}

/** The ambient trace (lib/trace) in the OpenTelemetry names the Google configuration turns into Cloud Logging's trace fields. */
function traceFields(): Fields {
  const context = currentTrace();
  return context ? { trace_id: context.traceId, span_id: context.spanId, trace_flags: context.sampled ? '01' : '00' } : {};
}

function rootPino(service: string, minimum: Severity, sink: Sink | undefined): PinoLogger {
  const options = createGcpLoggingPinoConfig(
    {
      serviceContext: { service },
      traceGoogleCloudProjectId: traceProjectId(),
      // A line about the library itself, once per process: not a line of any flow.
      inihibitDiagnosticMessage: true,
    },
    {
      level: PINO_LEVEL[minimum],
      base: null,
      mixin: traceFields,
      // Errors reach pino already scrubbed into plain fields (errorFields); its own serializer would flatten their cause chain.
      serializers: { err: (err: unknown) => err },
    },
  );
  const destination: DestinationStream = sink ? { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) } : stdout();
  return pino(options, destination);
}

/** What a logger and all its children share: one pino instance, built at the first line. */
interface Root {
  minimum: Severity | undefined;
  sink: Sink | undefined;
  pino?: PinoLogger;
}

/**
 * A logger bound to the fields of one flow (event key, product, chunk...):
 * pino with Google's configuration for Cloud Logging
 * (`@google-cloud/pino-logging-gcp-config`): `severity`, `message`,
 * `timestamp`, `serviceContext`, an ordered `insertId`, and, inside a request
 * (lib/trace), `logging.googleapis.com/trace` and `spanId`. Everything a line
 * carries passes through {@link scrub} first, bound fields included. Bound
 * fields are merged into each line rather than kept as pino bindings, so a
 * field given again at the call replaces the bound one instead of appearing
 * twice in the JSON.
 */
export class Logger {
  private root: Root;
  private scrubbed: Fields | undefined;

  constructor(
    private readonly fields: Fields = {},
    /** Lowest severity written; by default the configuration's `logLevel`. */
    minimum?: Severity,
    sink?: Sink,
  ) {
    this.root = { minimum, sink };
  }

  /** A logger that adds `fields` to every line. */
  child(fields: Fields): Logger {
    const child = new Logger({ ...this.fields, ...fields });
    child.root = this.root;
    return child;
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

  /** Built at the first line: the level and project come from the configuration, read then. */
  private pino(): PinoLogger {
    const root = this.root;
    if (!root.pino) {
      const service = typeof this.fields.service === 'string' ? this.fields.service : (process.env.K_SERVICE ?? 'restock');
      root.pino = rootPino(service, root.minimum ?? configuredMinimum(), root.sink);
    }
    return root.pino;
  }

  private write(severity: Severity, message: string, fields?: Fields): void {
    const logger = this.pino();
    const level = PINO_LEVEL[severity];
    if (!logger.isLevelEnabled(level)) return;
    this.scrubbed ??= scrub(this.fields) as Fields;
    const entry = { ...this.scrubbed, ...(fields ? (scrub(fields) as Fields) : {}) };
    const err = entry.err as Fields | undefined;
    // Cloud Error Reporting picks up ERROR lines whose stack_trace is set (the library sets it only for Error objects; ours are scrubbed).
    if (severity === 'ERROR' && err && typeof err.stack === 'string') entry.stack_trace = err.stack;
    logger[level](entry, clip(scrubText(message)));
  }
}

/** The process-wide root logger. */
export const log = new Logger({ service: process.env.K_SERVICE ?? process.env.FUNCTION_TARGET ?? 'restock' });
