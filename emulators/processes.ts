/** Whether processes still exist, for the launchers and their watchdogs (signal 0 probes without signalling). */

/** Whether process `pid` exists (EPERM: it does, owned by someone else). */
export function processAlive(pid: number): boolean {
  return probe(pid);
}

/** Whether any process of the process group led by `pid` exists. */
export function groupAlive(pid: number): boolean {
  return probe(-pid);
}

function probe(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
