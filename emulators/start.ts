/**
 * `npm start`: the whole local stack in the foreground on fixed ports.
 *
 * Prints one readiness line with the endpoints and the `export` lines to use
 * the stack from another shell, keeps `.local/stack.json` while running, and
 * stops every child (each process group, Java emulators included) on Ctrl-C,
 * SIGTERM or SIGHUP, or when the npm process that started it is gone.
 */
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import { CHANNELS } from '../lib/channels.ts';
import { watchWrappers } from './parent-watch.ts';
import { exitTwoOnUsageError } from '../cli/errors.ts';
import {
  DEFAULT_PORTS,
  DEFAULT_SMTP_VIEW_PORT,
  directChannelEnv,
  DEFAULT_STATE_FILE,
  REPO_ROOT,
  shellEnv,
  findRunningStack,
  startStack,
  type ComponentName,
  type Stack,
} from './stack/index.ts';

/** Flag and environment variable of each component's port. */
const PORT_FLAGS: Record<ComponentName, { flag: string; env: string }> = {
  firestore: { flag: 'firestore-port', env: 'FIRESTORE_PORT' },
  pubsub: { flag: 'pubsub-port', env: 'PUBSUB_PORT' },
  tasks: { flag: 'tasks-port', env: 'TASKS_PORT' },
  fanOutRestock: { flag: 'fan-out-port', env: 'FAN_OUT_PORT' },
  deliverRestockBatch: { flag: 'deliver-port', env: 'DELIVER_PORT' },
  restockSubscriptions: { flag: 'subscriptions-port', env: 'SUBSCRIPTIONS_PORT' },
  restockUnsubscribe: { flag: 'unsubscribe-port', env: 'UNSUBSCRIBE_PORT' },
  sink: { flag: 'sink-port', env: 'SINK_PORT' },
  smtp: { flag: 'smtp-port', env: 'SMTP_PORT' },
  fcm: { flag: 'fcm-port', env: 'FCM_PORT' },
  webpush: { flag: 'webpush-port', env: 'WEBPUSH_PORT' },
  inventory: { flag: 'inventory-port', env: 'INVENTORY_PORT' },
  relayOutbox: { flag: 'relay-port', env: 'RELAY_PORT' },
  console: { flag: 'console-port', env: 'CONSOLE_PORT' },
  applyShopperActions: { flag: 'shopper-actions-port', env: 'SHOPPER_ACTIONS_PORT' },
};

const camel = (flag: string): string => flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());

const program = exitTwoOnUsageError(new Command('start'))
  .description('Run the local stack (Firestore, Pub/Sub, Cloud Tasks, the functions, the notification sink, the mail server and the FCM stand-in).')
  .option('--host <host>', 'interface every component listens on', process.env.STACK_HOST ?? '127.0.0.1')
  .addOption(new Option('--log-level <level>', 'LOG_LEVEL of the functions and the sink').choices(['debug', 'info', 'warn', 'error']).default(process.env.LOG_LEVEL ?? 'info'))
  .option('--env <KEY=VALUE...>', 'extra environment for the function processes (e.g. RESTOCK_CHUNK_SIZE=50)', [])
  .option('--sink-token <token>', 'bearer token the sink requires and the functions send')
  .option('--channels <list>', 'channels sent directly (email through the local SMTP server, push through the FCM stand-in, webpush through the web push stand-in) instead of through the sink, e.g. email,push,webpush', '')
  .option('--smtp-view-port <port>', 'port of the mail server\'s HTTP view (env SMTP_VIEW_PORT)', process.env.SMTP_VIEW_PORT ?? String(DEFAULT_SMTP_VIEW_PORT))
  .option('--state-file <path>', 'where to describe the running stack', DEFAULT_STATE_FILE)
  .option('--dir <path>', 'where logs (<dir>/logs) and bookkeeping go', join(REPO_ROOT, '.local'));
for (const [name, { flag, env }] of Object.entries(PORT_FLAGS) as [ComponentName, { flag: string; env: string }][]) {
  program.option(`--${flag} <port>`, `port of ${name} (env ${env})`, process.env[env] ?? String(DEFAULT_PORTS[name]));
}
program.parse();
const opts = program.opts<Record<string, string | string[] | undefined>>();

const stateFile = resolve(opts.stateFile as string);
const already = await findRunningStack(stateFile);
if (already) {
  process.stderr.write(`${pc.red('A stack is already running')} (launcher pid ${already.launcherPid}, ${stateFile}).\n`);
  process.exit(1);
}

const ports = Object.fromEntries(
  (Object.keys(PORT_FLAGS) as ComponentName[]).map((name) => {
    const { flag, env } = PORT_FLAGS[name];
    const given = opts[camel(flag)] as string;
    // 0 means "any free port"; anything that is not a port is a usage error, never silently "any".
    if (!/^\d{1,5}$/.test(given) || Number(given) > 65535) {
      process.stderr.write(`--${flag} (or ${env}) must be a port number from 0 to 65535, got ${JSON.stringify(given)}\n`);
      process.exit(2);
    }
    return [name, Number(given)];
  }),
) as Record<ComponentName, number>;
const env = Object.fromEntries(
  (opts.env as string[]).map((pair) => {
    const i = pair.indexOf('=');
    if (i < 1) {
      process.stderr.write(`--env expects KEY=VALUE, got ${JSON.stringify(pair)}\n`);
      process.exit(2);
    }
    return [pair.slice(0, i), pair.slice(i + 1)];
  }),
);

