/**
 * Which pipeline the CLI talks to, and the CLI's own settings.
 *
 * The CLI reads the same environment as the functions (lib/config.ts), so the
 * Google clients find the same emulators or the same project. Precedence:
 *
 * 1. `--project <id>`: that project (Application Default Credentials, or the
 *    emulators if their variables are set as well).
 * 2. `FIRESTORE_EMULATOR_HOST` / `PUBSUB_EMULATOR_HOST` / `CLOUD_TASKS_EMULATOR_HOST`
 *    or `GOOGLE_CLOUD_PROJECT` in the environment: exactly what they say.
 * 3. `.local/stack.json` (written by `npm start`): the running local stack.
 * 4. Otherwise a usage error: an ops tool must not guess a production project.
 */
import { parseConfig, type Config } from '../lib/config.ts';
import { parseLocalStack as parseStackFile, StackFileError, type LocalStack } from '../lib/local-stack.ts';
import { UsageError } from './errors.ts';

/**
 * Settings only the CLI needs (the functions never read them); they are
 * entries of lib/config.ts SETTINGS (`RESTOCK_TOPIC`,
 * `RESTOCK_DEAD_LETTER_SUBSCRIPTION`) like every other setting.
 */
export interface CliSettings {
  topic: string;
  deadLetterSubscription: string;
}

/** The CLI's own settings out of a parsed configuration. */
export function cliSettings(config: Pick<Config, 'topic' | 'deadLetterSubscription'>): CliSettings {
  return { topic: config.topic, deadLetterSubscription: config.deadLetterSubscription };
}

/** Reads {@link CliSettings} from the environment. @throws ConfigError naming the variable (exit 2). */
export function parseCliSettings(env: Record<string, string | undefined>): CliSettings {
  return cliSettings(parseConfig(env));
}

export type { LocalStack } from '../lib/local-stack.ts';

/** Parses the stack file's text. @throws UsageError when it is not a stack description (restart the stack, or say `--project`). */
export function parseLocalStack(text: string, path: string): LocalStack {
  try {
    return parseStackFile(text, path);
  } catch (err) {
    if (!(err instanceof StackFileError)) throw err;
    throw new UsageError(`${err.message}; restart the local stack or pass --project`, path, { cause: err });
  }
}

/** The resolved target: the environment to apply, the parsed configs, and a line saying what it is. */
export interface Target {
  source: 'project' | 'environment' | 'stack';
  /** Variables to set in `process.env` before any Google client is built. */
  overrides: Record<string, string>;
  config: Config;
  settings: CliSettings;
  /** One line for stderr: which project and which endpoints. */
  description: string;
  /** Which services are emulators: the guards on writes (publish, reset-stock) relax only there. */
  emulators: { firestore: boolean; pubsub: boolean; tasks: boolean };
  /**
   * Settings that replay and redrive need to create tasks the way the functions
   * do but that nobody set (their defaults point at a local stack): creating
   * tasks without them would send every task to the wrong place.
   */
  missingTaskSettings: string[];
}

/** What replay/redrive must be told explicitly, given the merged environment. */
export function missingTaskSettings(env: Record<string, string | undefined>): string[] {
  const required = ['RESTOCK_DELIVERY_URL', 'RESTOCK_FANOUT_URL'];
  // Without the emulator, tasks need the OIDC identity the delivery function checks.
  if (!env.CLOUD_TASKS_EMULATOR_HOST) required.push('RESTOCK_TASKS_SERVICE_ACCOUNT');
  // Outside the emulators delivery and fan-out refuse task bodies the key did not sign.
  if (!env.FIRESTORE_EMULATOR_HOST) required.push('RESTOCK_TASK_SIGNING_KEYS');
  return required.filter((v) => !env[v]);
}

const EMULATOR_VARS = ['FIRESTORE_EMULATOR_HOST', 'PUBSUB_EMULATOR_HOST', 'CLOUD_TASKS_EMULATOR_HOST'] as const;
const EMULATOR_LABEL: Record<(typeof EMULATOR_VARS)[number], string> = {
  FIRESTORE_EMULATOR_HOST: 'firestore',
  PUBSUB_EMULATOR_HOST: 'pubsub',
  CLOUD_TASKS_EMULATOR_HOST: 'tasks',
};

