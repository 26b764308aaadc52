/**
 * `restock templates preview`: renders one message as the delivery function
 * would, from the built-in templates or a shop's directory, with the product
 * as the pipeline last recorded it (a sample product when it never saw it),
 * so a shop sees an edit before it deploys it. Loading the directory applies
 * the checks the function applies at start: a template it would refuse is
 * refused here, naming the file and the line.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CHANNELS, type Channel } from '../../lib/channels.ts';
import { loadTemplates, TEMPLATE_PARTS, templateVariables, type Notification } from '../../lib/notify/index.ts';
import { idArg } from '../args.ts';
import { outputFor, type Context } from '../context.ts';
import type { ProductForMessage } from '../queries/stock.ts';

/** What a preview shows when the pipeline never saw the product. */
const SAMPLE_PRODUCT: Required<ProductForMessage> = { name: 'Sample product', url: 'https://shop.example/p/sample', available: 3 };
/** The one-click link a preview shows: real links are sealed per shopper when sending. */
const SAMPLE_UNSUBSCRIBE_URL = 'https://unsubscribe.example/v1/unsubscribe/u2.preview';

function channelArg(value: string): Channel {
  if (!(CHANNELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${CHANNELS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as Channel;
}

function localeArg(value: string): string {
  if (!/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$/.test(value)) throw new InvalidArgumentError(`expected a BCP 47 locale such as de or de-AT, got ${JSON.stringify(value)}`);
  return value;
}

interface PreviewOptions {
  channel: Channel;
  locale: string;
  product: string;
  dir?: string;
}

/** Registers `templates preview`. */
export function registerTemplates(program: Command, ctx: Context): void {
  const group = program
    .command('templates')
    .description('the message templates a shop edits (docs/channels.md)')
    .addHelpText('after', '\nExamples:\n  $ restock templates preview --channel email --locale de --product sku-123 --dir ./templates');

  group
    .command('preview')
    .description('render one message with the product as recorded (a sample when absent), printing each part')
    .requiredOption('--channel <channel>', `the channel: ${CHANNELS.join(', ')}`, channelArg)
    .requiredOption('--locale <locale>', "the shopper's locale, e.g. de or ja-JP", localeArg)
    .requiredOption('--product <id>', 'the product whose name, link and units the message shows', idArg)
    .option('--dir <dir>', 'the templates directory (default: RESTOCK_TEMPLATES_DIR, else the built-in templates)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (opts: PreviewOptions, command: Command) => {
      const out = outputFor(ctx, command);
      const dir = opts.dir ?? (ctx.io.env.RESTOCK_TEMPLATES_DIR || undefined);
      // Templates first: a refused one needs no connection to say so.
      const templates = loadTemplates(dir);
      const recorded = await (await ctx.ops()).readProductForMessage(opts.product);
      const product = recorded ?? SAMPLE_PRODUCT;
      const n: Notification = {
        idempotencyKey: 'preview',
        channel: opts.channel,
        to: 'preview',
        locale: opts.locale,
        template: 'restock',
        data: { eventKey: 'preview', productId: opts.product, ...(product.name ? { productName: product.name } : {}), ...(product.url ? { productUrl: product.url } : {}), available: product.available as number },
      };
      const language = templates.language(opts.locale, opts.channel);
      const parts = templates.render(opts.channel, language, templateVariables(n, language, opts.channel === 'push' ? undefined : SAMPLE_UNSUBSCRIBE_URL));
      const origins = Object.fromEntries(TEMPLATE_PARTS[opts.channel].map((p) => [p, templates.origins.get(`${opts.channel}/${language}/${p}`) ?? 'built-in']));
      out.result({ channel: opts.channel, locale: opts.locale, language, product: { id: opts.product, sample: recorded === undefined, ...product }, parts, origins });
      if (recorded === undefined) out.notice(`${opts.product}: not recorded by the pipeline; showing a sample product`);
      out.line(`${opts.channel} message in ${language} for ${opts.product}`);
      for (const [part, text] of Object.entries(parts)) {
        out.line(`--- ${part} (${origins[part]}) ---`);
        out.line(text.replace(/\n$/, ''));
      }
    });
}
