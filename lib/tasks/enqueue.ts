/**
 * Creating HTTP tasks on the pipeline's queues (lib/tasks/queues.ts says
 * which): named (so a retried create is idempotent), with an OIDC token when a
 * service account is configured, the creator's trace as a `traceparent`
 * header, and retried on transient gRPC errors (lib/grpc.ts).
 */
import pRetry, { AbortError } from 'p-retry';
import { status } from '@grpc/grpc-js';
import type { CloudTasksClient } from '@google-cloud/tasks';
import type { Config } from '../config.ts';
import { grpcCode, isTransientGrpcError } from '../grpc.ts';
import { outgoingTraceparent } from '../trace/index.ts';
import { taskSignatureHeaders } from './signature.ts';

/**
 * Creating a task failed for a reason other than its name being taken.
 * `permanent` when the queue refused for a reason no retry changes (the queue
 * is missing or paused for good, permission denied, the request invalid):
 * the work that needed the task cannot progress until someone fixes that.
 */
export class EnqueueError extends Error {
  override readonly name = 'EnqueueError';
  /** True when the cause is not transient (lib/grpc.ts): retrying the same create cannot succeed. */
  readonly permanent: boolean;
  constructor(
    readonly taskId: string,
    options: { cause: unknown },
  ) {
    super(`could not create task ${taskId}: ${(options.cause as Error)?.message ?? options.cause}`, options);
    this.permanent = !isTransientGrpcError(options.cause);
  }
}

/** One HTTP task to create: its id, target, body and OIDC audience. */
export interface HttpTask {
  /** Full resource name of the queue: `projects/P/locations/L/queues/Q` (lib/tasks/queues.ts). */
  queue: string;
  /** Task id (the last segment of its name): `[A-Za-z0-9_-]{1,500}`. */
  taskId: string;
  url: string;
  body: unknown;
  /** Extra headers (CloudEvent attributes for continuations). */
  headers?: Record<string, string>;
  /** `aud` of the OIDC token; Cloud Run and our own verification both expect the target's URL. */
  audience: string;
  /** When to dispatch; now when omitted. */
  scheduleTimeMs?: number;
}

/**
 * The ambient trace (lib/trace) as a `traceparent` header, so the task's run
 * logs under the trace of the work that created it. Cloud Tasks passes it
 * through to the target like any header it does not reserve.
 */
function traceHeader(): Record<string, string> {
  const traceparent = outgoingTraceparent();
  return traceparent ? { traceparent } : {};
}

/** `created`, or `exists` when a task of that name exists or ran within the reuse window. */
export type EnqueueResult = 'created' | 'exists';

/**
 * Creates one HTTP task. ALREADY_EXISTS is success (`exists`): the caller
 * named the task after its content, so an existing task does the same work.
 * The body is signed for the task's audience (./signature.ts).
 * @throws EnqueueError after the retries on transient errors are spent, or at once on others; ConfigError without signing keys outside the emulators.
 */
export async function enqueueHttpTask(client: CloudTasksClient, config: Config, task: HttpTask): Promise<EnqueueResult> {
  const parent = task.queue;
  const body = Buffer.from(JSON.stringify(task.body));
  const request = {
    parent,
    task: {
      name: `${parent}/tasks/${task.taskId}`,
      ...(task.scheduleTimeMs !== undefined
        ? { scheduleTime: { seconds: Math.floor(task.scheduleTimeMs / 1000), nanos: (task.scheduleTimeMs % 1000) * 1e6 } }
        : {}),
      httpRequest: {
        url: task.url,
        httpMethod: 'POST' as const,
        headers: { 'Content-Type': 'application/json', ...traceHeader(), ...task.headers, ...taskSignatureHeaders(config, task.audience, body) },
        body,
        ...(config.tasksServiceAccount
          ? { oidcToken: { serviceAccountEmail: config.tasksServiceAccount, audience: task.audience } }
          : {}),
      },
    },
  };
  try {
    return await pRetry(
      async () => {
        try {
          await client.createTask(request);
          return 'created' as const;
        } catch (err) {
          if (grpcCode(err) === status.ALREADY_EXISTS) return 'exists' as const;
          if (!isTransientGrpcError(err)) throw new AbortError(err as Error);
          throw err;
        }
      },
      { retries: 4, minTimeout: 100, maxTimeout: 2000, randomize: true },
    );
  } catch (err) {
    throw new EnqueueError(task.taskId, { cause: err });
  }
}
