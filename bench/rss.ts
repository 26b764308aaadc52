/**
 * Memory of another process, from `/proc/<pid>/status` (Linux): the resident
 * set now (`VmRSS`) and its peak since the process started (`VmHWM`).
 */
import { readFileSync } from 'node:fs';

/**
 * The V8 heap fanOutRestock has as deployed, for the bench's fan-out process.
 * Node sizes its heap from the memory its container may use (libuv reads the
 * cgroup limit): under terraform's default fanOutRestock memory (`function_config`) of 512 MiB, Node 20
 * and 24 both report a `heap_size_limit` of 259 MiB, which these two flags
 * reproduce exactly (measured with the process in a 512 MiB memory cgroup).
 * Without them, on a machine with 24 GiB and no limit, V8 lets the old space
 * grow to several hundred MiB of garbage before collecting: the peak then
 * follows how long the run lasts, not what the fan-out holds (at 50,000 the
 * live heap after a full collection stayed at 54-57 MiB throughout while the
 * peak RSS reached 314 MiB, against 215 MiB at 5,000).
 */
export const FANOUT_HEAP_AS_DEPLOYED = { memory: '512Mi', nodeOptions: '--max-old-space-size=256 --max-semi-space-size=1' } as const;

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
