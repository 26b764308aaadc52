/**
 * `restock publish`: publishes an `inventory.updated` event exactly as the
 * inventory service does (same data JSON, an `eventId` attribute carrying a
 * fresh UUID), for tests and manual recovery.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { inventoryEventSchema, type InventoryEvent } from '../../events/index.ts';
import { idArg, intArg } from '../args.ts';
import type { Backend } from '../backend.ts';
import { guard } from '../guard.ts';
import { outputFor, type Context } from '../context.ts';
import { UsageError } from '../errors.ts';

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
    .option('--sequence <n>', 'per-product sequence; events not newer than the last seen are stale (default: now in ms)', intArg(0))
    .option('--name <name>', 'product name carried in the notification')
    .option('--url <url>', 'product page carried in the notification')
    .option('--event-id <id>', 'eventId attribute (default: a new UUID); reuse one to test dedup', idArg)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock publish --product sku-123 --available 12 --previous 0\n  $ restock publish --product sku-123 --available 5 --sequence 42 --name "Trail shoe" --json')
    .action(async (opts: { product: string; available: number; previous?: number; sequence?: number; name?: string; url?: string; eventId?: string }, command: Command) => {
      const out = outputFor(ctx, command);
      const nowMs = ctx.nowMs();
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
      const ops = await ctx.ops();
      const topic = ops.settings.topic;
      out.notice(`publishing inventory.updated for ${event.productId} (available ${event.available}, sequence ${event.sequence}) to ${topic}`);
      const messageId = await ops.publish(topic, Buffer.from(JSON.stringify(event)), { eventId });
      const result: PublishResult = { topic, eventId, messageId, event };
      out.result(result);
      out.line(`published eventId ${out.c.bold(eventId)} messageId ${messageId}`);
      out.line(`follow it with: restock status ${eventId}`);
    });
}