function functionUrl(stack: LocalStack, pattern: RegExp): string | undefined {
  for (const [name, value] of Object.entries(stack.functions ?? {})) {
    if (pattern.test(name)) return typeof value === 'string' ? value : value.url;
  }
  return undefined;
}

function stackOverrides(stack: LocalStack): Record<string, string> {
  const out: Record<string, string> = { ...stack.env };
  out.GOOGLE_CLOUD_PROJECT = stack.projectId;
  out.FIRESTORE_EMULATOR_HOST = stack.firestore;
  out.PUBSUB_EMULATOR_HOST = stack.pubsub;
  if (stack.tasks) out.CLOUD_TASKS_EMULATOR_HOST = stack.tasks;
  if (stack.topic) out.RESTOCK_TOPIC = stack.topic;
  if (stack.deadLetterSubscription) out.RESTOCK_DEAD_LETTER_SUBSCRIPTION = stack.deadLetterSubscription;
  const fanoutUrl = functionUrl(stack, /fan-?out/i);
  const deliveryUrl = functionUrl(stack, /deliver/i);
  if (fanoutUrl) out.RESTOCK_FANOUT_URL = fanoutUrl;
  if (deliveryUrl) out.RESTOCK_DELIVERY_URL = deliveryUrl;
  return out;
}

/**
 * Decides the target from the flags, the environment and the stack file (see
 * the module comment for the precedence). Pure: reads nothing itself.
 * @throws UsageError when there is no target, or a setting is malformed.
 */
export function resolveTarget(input: {
  env: Record<string, string | undefined>;
  project?: string | undefined;
  stack?: { path: string; value: LocalStack } | undefined;
}): Target {
  const { env, project, stack } = input;
  const hasEmulators = EMULATOR_VARS.some((v) => env[v]);
  let source: Target['source'];
  let overrides: Record<string, string> = {};
  if (project !== undefined) {
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(project)) {
      throw new UsageError(`--project: not a Google Cloud project id (got ${JSON.stringify(project)})`, '--project');
    }
    source = 'project';
    overrides.GOOGLE_CLOUD_PROJECT = project;
  } else if (hasEmulators || env.GOOGLE_CLOUD_PROJECT) {
    source = 'environment';
  } else if (stack) {
    source = 'stack';
    overrides = stackOverrides(stack.value);
  } else {
    throw new UsageError(
      'no pipeline to talk to: pass --project <id>, set GOOGLE_CLOUD_PROJECT or the emulator variables, or start the local stack (npm start)',
      '--project',
    );
  }
  if (!env.METADATA_SERVER_DETECTION && EMULATOR_VARS.some((v) => env[v] || overrides[v])) {
    // On emulators there is no metadata server; without this the auth library probes
    // for one (a delay, and a MetadataLookupWarning on stderr).
    overrides.METADATA_SERVER_DETECTION = 'none';
  }
  const merged = { ...env, ...overrides };
  // The notifier URL is required only where a notifier is built (delivery), never here.
  const config = parseConfig(merged);
  const settings = cliSettings(config);
  const endpoints = EMULATOR_VARS.filter((v) => merged[v]).map((v) => `${EMULATOR_LABEL[v]} ${merged[v]}`);
  const where = endpoints.length ? `emulators (${endpoints.join(', ')})` : 'Google Cloud (Application Default Credentials)';
  const prefix = source === 'stack' ? `local stack ${stack!.path}: ` : '';
  return {
    source,
    overrides,
    config,
    settings,
    description: `${prefix}project ${config.projectId} on ${where}`,
    emulators: { firestore: Boolean(merged.FIRESTORE_EMULATOR_HOST), pubsub: Boolean(merged.PUBSUB_EMULATOR_HOST), tasks: Boolean(merged.CLOUD_TASKS_EMULATOR_HOST) },
    missingTaskSettings: missingTaskSettings(merged),
  };
}
