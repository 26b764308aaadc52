/** Errors of the local stack launcher. */

/** Why a component did not start: its command could not run, it exited, or it never answered its readiness probe. */
export type StartFailure = 'spawn' | 'exited' | 'timeout';

/** A component did not start: it exited, or did not answer in time. `component` names it; the message carries its log tail. */
export class ComponentStartError extends Error {
  override readonly name = 'ComponentStartError';
  /** Undefined when the failure came from elsewhere (a wiring step after the component answered). */
  readonly reason: StartFailure | undefined;
  constructor(
    readonly component: string,
    problem: string,
    readonly logFile?: string,
    options?: { cause?: unknown; reason?: StartFailure },
  ) {
    super(`${component} did not start: ${problem}${logFile ? ` (log: ${logFile})` : ''}`, options);
    this.reason = options?.reason;
  }
}

/** A required tool (Java, the Google Cloud CLI emulators) is missing. */
export class ToolMissingError extends Error {
  override readonly name = 'ToolMissingError';
  constructor(
    readonly tool: string,
    hint: string,
    options?: { cause?: unknown },
  ) {
    super(`${tool} not found: ${hint}`, options);
  }
}

/** A fixed port is already taken (another stack, or another program). */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly component: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(
      `port ${port} for ${component} is in use: stop what holds it (is \`npm start\` already running?) or choose another port`,
      options,
    );
  }
}

/** The stack was asked about a component it does not run. */
export class UnknownComponentError extends Error {
  override readonly name = 'UnknownComponentError';
  constructor(readonly component: string) {
    super(`no component named ${JSON.stringify(component)} in this stack`);
  }
}
