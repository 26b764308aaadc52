/**
 * `restock backfill --file stock.csv|stock.jsonl`: records the current stock
 * of a catalogue before shoppers can wait for it (docs/inventory-service.md
 * "Before the first event"), one `inventory.updated` per row, published
 * through the same path as `restock publish`.
 *
 * Each row is published as a change from itself to itself
 * (`previousAvailable` = `available`), which is never a restock whatever the
 * stored stock: a backfill notifies nobody, so it needs neither `--force` nor
 * a judgement about the product's past. Running it twice is harmless for two
 * reasons, either of which would be enough: a row's `eventId` is derived from
 * its product and sequence (`backfill:<productId>:<sequence>`), so the
 * fan-out's claim on `fanouts/{eventKey}` finds the first run's event; and a
 * second event with the same sequence is stale (promise 5).
 *
 * Rows are published in batches; after each batch a checkpoint file records
 * the last line done and the file's sha256, so a run that was interrupted
 * (Ctrl-C, a lost connection, a killed job) resumes after the last whole
 * batch. A bad row is reported with its line and field and skipped; the good
 * rows around it are published, and the run exits 1 so a script notices.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { parse as parseCsv } from 'csv-parse';
import { inventoryEventSchema, type InventoryEvent } from '../../lib/events/index.ts';
import { formatTraceparent, startTrace } from '../../lib/trace/index.ts';
import { intArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { BackendError, RowsRejectedError, UsageError } from '../errors.ts';

/** The columns (CSV) or keys (JSON lines) a row may have; the first three are required. */
export const BACKFILL_FIELDS = ['productId', 'available', 'sequence', 'name', 'url'] as const;
const REQUIRED_FIELDS = ['productId', 'available', 'sequence'] as const;

export type BackfillFormat = 'csv' | 'jsonl';

/** One line of the file: the event it publishes, or why it cannot. */
export type StockRow = { line: number; event: InventoryEvent } | { line: number; field: string; problem: string };

/** A row that was not published, and why: reported to the operator, kept in the checkpoint. */
export interface RejectedRow {
  line: number;
  field: string;
  problem: string;
}

/** What the checkpoint file holds between runs. */
export interface BackfillCheckpoint {
  version: 1;
  /** The stock file, absolute, and its sha256: a checkpoint never resumes a different file. */
  file: string;
  sha256: string;
  /** Every line up to this one is done (published or rejected). */
  line: number;
  published: number;
  rejected: RejectedRow[];
  complete: boolean;
}

export interface BackfillResult {
  file: string;
  checkpoint: string;
  topic: string;
  /** Events published by this run. */
  published: number;
  /** Rows an earlier run had already done (resumed from its checkpoint). */
  resumedAfterLine: number;
  /** Rows published by this run and the earlier runs of the same checkpoint. */
  publishedInAll: number;
  rejected: RejectedRow[];
  complete: boolean;
}

/** The event id of a backfilled row: the same row always gets the same one (why a second run is harmless). */
export function backfillEventId(productId: string, sequence: number): string {
  const readable = `backfill:${productId}:${sequence}`;
  // Event keys are at most 500 characters (lib/events); a product id that long gets a digest instead.
  return readable.length <= 500 ? readable : `backfill:${createHash('sha256').update(`${productId}:${sequence}`).digest('hex')}`;
}

