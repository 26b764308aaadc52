/**
 * `npm run demo`: the whole pipeline end to end on the local stack.
 *
 * Uses the stack of `npm start` when one is running (`.local/stack.json`),
 * else starts its own on free ports and stops it at the end. Subscribes N
 * shoppers to a sold-out product through the subscription API, from many
 * concurrent clients as storefronts would, sells the product out and restocks
 * it through the inventory stand-in (whose outbox publishes the event to
 * Pub/Sub), follows notifications arriving at the sink, and prints a summary.
 * Exits 0 only if every subscriber was notified exactly once.
 *
 * `--double-opt-in [--confirm-rate 0.7]` subscribes through an API with
 * RESTOCK_DOUBLE_OPT_IN=email: every shopper gets a confirmation the way email
 * goes (the sink, or the local SMTP server with `--channels email`), the demo follows the links of that share of them, and
 * the restock must tell exactly those (`notifiedUnconfirmed` must be 0).
 *
 * `--click-rate 0.3 [--buy-rate 0.1]`: once everyone is told, that share of
 * the shoppers follow their tracked link and that share order through
 * `POST /v1/conversions`; the summary adds the restock's funnel as `restock
 * status` reads it (clicked, purchased direct and assisted, revenue).
 *
 * `--channels email,push,webpush` seeds subscribers on those channels and sends them
 * directly: email through the stack's SMTP server, push through its FCM
 * stand-in, webpush through its web push stand-in (a running stack must have been started with the same
 * `npm start -- --channels ...`); the summary counts per channel.
 */
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { exitTwoOnUsageError } from '../cli/errors.ts';
import pc from 'picocolors';
import { CHANNELS, type Channel } from '../lib/channels.ts';
import { publishAndFollow, seedAudience, type RestockRunSummary } from './scenario/index.ts';
import { runWaves, type WavesRunSummary } from './scenario/waves.ts';
import { runSellOut, type SellOutRunSummary } from './scenario/sell-out.ts';
import { confirmShare } from './scenario/double-opt-in.ts';
import { clickAndBuy } from './scenario/funnel.ts';
import { formatRate } from '../cli/commands/demand.ts';
import { formatRevenue } from '../cli/commands/status.ts';
import { purchasedOf, type Funnel } from '../cli/queries/funnel.ts';
import {
  clientsFor,
  DEFAULT_STATE_FILE,
  directChannelEnv,
  findRunningStack,
  REPO_ROOT,
  startStack,
  type Stack,
  type StackDescription,
} from './stack/index.ts';

/**
 * The summary printed at the end; `--json` prints it as the last line. It is
 * the scenario's summary without the raw timestamps, which the latencies already say.
 */
export type DemoSummary = Omit<RestockRunSummary, 'publishedAtMs' | 'lastSentAtMs'> & {
  /** With --double-opt-in: confirmations received (at the SMTP server or the sink), shoppers who confirmed, and notifications to anyone else (must be 0). */
  confirmationsSent?: number;
  confirmed?: number;
  notifiedUnconfirmed?: number;
  /** With --click-rate / --buy-rate: links followed, orders reported, and the restock's funnel as `restock status` reads it. */
  followed?: number;
  ordered?: number;
  funnel?: Funnel;
};

