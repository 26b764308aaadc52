/** Which failed starts of the stack are worth another try on fresh ports. */
import { readFileSync } from 'node:fs';
import { ComponentStartError } from './errors.ts';

/** Why a failed start is worth another try on fresh ports, or undefined when it is not. */
export function retryableStart(err: unknown): string | undefined {
  if (lostPortRace(err)) return 'a port was taken while starting';
  if (err instanceof ComponentStartError && err.reason === 'timeout') return `${err.component} never answered`;
  return undefined;
}

/** Whether a failed start failed because a component could not bind its port. */
function lostPortRace(err: unknown): boolean {
  if (!(err instanceof ComponentStartError)) return false;
  const bindFailure = /EADDRINUSE|address already in use|BindException/i;
  if (bindFailure.test(err.message)) return true;
  try {
    return err.logFile !== undefined && bindFailure.test(readFileSync(err.logFile, 'utf8').slice(-20_000));
  } catch {
    return false;
  }
}
