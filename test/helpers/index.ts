/** Everything integration tests need from the harness, in one import. */
export * from './factories.ts';
export * from './sink.ts';
export * from './stack.ts';
export * from './wait.ts';

import { stack } from './stack.ts';
import type { SinkClient } from './sink.ts';

/** The shared stack's sink: `sink().stats(productId)`, `.notifications(productId)`, `.faults({...})`. */
export function sink(): SinkClient {
  return stack().sink;
}
