/**
 * How to run the Firestore and Pub/Sub emulators of the Google Cloud CLI.
 * The Java emulators are started directly when their files are found (about
 * a second each), else through `gcloud emulators ... start` (several seconds
 * of Python first).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { ToolMissingError } from './errors.ts';

export interface Command {
  command: string;
  args: string[];
}

const FIRESTORE_JAR = 'platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';
const FIRESTORE_MAIN = 'com.google.cloud.datastore.emulator.firestore.CloudFirestore';
const PUBSUB_SCRIPT = 'platform/pubsub-emulator/bin/cloud-pubsub-emulator';

function onPath(executable: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, executable);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

let sdkRootCache: string | null | undefined;

/**
 * The Google Cloud SDK root: `CLOUDSDK_ROOT_DIR`, else the directory above the
 * real `gcloud` binary, else what `gcloud info` says. Null when there is none.
 */
export function sdkRoot(): string | null {
  if (sdkRootCache !== undefined) return sdkRootCache;
  const candidates: string[] = [];
  if (process.env.CLOUDSDK_ROOT_DIR) candidates.push(process.env.CLOUDSDK_ROOT_DIR);
  const gcloud = onPath('gcloud');
  if (gcloud) {
    candidates.push(dirname(dirname(realpathSync(gcloud))));
  }
  let found = candidates.find((c) => existsSync(join(c, 'platform')));
  if (!found && gcloud) {
    try {
      found = execFileSync('gcloud', ['info', '--format=value(installation.sdk_root)'], { encoding: 'utf8' }).trim();
    } catch {
      found = undefined;
    }
  }
  sdkRootCache = found ?? null;
  return sdkRootCache;
}

function requireGcloud(component: string): void {
  if (!onPath('gcloud')) {
    throw new ToolMissingError(
      'gcloud',
      `the ${component} emulator needs the Google Cloud CLI with its emulator components (gcloud components install cloud-firestore-emulator pubsub-emulator beta)`,
    );
  }
}

function requireJava(): void {
  if (!onPath('java') && !process.env.JAVA_HOME) {
    throw new ToolMissingError('java', 'the Firestore and Pub/Sub emulators need Java on PATH (21: newer Firestore emulators require it; README.md "The two commands")');
  }
}

/** The command that runs the Firestore emulator on host:port. */
export function firestoreCommand(host: string, port: number, importData?: string): Command {
  requireJava();
  const root = sdkRoot();
  const jar = root ? join(root, FIRESTORE_JAR) : undefined;
  const imported = importData ? [`--import-data=${importData}`] : [];
  if (jar && existsSync(jar)) {
    // The jar has no Main-Class: run the class the SDK's own wrapper script runs.
    return {
      command: javaBinary(),
      args: ['-Duser.language=en', '-cp', jar, FIRESTORE_MAIN, 'start', `--host=${host}`, `--port=${port}`, ...imported],
    };
  }
  requireGcloud('Firestore');
  return { command: 'gcloud', args: ['emulators', 'firestore', 'start', `--host-port=${host}:${port}`, '--quiet', ...imported] };
}

/** The command that runs the Pub/Sub emulator on host:port. */
export function pubsubCommand(host: string, port: number, dataDir: string): Command {
  requireJava();
  const root = sdkRoot();
  const script = root ? join(root, PUBSUB_SCRIPT) : undefined;
  if (script && existsSync(script)) {
    return { command: script, args: [`--host=${host}`, `--port=${port}`] };
  }
  requireGcloud('Pub/Sub');
  return {
    command: 'gcloud',
    args: ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}:${port}`, `--data-dir=${dataDir}`, '--quiet'],
  };
}

function javaBinary(): string {
  const fromHome = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  return fromHome && existsSync(fromHome) ? fromHome : 'java';
}

const SPANNER_GATEWAY = 'bin/cloud_spanner_emulator/gateway_main';

/**
 * The command that runs the Spanner emulator (gRPC on `grpcPort`, REST on
 * `httpPort`): its native gateway when the SDK has it, else `gcloud emulators
 * spanner start`. No Java: the emulator is a native binary.
 */
export function spannerCommand(host: string, grpcPort: number, httpPort: number): Command {
  const root = sdkRoot();
  const gateway = root ? join(root, SPANNER_GATEWAY) : undefined;
  if (gateway && existsSync(gateway)) {
    return { command: gateway, args: ['--hostname', host, '--grpc_port', String(grpcPort), '--http_port', String(httpPort)] };
  }
  requireGcloud('Spanner');
  return { command: 'gcloud', args: ['emulators', 'spanner', 'start', `--host-port=${host}:${grpcPort}`, `--rest-port=${httpPort}`, '--quiet'] };
}