const channels = (opts.channels as string).split(',').map((c) => c.trim()).filter(Boolean);
const unknownChannel = channels.find((c) => !(CHANNELS as readonly string[]).includes(c));
if (unknownChannel !== undefined) {
  process.stderr.write(`--channels takes ${CHANNELS.join(', ')}, got ${JSON.stringify(unknownChannel)}\n`);
  process.exit(2);
}
const smtpViewPort = opts.smtpViewPort as string;
if (!/^\d{1,5}$/.test(smtpViewPort) || Number(smtpViewPort) > 65535) {
  process.stderr.write(`--smtp-view-port (or SMTP_VIEW_PORT) must be a port number from 0 to 65535, got ${JSON.stringify(smtpViewPort)}\n`);
  process.exit(2);
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

let stack: Stack | undefined;
let stopping = false;
const stop = async (signal: string): Promise<void> => {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`\n${signal}: stopping the stack...\n`);
  await stack?.stop();
  process.stderr.write('stopped.\n');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGHUP', () => void stop('SIGHUP'));
// `kill <npm pid>` ends npm without passing the signal on: stop as if it had.
watchWrappers((pid) => void stop(`the process that started the stack (pid ${pid}) is gone`));

try {
  stack = await startStack({
    host: opts.host as string,
    ports,
    smtpViewPort: Number(smtpViewPort),
    env: { ...directChannelEnv(channels), ...env },
    dir: resolve(opts.dir as string),
    stateFile,
    logLevel: opts.logLevel as 'debug' | 'info' | 'warn' | 'error',
    ...(opts.sinkToken ? { sinkToken: opts.sinkToken as string } : {}),
    onProgress: (message) => process.stderr.write(pc.dim(`  ${message}\n`)),
    onComponentExit: (name, code, signal, logFile) => {
      if (!stopping) process.stderr.write(`${pc.red(`${name} exited`)} (code ${code}, signal ${signal}); see ${logFile}\n`);
    },
  });
} catch (err) {
  process.stderr.write(`${pc.red('The stack did not start:')} ${(err as Error).message}\n`);
  process.exit(1);
}
if (stopping) await new Promise(() => {}); // a signal arrived while starting; stop() exits

const d = stack.description;
const lines = [
  `${pc.green('Restock stack ready')} in ${stack.startupMs.total} ms: ` +
    `firestore=${d.firestore} pubsub=${d.pubsub} tasks=${d.tasks} ` +
    `fanOutRestock=${d.functions.fanOutRestock} deliverRestockBatch=${d.functions.deliverRestockBatch} ` +
    `restockSubscriptions=${d.functions.restockSubscriptions} restockUnsubscribe=${d.functions.restockUnsubscribe} relayOutbox=${d.functions.relayOutbox} sink=${d.sink} inventory=${d.inventory} ` +
    `smtp=${d.smtp.smtp} (received mail: ${d.smtp.url}/messages) fcm=${d.fcm} (received pushes: ${d.fcm}/messages) webpush=${d.webpush} (subscriptions: POST ${d.webpush}/subscriptions, decrypted pushes: ${d.webpush}/messages)`,
  `  console ${pc.bold(`${d.console}/`)} (restocks and their progress, demand, a shopper's trace)`,
  '',
  '  # to use it from another shell (the restock CLI, replay and redrive included):',
  ...Object.entries(shellEnv(d)).map(([k, v]) => `  export ${k}=${shellQuote(v)}`),
  '',
  `  described in ${stateFile}; logs in ${d.logsDir}/<component>.log`,
  `  topic ${d.topic} → push subscription ${d.subscription} → ${d.functions.fanOutRestock} (dead letters: ${d.deadLetterSubscription})`,
  `  queue${d.deliveryQueues.length > 1 ? 's' : ''} ${d.deliveryQueues.join(', ')} → ${d.functions.deliverRestockBatch}; continuations: ${d.continuationQueue} → ${d.functions.fanOutRestock}`,
  `  email → ${channels.includes('email') ? `smtp (${d.smtp.smtp})` : `sink (${d.sink})`}, push → ${channels.includes('push') ? `fcm (${d.fcm})` : `sink (${d.sink})`}, webpush → ${channels.includes('webpush') ? `webpush (${d.webpush})` : `sink (${d.sink})`}`,
  `  inventory ${d.inventory}/v1/products/{productId}/stock → outbox → ${d.topic} (sweep every ${d.sweepIntervalMs} ms: ${d.functions.relayOutbox})`,
  '  Ctrl-C stops everything.',
];
process.stdout.write(lines.join('\n') + '\n');