/** The format named by `--format`, else by the file's extension. @throws UsageError */
export function formatOf(file: string, format: string | undefined): BackfillFormat {
  const chosen = format ?? { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' }[extname(file).toLowerCase()];
  if (chosen === 'csv' || chosen === 'jsonl') return chosen;
  throw new UsageError(`--file: cannot tell the format of ${file} from its extension: name it .csv or .jsonl, or pass --format csv|jsonl`, '--format');
}

/**
 * Validates one row (strings from a CSV cell or values from a JSON line) with
 * the pipeline's own event schema, as a change from `available` to itself.
 */
export function rowToEvent(line: number, row: Record<string, unknown>, occurredAtMs: number): StockRow {
  for (const key of Object.keys(row)) {
    if (!(BACKFILL_FIELDS as readonly string[]).includes(key)) return { line, field: key, problem: `unknown field (expected ${BACKFILL_FIELDS.join(', ')})` };
  }
  for (const key of REQUIRED_FIELDS) {
    if (row[key] === undefined || row[key] === '') return { line, field: key, problem: 'is missing' };
  }
  for (const key of ['available', 'sequence'] as const) {
    const v = row[key];
    if (!(typeof v === 'number' && Number.isSafeInteger(v)) && !(typeof v === 'string' && /^\s*-?\d+\s*$/.test(v))) {
      return { line, field: key, problem: `must be a whole number, got ${JSON.stringify(v).slice(0, 40)}` };
    }
  }
  // A CSV cell is text: the digits checked above are the number.
  const number = (v: unknown) => (typeof v === 'string' ? Number(v) : v);
  const text = (v: unknown) => (v === '' ? undefined : v);
  const name = text(row.name);
  const url = text(row.url);
  const candidate = {
    type: 'inventory.updated',
    version: 1,
    productId: row.productId,
    available: number(row.available),
    previousAvailable: number(row.available),
    sequence: number(row.sequence),
    occurredAt: new Date(occurredAtMs).toISOString(),
    ...(name !== undefined || url !== undefined ? { product: { ...(name !== undefined ? { name } : {}), ...(url !== undefined ? { url } : {}) } } : {}),
  };
  const parsed = inventoryEventSchema.safeParse(candidate);
  if (parsed.success) return { line, event: parsed.data };
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String) ?? [];
  const field = path[0] === 'product' ? (path[1] ?? 'name') : path[0] === 'previousAvailable' ? 'available' : (path[0] ?? 'row');
  return { line, field, problem: issue?.message ?? 'invalid' };
}

/**
 * Reads the file as rows, streaming (a catalogue of millions of rows is never
 * held in memory). A CSV file needs a header naming its columns.
 * @throws UsageError for a file that cannot be read as its format at all (no header, an unclosed quote).
 */
export async function* readStockRows(file: string, format: BackfillFormat, occurredAtMs: number): AsyncGenerator<StockRow> {
  if (format === 'jsonl') {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
    let line = 0;
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        yield { line, field: 'row', problem: 'is not JSON' };
        continue;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) yield { line, field: 'row', problem: 'must be a JSON object' };
      else yield rowToEvent(line, value as Record<string, unknown>, occurredAtMs);
    }
    return;
  }
  const parser = createReadStream(file).pipe(
    parseCsv({
      columns: (header: string[]) => {
        const columns = header.map((h) => h.trim());
        const missing = REQUIRED_FIELDS.filter((c) => !columns.includes(c));
        if (missing.length) throw new UsageError(`--file: line 1: the header must name the columns ${REQUIRED_FIELDS.join(', ')} (missing ${missing.join(', ')}); optional: name, url`, '--file');
        return columns;
      },
      info: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
      bom: true,
    }),
  );
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number; error?: unknown } }>) {
      yield info.error ? { line: info.lines, field: 'row', problem: 'has a different number of cells than the header' } : rowToEvent(info.lines, record, occurredAtMs);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const line = (err as { lines?: number }).lines;
    throw new UsageError(`--file: ${line !== undefined ? `line ${line}: ` : ''}not readable as CSV: ${(err as Error).message}`, '--file', { cause: err });
  }
}

/** The sha256 of the file and its number of lines (the progress bar's total), in one streaming pass. */
async function fingerprint(file: string): Promise<{ sha256: string; lines: number }> {
  const hash = createHash('sha256');
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    for (const byte of chunk) if (byte === 10) lines++;
    last = chunk.at(-1) ?? last;
  }
  return { sha256: hash.digest('hex'), lines: last === 10 ? lines : lines + 1 };
}

/** Reads a checkpoint, or undefined when there is none. @throws UsageError when it is not one. */
export function readCheckpoint(path: string): BackfillCheckpoint | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as BackfillCheckpoint;
    if (value.version === 1 && typeof value.sha256 === 'string' && Number.isSafeInteger(value.line)) return value;
  } catch {
    // reported below
  }
  throw new UsageError(`--checkpoint: ${path} is not a backfill checkpoint: remove it or name another with --checkpoint`, '--checkpoint');
}

