/**
 * The shape of `.local/stack.json`, the file `npm start` writes for a running
 * local stack and every client of that stack reads (the `restock` CLI, the
 * launcher's own readers, the demo). It lives here, beside neither, so the CLI
 * (which ships) and the emulators (which do not) share one parser without
 * importing each other. Fields other than these are kept, unchecked.
 */
import { z } from 'zod';

const localStackSchema = z.looseObject({
  projectId: z.string().min(1),
  firestore: z.string().min(1),
  pubsub: z.string().min(1),
  tasks: z.string().min(1).optional(),
  topic: z.string().min(1).optional(),
  deadLetterSubscription: z.string().min(1).optional(),
  /** Function name → URL (or `{ url }`): replay and redrive create tasks that target them. */
  functions: z.record(z.string(), z.union([z.string(), z.object({ url: z.string() }).loose()])).optional(),
  /** Environment the stack's functions run with, when the launcher records it. */
  env: z.record(z.string(), z.string()).optional(),
  /** The process that started the stack: a file whose launcher is gone is stale. */
  launcherPid: z.number().int().positive().optional(),
});

/** A parsed `.local/stack.json`. */
export type LocalStack = z.infer<typeof localStackSchema>;

/** A stack file that is not JSON or not a stack description. */
export class StackFileError extends Error {
  override readonly name = 'StackFileError';
  constructor(
    readonly path: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}${problem}`, options);
  }
}

/** Parses the stack file's text. @throws StackFileError saying what is wrong with it. */
export function parseLocalStack(text: string, path: string): LocalStack {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StackFileError(path, ' is not JSON', { cause: err });
  }
  const parsed = localStackSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StackFileError(path, `: ${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'}`, { cause: parsed.error });
  }
  return parsed.data;
}
