/** Errors of the local stack launcher. */

/** A component did not start: it exited, or did not answer in time. `component` names it; the message carries its log tail. */
export class ComponentStartError extends Error {
  override readonly name = 'ComponentStartError';
  constructor(
    readonly component: string,
    problem: string,
    readonly logFile?: string,
    options?: { cause?: unknown },
  ) {
    super(`${component} did not start: ${problem}${logFile ? ` (log: ${logFile})` : ''}`, options);
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