/**
 * The checkpoint a run starts from: the earlier run's when it was of this very
 * file (same sha256), else a fresh one. `shownFile` and `checkpointPath` only
 * name them in the error.
 * @throws UsageError when the earlier checkpoint is of another version of the file (its line would skip the wrong rows).
 */
export function startingCheckpoint(earlier: BackfillCheckpoint | undefined, file: string, sha256: string, shownFile: string, checkpointPath: string): BackfillCheckpoint {
  if (!earlier) return { version: 1, file, sha256, line: 0, published: 0, rejected: [], complete: false };
  if (earlier.sha256 === sha256) return earlier;
  throw new UsageError(
    `--checkpoint: ${checkpointPath} belongs to another version of ${shownFile} (it changed after line ${earlier.line} was done): pass --restart to publish the file from its first line (harmless for rows already published), or name a new --checkpoint`,
    '--checkpoint',
  );
}

/** One step of a run: publish `events`, then record every line up to `lastLine` as done, with `rejected` not published. */
export interface BackfillBatch {
  events: InventoryEvent[];
  rejected: RejectedRow[];
  lastLine: number;
}

/**
 * Plans a run over the file's rows, doing no I/O of its own. Rows at or before
 * `resumedAfterLine` were done by an earlier run and are passed over, though
 * still seen, so a product's second row is caught across a resumption. A bad
 * row, or a product's second row, is rejected; the other rows are published
 * `batchSize` at a time. The last batch may be short, or hold rejections only.
 * Memory: one entry per product (its first line), never the rows themselves.
 */
export async function* planBackfill(rows: AsyncIterable<StockRow>, resumedAfterLine: number, batchSize: number): AsyncGenerator<BackfillBatch> {
  const firstLineOf = new Map<string, number>();
  let batch: BackfillBatch = { events: [], rejected: [], lastLine: resumedAfterLine };
  for await (const row of rows) {
    const first = 'event' in row ? firstLineOf.get(row.event.productId) : undefined;
    if ('event' in row && first === undefined) firstLineOf.set(row.event.productId, row.line);
    if (row.line <= resumedAfterLine) continue;
    if (!('event' in row)) batch.rejected.push({ line: row.line, field: row.field, problem: row.problem });
    else if (first !== undefined) batch.rejected.push({ line: row.line, field: 'productId', problem: `${row.event.productId} is already on line ${first} (one row per product)` });
    else batch.events.push(row.event);
    batch.lastLine = row.line;
    if (batch.events.length >= batchSize) {
      yield batch;
      batch = { events: [], rejected: [], lastLine: row.line };
    }
  }
  yield batch;
}

/** Writes the checkpoint whole or not at all (a crash mid-write must not leave half a file to resume from). */
function writeCheckpoint(path: string, checkpoint: BackfillCheckpoint): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(checkpoint, null, 2) + '\n');
  renameSync(temporary, path);
}

const formatOption = new Option('--format <format>', 'csv or jsonl (default: from the extension: .csv, .jsonl, .ndjson)').choices(['csv', 'jsonl']);

