/**
 * `restock dead-letters list|replay`: what landed in the dead-letter topic,
 * why it died, and a safe way back to the main topic.
 *
 * Messages are read with synchronous pull and leased for the whole command
 * (so a slow confirmation cannot let them slip to another reader), then either
 * released untouched (`list`, `--dry-run`, not chosen) or acknowledged, each
 * only after its republish resolved (`replay`).
 *
 * Pub/Sub forwards a dead letter as a new message: new messageId, the original
 * data and attributes, plus `CloudPubSubDeadLetterSource*` attributes (source
 * subscription, its project, delivery count, original publish time). The
 * original messageId is lost, so the event key is the `eventId` attribute when
 * present; otherwise it is recovered, where possible, from the one fan-out
 * whose stored event has the same product and sequence. A replay carries that
 * key as `eventId`, so the pipeline dedups against the original attempt.
 */
import type { Command } from 'commander';
import { scrub, scrubJsonText } from '../../lib/log.ts';
import { intArg } from '../args.ts';
import { confirmOrAbort, outputFor, type Context } from '../context.ts';
import { BackendError } from '../errors.ts';
import { formatTime, table, type Output } from '../output.ts';

const DATA_SHOWN_CHARS = 4096;

import { DEAD_LETTER_ATTRIBUTE_PREFIX, type DeadLetter } from '../queries/dead-letters.ts';

export { DEAD_LETTER_ATTRIBUTE_PREFIX, type DeadLetter, type DeathCause } from '../queries/dead-letters.ts';

/**
 * The JSON shape of a {@link DeadLetter}: no lease handle, data as text, and
 * no personal data — a dead letter may carry anything, and what the CLI prints
 * ends up in terminals, tickets and chat (the message itself is republished untouched).
 */
export function deadLetterView(m: DeadLetter) {
  return {
    messageId: m.messageId,
    eventId: m.eventId,
    eventKey: m.eventKey,
    eventKeySource: m.eventKeySource,
    publishTimeMs: m.publishTimeMs,
    originalPublishTimeMs: m.originalPublishTimeMs,
    deliveryAttempts: m.deliveryAttempts,
    sourceSubscription: m.sourceSubscription,
    cause: m.cause,
    why: whyItDied(m),
    attributes: scrub(m.attributes) as Record<string, string>,
    data: scrubJsonText(m.data.toString('utf8'), DATA_SHOWN_CHARS),
  };
}

/** One line saying why a message died, from the most specific evidence available. */
export function whyItDied(m: Pick<DeadLetter, 'cause' | 'eventKey' | 'deliveryAttempts'>): string {
  if (m.cause.rejected) return `rejected: ${m.cause.rejected.reason}${m.cause.rejected.field ? ` (field ${m.cause.rejected.field})` : ''}`;
  if (m.cause.fanout?.error) return `fan-out ${m.cause.fanout.state}: ${m.cause.fanout.error}`;
  const attempts = m.deliveryAttempts ? ` after ${m.deliveryAttempts} delivery attempt(s)` : '';
  if (m.cause.fanout) return `fan-out ${m.cause.fanout.state}${m.cause.fanout.reason ? ` (${m.cause.fanout.reason})` : ''}, no error recorded${attempts}`;
  if (!m.eventKey) return `unknown: no eventId and no matching fan-out${attempts}; see the function's logs`;
  return `unknown: nothing recorded under ${m.eventKey}${attempts} (the function never got far enough; see its logs)`;
}

/**
 * The attributes to republish with: the original's (the dead-letter ones
 * removed, they describe the failure, not the event) and `eventId` set to the
 * event key so the pipeline's dedup recognises the event.
 */
export function republishAttributes(m: Pick<DeadLetter, 'attributes' | 'eventKey'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.attributes)) if (!k.startsWith(DEAD_LETTER_ATTRIBUTE_PREFIX)) out[k] = v;
  if (!out.eventId && m.eventKey) out.eventId = m.eventKey;
  return out;
}

function renderList(out: Output, messages: DeadLetter[], subscription: string): void {
  const { c } = out;
  if (messages.length === 0) {
    out.line(`no dead letters in ${subscription}`);
    return;
  }
  out.line(`${c.bold(String(messages.length))} dead letter(s) in ${subscription}`);
  for (const m of messages) {
    out.line('');
    out.line(`${c.bold(m.messageId)}  eventKey ${m.eventKey ?? c.yellow('unknown')}${m.eventKeySource === 'fanout-match' ? ' (matched by product and sequence)' : ''}`);
    const rows = [
      ['published', `${formatTime(m.publishTimeMs)} (original ${formatTime(m.originalPublishTimeMs)})`],
      ['attempts', m.deliveryAttempts === null ? '-' : String(m.deliveryAttempts)],
      ['from', m.sourceSubscription ?? '-'],
      ['why', c.red(whyItDied(m))],
      ['data', scrubJsonText(m.data.toString('utf8'), 200)],
    ];
    for (const line of table(rows)) out.line(`  ${line}`);
  }
}

export interface ReplayOutcome {
  messageId: string;
  eventKey: string | null;
  action: 'republished' | 'would-republish' | 'failed' | 'skipped';
  newMessageId?: string;
  error?: string;
}

