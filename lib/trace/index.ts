/**
 * Trace correlation: which trace a request's work belongs to, so that one
 * restock's log lines, from the stock change to the last notification, group
 * as one trace in Cloud Logging (docs/operate.md "Following one restock").
 *
 * The context of the request being served is ambient (AsyncLocalStorage):
 * the logger stamps it on every line, and whatever calls the next hop
 * (a Cloud Tasks task, a Pub/Sub publish) sends it on, without threading it
 * through every call in between.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { formatTraceparent, type TraceContext } from './context.ts';

export {
  formatTraceparent,
  parseCloudTraceContext,
  parseTraceparent,
  startTrace,
  traceFromAttributes,
  traceFromRequest,
  TRACE_ATTRIBUTES,
  type TraceContext,
} from './context.ts';

const current = new AsyncLocalStorage<TraceContext>();

/** Runs `fn` with `context` as the ambient trace of everything it does, awaited work included. */
export function runWithTrace<T>(context: TraceContext, fn: () => T): T {
  return current.run(context, fn);
}

/** The ambient trace, or undefined outside {@link runWithTrace}. */
export function currentTrace(): TraceContext | undefined {
  return current.getStore();
}

/** The `traceparent` to send to the next hop, or undefined when no trace is ambient. */
export function outgoingTraceparent(): string | undefined {
  const context = current.getStore();
  return context ? formatTraceparent(context) : undefined;
}
