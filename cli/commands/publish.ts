/**
 * `restock publish`: publishes an `inventory.updated` event exactly as the
 * inventory service does (same data JSON, an `eventId` attribute carrying a
 * fresh UUID), for tests and manual recovery.
 *
 * Anywhere but the Pub/Sub emulator it acts on real shoppers, so there it asks
 * first (naming the project; `--yes` for scripts, and a script without it is
 * refused rather than left waiting), requires `--sequence` (the default, the
 * current time in ms, would make every later event of a producer that counts
 * stale), and takes `--previous` — which forces the judgement "was sold out"
 * whatever the stored stock — only with `--force`.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { inventoryEventSchema, type InventoryEvent } from '../../lib/events/index.ts';
import { idArg, intArg } from '../args.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { UsageError } from '../errors.ts';
import { formatTraceparent, startTrace } from '../../lib/trace/index.ts';

export interface PublishInput {
  productId: string;
  available: number;
  previousAvailable?: number | undefined;
  sequence: number;
  occurredAtMs: number;
  name?: string | undefined;
  url?: string | undefined;
}

/**
 * Builds the event's data and validates it with the pipeline's own schema
 * (lib/events), so what this publishes is never rejected as malformed.
 * @throws UsageError naming the flag behind the first invalid field.
 */
export function buildInventoryEvent(input: PublishInput): InventoryEvent {
  const product = input.name || input.url ? { ...(input.name ? { name: input.name } : {}), ...(input.url ? { url: input.url } : {}) } : undefined;
  const candidate = {
    type: 'inventory.updated',
    version: 1,
    productId: input.productId,
    available: input.available,
    ...(input.previousAvailable !== undefined ? { previousAvailable: input.previousAvailable } : {}),
    sequence: input.sequence,
    occurredAt: new Date(input.occurredAtMs).toISOString(),
    ...(product ? { product } : {}),
  };
  const parsed = inventoryEventSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path.at(-1) ?? '');
    const flag = { productId: '--product', available: '--available', previousAvailable: '--previous', sequence: '--sequence', name: '--name', url: '--url' }[field] ?? field;
    throw new UsageError(`${flag}: ${issue?.message ?? 'invalid'}`, flag, { cause: parsed.error });
  }
  return parsed.data;
}

export interface PublishResult {
  topic: string;
  eventId: string;
  messageId: string;
  event: InventoryEvent;
  /** The trace the restock's log lines carry (docs/operate.md "Following one restock"). */
  traceId: string;
}

/** Publishes `data` with `attributes` to `topic` and resolves to the messageId. @throws BackendError */
export async function publishMessage(backend: Backend, topic: string, data: Buffer, attributes: Record<string, string>): Promise<string> {
  return guard('publish to', `topic ${topic}`, backend.pubsub.topic(topic).publishMessage({ data, attributes }));
}

/** Registers `publish`. */
export function registerPublish(program: Command, ctx: Context): void {
  program
    .command('publish')
    .description('publish a well-formed inventory.updated event (testing, manual recovery)')
    .requiredOption('--product <productId>', 'the product', idArg)
    .requiredOption('--available <n>', 'units now available', intArg(0))
    .option('--previous <n>', 'units available before this change', intArg(0))
    .option('--sequence <n>', 'per-product sequence; events not newer than the last seen are stale (default on the emulators: now in ms; required elsewhere)', intArg(0))
    .option('--name <name>', 'product name carried in the notification')
    .option('--url <url>', 'product page carried in the notification')
    .option('--event-id <id>', 'eventId attribute (default: a new UUID); reuse one to test dedup', idArg)
    .option('--force', 'outside the emulators: allow --previous, which forces a restock whatever the stored stock')
    .option('-y, --yes', 'outside the emulators: do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  $ restock publish --product sku-123 --available 12 --previous 0\n  $ restock publish --product sku-123 --available 5 --sequence 42 --name "Trail shoe" --json\n  $ restock --project shop-prod publish --product sku-123 --available 5 --sequence 1042 --yes',
    )
    .action(async (opts: { product: string; available: number; previous?: number; sequence?: number; name?: string; url?: string; eventId?: string; force?: boolean; yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const nowMs = ctx.nowMs();
      const ops = await ctx.ops();
      const { projectId, emulators } = ops.target;
      if (!emulators.pubsub) {
        if (opts.sequence === undefined) {
          throw new UsageError(`--sequence: required outside the emulators (project ${projectId}): the default, the current time in ms, would make every later event of a producer that counts stale`, '--sequence');
        }
        if (opts.previous !== undefined && !opts.force) {
          throw new UsageError(`--previous forces a restock whatever the stored stock; outside the emulators (project ${projectId}) pass --force as well to mean it`, '--force');
        }
      }
      const event = buildInventoryEvent({
        productId: opts.product,
        available: opts.available,
        previousAvailable: opts.previous,
        sequence: opts.sequence ?? nowMs,
        occurredAtMs: nowMs,
        name: opts.name,
        url: opts.url,
      });
      const eventId = opts.eventId ?? randomUUID();
      const topic = ops.settings.topic;
      if (!emulators.pubsub) {
        await confirmOrAbort(
          ctx,
          opts.yes,
          `Publish inventory.updated for ${event.productId} (available ${event.available}, sequence ${event.sequence}) to topic ${topic} in Google Cloud project ${projectId}? If it is a restock, every shopper waiting for it is notified.`,
        );
      }
      out.notice(`publishing inventory.updated for ${event.productId} (available ${event.available}, sequence ${event.sequence}) to ${topic}`);
      // The restock starts its trace here: fan-out and delivery log under it (lib/trace).
      const trace = startTrace();
      const messageId = await ops.publish(topic, Buffer.from(JSON.stringify(event)), { eventId, traceparent: formatTraceparent(trace) });
      const result: PublishResult = { topic, eventId, messageId, event, traceId: trace.traceId };
      out.result(result);
      out.line(`published eventId ${out.c.bold(eventId)} messageId ${messageId}`);
      out.line(`follow it with: restock status ${eventId}`);
      out.line(`its log lines carry trace ${trace.traceId} (docs/operate.md "Following one restock in Cloud Logging")`);
    });
}