const program = exitTwoOnUsageError(new Command('demo'))
  .description('Subscribe shoppers through the API, restock the product through the inventory service, and watch every subscriber get notified exactly once.')
  .option('--subscribers <n>', 'subscribers to seed', '10000')
  .option('--seed-clients <n>', 'concurrent storefront clients subscribing the shoppers through the API', '64')
  .option('--timeout <seconds>', 'give up after this long (from the publish)', '600')
  .option('--json', 'print the summary as one JSON object on the last line')
  .option('--settle <ms>', 'after the last expected notification, watch this long for duplicates', '1500')
  .option('--state-file <path>', 'where a running stack describes itself', DEFAULT_STATE_FILE)
  .option('--channels <list>', 'send these channels directly (email through the local SMTP server, push through the FCM stand-in, webpush through the web push stand-in, which decrypts each payload), e.g. email,push,webpush')
  .option('--available <n>', 'units restocked (with --wave-multiplier or --sell-out-after-ms)', '10')
  .option('--wave-multiplier <x>', 'tell the product in waves (docs/waves.md): shoppers per unit in stock, oldest sign-up first')
  .option('--wave-interval-ms <ms>', 'time between waves (with --wave-multiplier)', '3000')
  .option('--sell-out-after-waves <n>', 'sell the product out through the inventory service after this many waves (0: never)', '0')
  .option('--sell-out-after-ms <ms>', 'sell the product out again through the inventory service this long after the restock (issue 40: who is told after it, who keeps their place)')
  .option('--double-opt-in', 'subscribe with double opt-in (RESTOCK_DOUBLE_OPT_IN=email): confirmations go the way email goes (the sink, or the local SMTP server with --channels email) and the demo follows the links of --confirm-rate of them')
  .option('--confirm-rate <share>', 'with --double-opt-in: the share of shoppers who confirm, 0 to 1', '0.7')
  .option('--click-rate <share>', 'after everyone is told, the share of shoppers who follow their tracked link (as a phone browser, past the prefetch window), 0 to 1; prints the restock\'s funnel')
  .option('--buy-rate <share>', 'with --click-rate: the share of shoppers told who then order through POST /v1/conversions, clickers first (above the click rate, the rest are assisted orders), 0 to 1', '0')
  .option('--restock-again-after-ms <ms>', 'with --sell-out-after-ms: restock it again this long after the sell-out (is anyone told twice?)')
  .parse();
const opts = program.opts<{
  subscribers: string;
  seedClients: string;
  timeout: string;
  json?: boolean;
  settle: string;
  stateFile: string;
  channels?: string;
  available: string;
  waveMultiplier?: string;
  waveIntervalMs: string;
  sellOutAfterWaves: string;
  sellOutAfterMs?: string;
  restockAgainAfterMs?: string;
  doubleOptIn?: boolean;
  confirmRate: string;
  clickRate?: string;
  buyRate: string;
}>();
const subscribers = Number(opts.subscribers);
const seedClients = Number(opts.seedClients);
const timeoutMs = Number(opts.timeout) * 1000;
const settleMs = Number(opts.settle);
if (!Number.isInteger(subscribers) || subscribers < 1) fail(`--subscribers must be a positive integer (got ${opts.subscribers})`);
if (!Number.isInteger(seedClients) || seedClients < 1) fail(`--seed-clients must be a positive integer (got ${opts.seedClients})`);
if (!(timeoutMs > 0)) fail(`--timeout must be a positive number of seconds (got ${opts.timeout})`);
const waveMultiplier = opts.waveMultiplier === undefined ? undefined : Number(opts.waveMultiplier);
const available = Number(opts.available);
const waveIntervalMs = Number(opts.waveIntervalMs);
const sellOutAfterWaves = Number(opts.sellOutAfterWaves);
if (waveMultiplier !== undefined && !(waveMultiplier > 0 && waveMultiplier <= 1000)) fail(`--wave-multiplier must be a number above 0, at most 1000 (got ${opts.waveMultiplier})`);
if (!Number.isInteger(available) || available < 1) fail(`--available must be a positive integer (got ${opts.available})`);
if (!Number.isInteger(waveIntervalMs) || waveIntervalMs < 1) fail(`--wave-interval-ms must be a positive integer (got ${opts.waveIntervalMs})`);
if (!Number.isInteger(sellOutAfterWaves) || sellOutAfterWaves < 0) fail(`--sell-out-after-waves must be a whole number, 0 or more (got ${opts.sellOutAfterWaves})`);
const sellOutAfterMs = opts.sellOutAfterMs === undefined ? undefined : Number(opts.sellOutAfterMs);
const restockAgainAfterMs = opts.restockAgainAfterMs === undefined ? undefined : Number(opts.restockAgainAfterMs);
if (sellOutAfterMs !== undefined && !(Number.isInteger(sellOutAfterMs) && sellOutAfterMs >= 0)) fail(`--sell-out-after-ms must be a whole number of milliseconds (got ${opts.sellOutAfterMs})`);
if (restockAgainAfterMs !== undefined && !(Number.isInteger(restockAgainAfterMs) && restockAgainAfterMs >= 0)) fail(`--restock-again-after-ms must be a whole number of milliseconds (got ${opts.restockAgainAfterMs})`);
if (restockAgainAfterMs !== undefined && sellOutAfterMs === undefined) fail('--restock-again-after-ms needs --sell-out-after-ms');
if (sellOutAfterMs !== undefined && waveMultiplier !== undefined) fail('--sell-out-after-ms and --wave-multiplier are separate demos (waves sell out with --sell-out-after-waves)');
const confirmRate = Number(opts.confirmRate);
if (!(confirmRate >= 0 && confirmRate <= 1)) fail(`--confirm-rate must be a share from 0 to 1 (got ${opts.confirmRate})`);
if (opts.doubleOptIn && (waveMultiplier !== undefined || sellOutAfterMs !== undefined)) fail('--double-opt-in is a demo of its own (without waves or a sell-out)');
const clickRate = opts.clickRate === undefined ? undefined : Number(opts.clickRate);
const buyRate = Number(opts.buyRate);
if (clickRate !== undefined && !(clickRate >= 0 && clickRate <= 1)) fail(`--click-rate must be a share from 0 to 1 (got ${opts.clickRate})`);
if (!(buyRate >= 0 && buyRate <= 1)) fail(`--buy-rate must be a share from 0 to 1 (got ${opts.buyRate})`);
if (buyRate > 0 && clickRate === undefined) fail('--buy-rate needs --click-rate (0 for orders without clicks)');
if (clickRate !== undefined && (waveMultiplier !== undefined || sellOutAfterMs !== undefined)) fail('--click-rate is a demo of its own (without waves or a sell-out)');
if (clickRate !== undefined && opts.channels !== undefined) fail('--click-rate follows the links the notification service stand-in records: leave out --channels');
const direct = (opts.channels ?? '').split(',').map((c) => c.trim()).filter(Boolean) as Channel[];
const strange = direct.find((c) => !CHANNELS.includes(c));
if (strange !== undefined) fail(`--channels takes ${CHANNELS.join(', ')} (got ${JSON.stringify(strange)})`);
/** The channels seeded: the direct ones when given, else email through the sink as always. */
const channels: Channel[] = direct.length > 0 ? direct : ['email'];

