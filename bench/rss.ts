/**
 * Memory of another process, from `/proc/<pid>/status` (Linux): the resident
 * set now (`VmRSS`) and its peak since the process started (`VmHWM`).
 */
import { readFileSync } from 'node:fs';

/** The process is gone or `/proc` does not say (not Linux). */
export class ProcessMemoryUnavailableError extends Error {
  override readonly name = 'ProcessMemoryUnavailableError';
  constructor(
    readonly pid: number,
    options?: { cause?: unknown },
  ) {
    super(`cannot read the memory of process ${pid} from /proc/${pid}/status (is it running, and is this Linux?)`, options);
  }
}

/** Reads one `Vm*` line of a `/proc/<pid>/status` text, in MiB. Pure. */
export function parseStatusMb(status: string, field: 'VmRSS' | 'VmHWM'): number | undefined {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  return m ? Number(m[1]) / 1024 : undefined;
}

/**
 * Resident and peak-resident memory of `pid`, in MiB.
 * @throws ProcessMemoryUnavailableError
 */
export function processMemoryMb(pid: number): { rssMb: number; peakRssMb: number } {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    throw new ProcessMemoryUnavailableError(pid, { cause: err });
  }
  const rssMb = parseStatusMb(status, 'VmRSS');
  const peakRssMb = parseStatusMb(status, 'VmHWM');
  if (rssMb === undefined || peakRssMb === undefined) throw new ProcessMemoryUnavailableError(pid);
  return { rssMb, peakRssMb };
}