/** Registers `dead-letters list` and `dead-letters replay`. */
export function registerDeadLetters(program: Command, ctx: Context): void {
  const group = program
    .command('dead-letters')
    .description('inspect and replay messages that landed in the dead-letter topic')
    .addHelpText('after', '\nExamples:\n  $ restock dead-letters list --limit 20\n  $ restock dead-letters replay --dry-run\n  $ restock dead-letters replay --message 12345 --yes');

  group
    .command('list')
    .description('show dead letters and why each died (leaves them in place)')
    .option('--limit <n>', 'most messages to read', intArg(1, 1000), 50)
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  $ restock dead-letters list --limit 10 --json')
    .action(async (opts: { limit: number }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const subscription = ops.settings.deadLetterSubscription;
      const messages = await ops.pullDeadLetters(opts.limit);
      try {
        out.result({ subscription, count: messages.length, messages: messages.map(deadLetterView) });
        if (!out.json) renderList(out, messages, subscription);
      } finally {
        await ops.settleDeadLetters(messages, 'release');
      }
    });

  group
    .command('replay')
    .description('republish dead letters to the main topic, acknowledging each only after its publish succeeded')
    .option('--limit <n>', 'most messages to read', intArg(1, 1000), 50)
    .option('--message <ids...>', 'only these (dead-letter messageIds or event keys); the rest stay in place')
    .option('--dry-run', 'say what would be republished; change nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print one JSON document on stdout')
    .addHelpText('after', '\nExamples:\n  $ restock dead-letters replay --dry-run\n  $ restock dead-letters replay --message 9f2c1e7a-5b1d-4e0c-9a7e-3c1f2b4d6e8a --yes')
    .action(async (opts: { limit: number; message?: string[]; dryRun?: boolean; yes?: boolean }, command: Command) => {
      const out = outputFor(ctx, command);
      const ops = await ctx.ops();
      const { topic, deadLetterSubscription } = ops.settings;
      const messages = await ops.pullDeadLetters(opts.limit);
      const wanted = opts.message ? new Set(opts.message) : undefined;
      const chosen = wanted ? messages.filter((m) => wanted.has(m.messageId) || (m.eventKey !== null && wanted.has(m.eventKey))) : messages;
      const others = messages.filter((m) => !chosen.includes(m));
      const outcomes: ReplayOutcome[] = others.map((m) => ({ messageId: m.messageId, eventKey: m.eventKey, action: 'skipped' }));
      let released = false;
      const releaseAll = async (list: DeadLetter[]) => {
        released = true;
        await ops.settleDeadLetters(list, 'release');
      };
      try {
        if (wanted && chosen.length < wanted.size) {
          const found = new Set(chosen.flatMap((m) => [m.messageId, m.eventKey]));
          out.warn(`not among the ${messages.length} message(s) read: ${[...wanted].filter((w) => !found.has(w)).join(', ')}`);
        }
        out.notice(`${opts.dryRun ? 'would republish' : 'will republish'} ${chosen.length} of ${messages.length} dead letter(s) from ${deadLetterSubscription} to ${topic}, acknowledging each after its publish`);
        for (const m of chosen) {
          const key = m.eventKey ? `eventKey ${m.eventKey}` : 'eventKey unknown: the pipeline will treat it as a new event';
          out.notice(`  ${m.messageId}  ${key}  (${whyItDied(m)})`);
        }
        if (opts.dryRun || chosen.length === 0) {
          for (const m of chosen) outcomes.push({ messageId: m.messageId, eventKey: m.eventKey, action: 'would-republish' });
          out.result({ topic, subscription: deadLetterSubscription, dryRun: Boolean(opts.dryRun), outcomes });
          out.line(opts.dryRun ? 'dry run: nothing was republished or acknowledged' : 'nothing to replay');
          await releaseAll(messages);
          return;
        }
        try {
          await confirmOrAbort(ctx, opts.yes, `Republish ${chosen.length} message(s) to ${topic}?`);
        } catch (err) {
          await releaseAll(messages);
          throw err;
        }
        if (others.length) await ops.settleDeadLetters(others, 'release');
        const bar = out.progress('republishing', chosen.length, 'messages');
        let done = 0;
        try {
          for (const m of chosen) {
            try {
              const newMessageId = await ops.publish(topic, m.data, republishAttributes(m));
              await ops.settleDeadLetters([m], 'ack');
              outcomes.push({ messageId: m.messageId, eventKey: m.eventKey, action: 'republished', newMessageId });
            } catch (err) {
              // Not acknowledged: it stays in the dead-letter subscription for another try.
              await ops.settleDeadLetters([m], 'release').catch(() => undefined);
              outcomes.push({ messageId: m.messageId, eventKey: m.eventKey, action: 'failed', error: err instanceof Error ? err.message : String(err) });
            }
            bar.update(++done);
          }
        } finally {
          bar.stop();
        }
        released = true;
        out.result({ topic, subscription: deadLetterSubscription, dryRun: false, outcomes });
        for (const o of outcomes) if (o.action !== 'skipped') out.line(`${o.messageId}  ${o.action === 'republished' ? out.c.green('republished') : out.c.red('failed')}  ${o.newMessageId ?? o.error ?? ''}`);
        const failed = outcomes.filter((o) => o.action === 'failed');
        if (failed.length) throw new BackendError(`${failed.length} of ${chosen.length} republish(es) failed and stay in ${deadLetterSubscription}`, `topic ${topic}`, { cause: failed[0]?.error });
      } finally {
        if (!released) await ops.settleDeadLetters(messages, 'release').catch(() => undefined);
      }
    });
}