const say = (line: string): void => void process.stderr.write(line + '\n');
const tty = process.stderr.isTTY === true;

function fail(message: string): never {
  process.stderr.write(`${pc.red('demo:')} ${message}\n`);
  process.exit(2);
}

let ownStack: Stack | undefined;
let stoppingOnSignal = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stoppingOnSignal) return;
    stoppingOnSignal = true;
    say(`\n${signal}: stopping...`);
    void (ownStack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}

async function stackToUse(): Promise<StackDescription> {
  const running = await findRunningStack(opts.stateFile);
  const wanted: Record<string, string> = { ...directChannelEnv(direct), ...(opts.doubleOptIn ? { RESTOCK_DOUBLE_OPT_IN: 'email' } : {}) };
  const mismatch = running && Object.entries(wanted).find(([k, v]) => running.env[k] !== v);
  if (running && mismatch) {
    fail(`the running stack does not have ${mismatch[0]}=${mismatch[1]} (it is ${running.env[mismatch[0]] ?? 'unset'}): stop it (npm stop) and the demo starts its own`);
  }
  if (running) {
    say(pc.dim(`using the running stack (${opts.stateFile})`));
    return running;
  }
  say(pc.dim('no running stack found: starting one (npm start keeps one running between demos)...'));
  ownStack = await startStack({
    dir: join(REPO_ROOT, '.local', 'demo-stack'),
    env: wanted,
    onProgress: (m) => say(pc.dim(`  ${m}`)),
    onComponentExit: (name, code, signal, logFile) => {
      if (!stoppingOnSignal) say(pc.red(`${name} exited (code ${code}, signal ${signal}); see ${logFile}`));
    },
  });
  say(pc.dim(`stack ready in ${ownStack.startupMs.total} ms (logs: ${ownStack.description.logsDir})`));
  return ownStack.description;
}

/** Base URL of the stack's console, when it has one (a stack described before the console existed has none). */
let consoleBase: string | undefined;

