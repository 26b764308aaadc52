/**
 * Preloaded into each function process of the bench's stack
 * (`NODE_OPTIONS=--import tsx --import bench/preload-rpc-counter.ts`): counts
 * the process's Firestore RPCs and writes them to
 * `$RESTOCK_BENCH_RPC_DIR/<pid>.json` a few times a second and at exit, where
 * the bench reads them. Nothing of it reaches `lib/`.
 */
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { instrumentFirestore, processRpcCounts } from './rpc-counter.ts';

const dir = process.env.RESTOCK_BENCH_RPC_DIR;
if (dir) {
  instrumentFirestore();
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}.json`);
  let last = '';
  const flush = (): void => {
    const text = JSON.stringify(processRpcCounts());
    if (text === last) return;
    last = text;
    // Written aside and renamed, so a reader never sees half a file.
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  setInterval(flush, 100).unref();
  process.on('exit', flush);
}
