/**
 * One component of the stack as a child process that leads its own process
 * group, so stopping it stops everything it spawned (the gcloud wrapper's
 * Java, a shell script's exec). Its stdout and stderr go straight to a log
 * file (no piping through the launcher, so a busy launcher never slows it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ComponentStartError, type StartFailure } from './errors.ts';
import { pollUntil } from './ports.ts';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  logFile: string;
  /** Resolves true once the component serves requests. */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
  /** Called when the process exits without {@link ManagedProcess.stop} having been asked (a crash, a test's kill). */
  onUnexpectedExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** How long a component gets to exit after SIGTERM before its group is SIGKILLed. */
const STOP_GRACE_MS = 5_000;
/** How long stop() waits for the kernel to take down the rest of a SIGKILLed group. */
const GROUP_GONE_MS = 3_000;

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private running = false;
  private stopRequested = false;
  private spawnError: Error | undefined;
  /** Set once started: a restart appends to the log instead of truncating it. */
  private started = false;

  constructor(public spec: ProcessSpec) {}

  /** Process id of the group leader (the group id too); undefined before start. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Whether the leader is still running. */
  get alive(): boolean {
    return this.running;
  }

  /** Spawns the process and waits until `spec.ready` holds. Throws {@link ComponentStartError}. */
  async start(): Promise<void> {
    const { spec } = this;
    mkdirSync(dirname(spec.logFile), { recursive: true });
    // A fresh log per stack; a restart appends, so a test sees what happened before the kill.
    const fd = openSync(spec.logFile, this.started ? 'a' : 'w');
    this.started = true;
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true, // own process group: Ctrl-C in the terminal reaches the launcher only, which stops the groups in order
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.running = true;
    this.stopRequested = false;
    this.exitCode = null;
    this.exitSignal = null;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.running = false;
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
        if (!this.stopRequested) spec.onUnexpectedExit?.(code, signal);
      });
      child.once('error', (err) => {
        this.running = false;
        this.spawnError = err;
        resolve();
      });
    });
    const ok = await pollUntil(spec.ready, { timeoutMs: spec.readyTimeoutMs, abandon: () => !this.running });
    if (!ok) {
      const reason: StartFailure = this.spawnError ? 'spawn' : this.running ? 'timeout' : 'exited';
      const why = {
        spawn: () => `could not run ${spec.command}: ${this.spawnError?.message}`,
        timeout: () => `not ready after ${spec.readyTimeoutMs} ms`,
        exited: () => `exited (code ${this.exitCode}, signal ${this.exitSignal})`,
      }[reason]();
      await this.stop();
      throw new ComponentStartError(spec.name, `${why}\n${this.logTail()}`, spec.logFile, { cause: this.spawnError, reason });
    }
  }

  /** Sends `signal` to the whole process group (no-op when it is gone). */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** SIGTERM to the group, SIGKILL after a grace period; resolves once the leader is gone and the group is killed. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    if (!this.child) return;
    this.stopRequested = true;
    if (this.running) {
      this.kill('SIGTERM');
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) this.kill('SIGKILL');
      await this.exited;
    }
    // The leader may be gone while members of its group live on (a wrapper's child).
    this.kill('SIGKILL');
    await pollUntil(async () => !this.groupAlive(), { timeoutMs: GROUP_GONE_MS, intervalMs: 20 });
  }

  /** Whether any process of the group is still alive (the leader's pid is the group id). */
  groupAlive(): boolean {
    const pid = this.child?.pid;
    if (pid === undefined) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /** Synchronous last resort when the launcher itself is exiting. */
  killNow(): void {
    this.kill('SIGKILL');
  }

  /** The last lines of the log, for error messages, with Java stack frames folded (see {@link foldStackFrames}). */
  logTail(lines = 20): string {
    try {
      return foldStackFrames(readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n')).slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

/** Frames kept from the top of each Java stack trace; the rest become one line. */
const FRAMES_KEPT = 3;

/**
 * Folds each run of Java stack frames (`\tat …`) to its first few and a count,
 * so a log's last lines still show which exception it was: a bare tail of a
 * long trace shows only Netty's event loop (a Pub/Sub emulator that never
 * answered once left exactly that, and nothing to go on).
 */
export function foldStackFrames(lines: string[]): string[] {
  const folded: string[] = [];
  let run = 0;
  const closeRun = (): void => {
    if (run > FRAMES_KEPT) folded.push(`\t… ${run - FRAMES_KEPT} more frames`);
    run = 0;
  };
  for (const line of lines) {
    if (/^\s+at /.test(line)) {
      run++;
      if (run <= FRAMES_KEPT) folded.push(line);
      continue;
    }
    closeRun();
    folded.push(line);
  }
  closeRun();
  return folded;
}