/** The console's page of the restock the demo ran; said while it runs, and printed with the summary. */
function consoleUrl(eventKey: string): string | undefined {
  return consoleBase ? `${consoleBase}/restocks/${encodeURIComponent(eventKey)}` : undefined;
}

function consoleLine(eventKey: string): string[] {
  const url = consoleUrl(eventKey);
  if (!url) return [];
  // The demo's own stack stops with it; `npm start` keeps one (and its console) running.
  return [`  console  ${url}${ownStack ? pc.dim(' (stopped with the demo\'s own stack: run npm start first to keep it)') : ''}`];
}

async function run(): Promise<DemoSummary | WavesRunSummary | SellOutRunSummary> {
  const description = await stackToUse();
  consoleBase = description.console;
  const clients = clientsFor(description);
  try {
    const seedBar = tty ? new cliProgress.SingleBar({ format: 'seeding   [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    seedBar?.start(subscribers, 0);
    let lastSeedLineAtMs = Date.now();
    const audience = await seedAudience(clients, {
      subscribers,
      productId: `demo-${Date.now()}`,
      productName: 'Trail Runner 2 (demo)',
      channels,
      api: { url: description.functions.restockSubscriptions, clients: seedClients },
      webPushStandIn: description.webpush,
      onProgress: (n) => {
        seedBar?.update(n);
        if (!tty && Date.now() - lastSeedLineAtMs > 5000) {
          lastSeedLineAtMs = Date.now();
          say(`  ${n}/${subscribers} subscribed`);
        }
      },
    });
    seedBar?.stop();
    say(`subscribed ${subscribers} shoppers to ${audience.productId} through the API in ${audience.seedMs} ms (${audience.seeding.perSecond}/s, ${seedClients} clients)`);
    let confirmation: Awaited<ReturnType<typeof confirmShare>> | undefined;
    if (opts.doubleOptIn) {
      confirmation = await confirmShare(description, clients, audience, { rate: confirmRate, timeoutMs, onStep: say });
      say(`${confirmation.confirmed} of ${subscribers} shoppers confirmed`);
      // Only the confirmed are expected; a notification to anyone else arrives as a key nobody expected.
      audience.userIds = confirmation.confirmedUserIds;
    }

    if (waveMultiplier !== undefined) {
      const waves = await runWaves(description, clients, audience, {
        available,
        multiplier: waveMultiplier,
        intervalMs: waveIntervalMs,
        sellOutAfterWaves,
        timeoutMs,
        onWave: (n) => say(`wave ${n} enqueued`),
      });
      return waves;
    }
    if (sellOutAfterMs !== undefined) {
      return await runSellOut(description, clients, audience, {
        available,
        sellOutAfterMs,
        ...(restockAgainAfterMs !== undefined ? { restockAgainAfterMs } : {}),
        timeoutMs,
        settleMs,
        onStep: say,
      });
    }
    const bar = tty ? new cliProgress.SingleBar({ format: 'notified  [{bar}] {value}/{total} {rate}/s  {state}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    let lastLineAtMs = Date.now();
    const { publishedAtMs: _p, lastSentAtMs: _l, ...summary } = await publishAndFollow(description, clients, audience, {
      via: 'inventory',
      timeoutMs,
      settleMs,
      direct,
      onPublished: ({ eventKey, messageId }) => {
        say(`restocked ${audience.productId} through the inventory service (event ${eventKey}, ${messageId}); waiting for notifications...`);
        const url = consoleUrl(eventKey);
        if (url) say(`  follow it in the console: ${url}`);
        bar?.start(audience.userIds.length * channels.length, 0, { rate: 0, state: '' });
      },
      onTick: ({ delivered, fanout, elapsedMs }) => {
        const seconds = elapsedMs / 1000;
        bar?.update(delivered, { rate: Math.round(delivered / seconds), state: fanout ? `fan-out ${fanout.state}` : '' });
        if (!tty && Date.now() - lastLineAtMs > 5000) {
          lastLineAtMs = Date.now();
          say(`  ${delivered}/${audience.userIds.length * channels.length} notified after ${seconds.toFixed(1)} s`);
        }
      },
    });
    bar?.stop();
    if (clickRate !== undefined && summary.ok) {
      const prefetchSeconds = Number(description.env.RESTOCK_CLICK_PREFETCH_SECONDS ?? '5');
      const acted = await clickAndBuy(description, clients, { productId: audience.productId, eventKey: summary.eventKey, clickRate, buyRate, prefetchSeconds, timeoutMs, onStep: say });
      Object.assign(summary, acted);
      // Buyers are taken clickers first: the first min(followed, ordered) are direct, the rest assisted.
      const { clicked, purchased } = acted.funnel.total;
      const direct = Math.min(acted.followed, acted.ordered);
      if (clicked !== acted.followed || purchased.direct !== direct || purchased.assisted !== acted.ordered - direct) {
        summary.ok = false;
        summary.failure = `the funnel says ${clicked} clicked, ${purchased.direct} direct and ${purchased.assisted} assisted; the demo followed ${acted.followed} links and reported ${acted.ordered} orders (${direct} direct)`;
      }
    }
    if (!confirmation) return summary;
    const notifiedUnconfirmed = summary.unexpected;
    const ok = summary.ok && notifiedUnconfirmed === 0 && confirmation.confirmed === confirmation.confirmedUserIds.length;
    return {
      ...summary,
      ok,
      ...(ok || summary.failure ? {} : { failure: `${notifiedUnconfirmed} unconfirmed shopper(s) notified, or not every confirmation applied` }),
      confirmationsSent: confirmation.confirmationsSent,
      confirmed: confirmation.confirmed,
      notifiedUnconfirmed,
    };
  } finally {
    await clients.close();
  }
}

function seedingLine(s: DemoSummary): string {
  const { seeding } = s;
  if (seeding.via === 'firestore') return `${s.seedMs.toLocaleString('en-US')} ms (written directly, ${seeding.perSecond}/s)`;
  const retried = Object.entries(seeding.non2xx ?? {}).map(([status, n]) => `${n}x ${status}`).join(', ');
  return (
    `${s.seedMs.toLocaleString('en-US')} ms through the API (${seeding.clients} clients, ${seeding.perSecond.toLocaleString('en-US')}/s, ` +
    `p99 ${seeding.p99Ms} ms${retried ? `, retried ${retried}` : ''})`
  );
}

/** The funnel's lines: what the merchant reads in `restock status` after the shoppers acted. */
function funnelRows(s: DemoSummary): [string, string, boolean?][] {
  const f = s.funnel!.total;
  const revenue = formatRevenue(f.revenueMinor) || '-';
  const share = (n: number) => (f.notified > 0 ? ` (${formatRate(n / f.notified)})` : '');
  const purchased = purchasedOf(f);
  return [
    ['clicked', `${f.clicked.toLocaleString('en-US')}${share(f.clicked)}`, f.clicked === s.followed],
    ['purchased', `${f.purchased.direct} direct, ${f.purchased.assisted} assisted${share(purchased)}`, purchased === s.ordered],
    ['revenue', revenue],
  ];
}

function printTable(s: DemoSummary): void {
  const ms = (v: number | null): string => (v === null ? '-' : `${v.toLocaleString('en-US')} ms`);
  const rows: [string, string, boolean?][] = [
    ['subscribers', s.subscribers.toLocaleString('en-US')],
    ...(s.confirmationsSent !== undefined
      ? ([
          ['confirmations sent', s.confirmationsSent.toLocaleString('en-US')],
          ['confirmed', (s.confirmed ?? 0).toLocaleString('en-US')],
          ['notified unconfirmed', String(s.notifiedUnconfirmed ?? 0), s.notifiedUnconfirmed === 0],
        ] as [string, string, boolean?][])
      : []),
    ['seeding', seedingLine(s)],
    ['tasks', s.tasks === null ? '-' : String(s.tasks)],
    ['notified', s.notified.toLocaleString('en-US'), s.notified === s.subscribers * Math.max(1, Object.keys(s.channels).length)],
    ['duplicate sends', String(s.duplicates), s.duplicates === 0],
    ['missing', String(s.missing), s.missing === 0],
    ['stock update', ms(s.stockUpdateMs)],
    ['commit → publish', ms(s.commitToPublishMs)],
    ['elapsed', ms(s.elapsedMs)],
    ['first notification', ms(s.firstNotificationMs)],
    ['latency p50', ms(s.p50LatencyMs)],
    ['latency p95', ms(s.p95LatencyMs)],
    ...Object.entries(s.channels).map(([channel, t]): [string, string, boolean] => [
      `${channel} via ${t.via}`,
      `${t.notified.toLocaleString('en-US')} notified, ${t.duplicates} duplicate, ${t.rejected} rejected`,
      t.notified === s.subscribers && t.duplicates === 0,
    ]),
    ...(s.funnel ? funnelRows(s) : []),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = [`\n${pc.bold('Restock demo')}  product ${s.productId}  event ${s.eventKey}`];
  for (const [k, v, good] of rows) {
    const value = good === undefined ? v : good ? pc.green(v) : pc.red(v);
    out.push(`  ${k.padEnd(width)}  ${value}`);
  }
  out.push(...consoleLine(s.eventKey));
  out.push(s.ok ? pc.green('\nEvery subscriber was notified exactly once.') : pc.red(`\nFAILED: ${s.failure}`));
  process.stdout.write(out.join('\n') + '\n');
}

function printWaves(s: WavesRunSummary): void {
  const out = [`\n${pc.bold('Restock demo, in waves')}  product ${s.productId}  event ${s.eventKey}`];
  out.push(`  ${s.subscribers} subscribers, ${s.available} units, ${s.waveMultiplier} shopper(s) per unit, a wave every ${s.waveIntervalMs} ms`);
  for (const w of s.waves) out.push(`  wave ${w.index}  stock ${w.available}  notified ${w.notified}  started ${new Date(w.startedAtMs).toISOString()}`);
  out.push(`  notified ${s.notified}, in sign-up order: ${s.notifiedInSignupOrder}, duplicates ${s.duplicates}, still subscribed ${s.stillSubscribed}, ended: ${s.stopReason ?? '-'}`);
  out.push(...consoleLine(s.eventKey));
  out.push(s.ok ? pc.green('\nWaves went as asked.') : pc.red(`\nFAILED: ${s.failure}`));
  process.stdout.write(out.join('\n') + '\n');
}

function printSellOut(s: SellOutRunSummary): void {
  const out = [`\n${pc.bold('Restock demo, sold out again')}  product ${s.productId}  event ${s.eventKey}`];
  out.push(`  ${s.subscribers} subscribers, ${s.available} units, sold out ${s.sellOutAfterMs} ms later${s.restockAgainAfterMs !== null ? `, restocked again ${s.restockAgainAfterMs} ms after that` : ''}`);
  out.push(`  told by the restock ${s.told}, after the sell-out ${s.toldAfterSellOut} (after the pipeline saw it ${s.toldAfterSellOutSeen}; claimed after it ${s.claimedAfterSellOutSeen})`);
  out.push(`  kept their place ${s.keptPlace}, soldOutBeforeSend ${s.soldOutBeforeSend}, fan-out ${s.fanout.state ?? '-'}${s.fanout.stopped ? ` (stopped: ${s.fanout.stopped})` : ''}`);
  if (s.againEventKey) out.push(`  told by the restock again ${s.toldAgain}, told by neither ${s.missing}`);
  out.push(`  told twice ${s.toldTwice}`);
  out.push(...consoleLine(s.eventKey));
  out.push(s.ok ? pc.green('\nNobody was told twice, and nobody lost their place to a restock they could not use.') : pc.red(`\nFAILED: ${s.failure}`));
  process.stdout.write(out.join('\n') + '\n');
}

let summary: DemoSummary | WavesRunSummary | SellOutRunSummary | undefined;
let crash: unknown;
try {
  summary = await run();
} catch (err) {
  crash = err;
} finally {
  await ownStack?.stop();
}
if (!summary) {
  process.stderr.write(`${pc.red('demo failed:')} ${(crash as Error)?.message ?? String(crash)}\n`);
  process.exit(1);
}
if ('waves' in summary) printWaves(summary);
else if ('keptPlace' in summary) printSellOut(summary);
else printTable(summary);
if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
process.exit(summary.ok ? 0 : 1);