function batchArg(value: string): number {
  try {
    return intArg(1, 1000)(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Registers `backfill`. */
export function registerBackfill(program: Command, ctx: Context): void {
  program
    .command('backfill')
    .description('publish the current stock of every product in a file, notifying nobody (before shoppers can wait for them)')
    .requiredOption('--file <path>', 'the stock file: CSV with a header productId,available,sequence[,name,url], or JSON lines with those keys')
    .addOption(formatOption)
    .option('--batch-size <n>', 'rows published between two checkpoints (1-1000)', batchArg, 500)
    .option('--checkpoint <path>', 'where progress is kept between runs (default: <file>.checkpoint.json)')
    .option('--restart', 'ignore the checkpoint and publish the whole file again (harmless: see docs/inventory-service.md)')
    .option('-y, --yes', 'outside the emulators: do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText(
      'after',
      [
        '',
        'Each row is published as unchanged stock (previousAvailable = available): nobody is notified.',
        'An interrupted run resumes after the last whole batch; a finished one publishes nothing again.',
        'Bad rows are reported with their line and field and skipped; the run then exits 1.',
        '',
        'Examples:',
        '  $ restock backfill --file stock.csv',
        '  $ restock --project shop-prod backfill --file stock.jsonl --yes --json',
      ].join('\n'),
    )
    .action(async (opts: { file: string; format?: string; batchSize: number; checkpoint?: string; restart?: boolean; yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const file = resolve(opts.file);
      if (!existsSync(file)) throw new UsageError(`--file: ${opts.file} does not exist`, '--file');
      const format = formatOf(file, opts.format);
      const checkpointPath = resolve(opts.checkpoint ?? `${opts.file}.checkpoint.json`);
      const { sha256, lines } = await fingerprint(file);
      const earlier = opts.restart ? undefined : readCheckpoint(checkpointPath);
      const checkpoint = startingCheckpoint(earlier, file, sha256, opts.file, checkpointPath);
      const resumedAfterLine = checkpoint.line;
      const ops = await ctx.ops();
      const topic = ops.settings.topic;
      const { projectId, emulators } = ops.target;
      if (checkpoint.complete) {
        out.notice(`${opts.file} was backfilled completely by an earlier run (${checkpointPath}): nothing to publish (--restart publishes it again)`);
      } else {
        if (!emulators.pubsub) {
          await confirmOrAbort(
            ctx,
            opts.yes,
            `Backfill the stock in ${opts.file} (${lines} lines${resumedAfterLine ? `, resuming after line ${resumedAfterLine}` : ''}) to topic ${topic} in Google Cloud project ${projectId}? Each row is published as unchanged stock: nobody is notified.`,
          );
        }
        out.notice(`backfilling ${opts.file} to ${topic}${resumedAfterLine ? ` from line ${resumedAfterLine + 1} (${checkpointPath})` : ''}`);
      }
      let published = 0;
      const bar = out.progress('backfilling', lines, 'lines');
      try {
        if (!checkpoint.complete) {
          for await (const batch of planBackfill(readStockRows(file, format, ctx.nowMs()), resumedAfterLine, opts.batchSize)) {
            // The batch is published concurrently (at most --batch-size at once): the Pub/Sub client batches the messages on the wire.
            await Promise.all(
              batch.events.map((event) => {
                const attributes = { eventId: backfillEventId(event.productId, event.sequence), traceparent: formatTraceparent(startTrace()) };
                return ops.publish(topic, Buffer.from(JSON.stringify(event)), attributes);
              }),
            );
            published += batch.events.length;
            checkpoint.published += batch.events.length;
            for (const r of batch.rejected) checkpoint.rejected.push(r);
            checkpoint.line = batch.lastLine;
            writeCheckpoint(checkpointPath, checkpoint);
            bar.update(batch.lastLine);
          }
          checkpoint.complete = true;
          writeCheckpoint(checkpointPath, checkpoint);
        }
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new BackendError(`backfill stopped after line ${checkpoint.line} (rerun the same command to resume)`, `topic ${topic}`, { cause: err });
      } finally {
        bar.stop();
      }
      const result: BackfillResult = {
        file,
        checkpoint: checkpointPath,
        topic,
        published,
        resumedAfterLine,
        publishedInAll: checkpoint.published,
        rejected: checkpoint.rejected,
        complete: checkpoint.complete,
      };
      out.result(result);
      const wasComplete = earlier?.complete === true;
      out.line(
        wasComplete
          ? `published nothing: an earlier run published all ${checkpoint.published} stock events of ${opts.file}`
          : `published ${published} stock events to ${topic}${resumedAfterLine ? ` (resumed after line ${resumedAfterLine}; ${checkpoint.published} in all)` : ''}`,
      );
      for (const r of checkpoint.rejected) out.warn(`${opts.file} line ${r.line}: ${r.field}: ${r.problem}`);
      if (checkpoint.rejected.length) {
        throw new RowsRejectedError(`${checkpoint.rejected.length} row(s) of ${opts.file} were not published (listed above): fix them in a file of their own and backfill that`, opts.file);
      }
    });
}

