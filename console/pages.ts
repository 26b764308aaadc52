/**
 * The console's pages, rendered on the server with Hono's `html` template
 * (every interpolated value is HTML-escaped). Each page renders a read model
 * of cli/queries, the same one the matching `restock` command prints.
 *
 * Personal data stays out of URLs: links carry event keys only, and the
 * shopper page takes the user id from a POSTed form.
 */
import { html, raw } from 'hono/html';
import { formatRate } from '../cli/commands/demand.ts';
import { formatRevenue } from '../cli/commands/status.ts';
import { DEMAND_DAYS, type DemandReport, type ProductDemandReport, type SignupDay } from '../cli/queries/demand.ts';
import { purchasedOf } from '../cli/queries/funnel.ts';
import type { RestocksReport } from '../cli/queries/restocks.ts';
import type { TraceReport } from '../cli/queries/trace.ts';
import { DELIVERY_STATES } from '../lib/model.ts';
import { count, utc, type RestockView } from './view.ts';

type Html = ReturnType<typeof html>;

/** The navigation entries, in order. */
const NAV = [
  { href: '/', label: 'Restocks' },
  { href: '/demand', label: 'Demand' },
  { href: '/shoppers', label: 'Shopper' },
] as const;

/** Data for a page's script, inside a non-executed `<script type="application/json">` (`<` escaped so it cannot close the tag). */
function jsonData(id: string, value: unknown): Html {
  return html`<script type="application/json" id="${id}">${raw(JSON.stringify(value).replace(/</g, '\\u003c'))}</script>`;
}

/** The frame of every page: landmarks, a skip link, the navigation, the stylesheet. */
export function layout(o: { title: string; current: string; body: Html; scripts?: string[] }): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · Restock console</title>
<link rel="stylesheet" href="/assets/console.css">
<link rel="icon" href="data:,">
${(o.scripts ?? []).map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">Restock console</span>
<nav aria-label="Main"><ul>${NAV.map((n) => html`<li><a href="${n.href}"${n.href === o.current ? raw(' aria-current="page"') : ''}>${n.label}</a></li>`)}</ul></nav>
</header>
<main id="main" tabindex="-1">
${o.body}
</main>
</body>
</html>`;
}

/** A link to a product's page (product ids are not personal data). */
function productLink(productId: string, text: string = productId): Html {
  return html`<a href="/products/${encodeURIComponent(productId)}">${text}</a>`;
}

/** A state word with its colour class (the classes are in console.css, each with WCAG AA contrast on white). */
function stateBadge(state: string): Html {
  return html`<span class="state state-${state}">${state}</span>`;
}

/** The overview: restocks of the window, newest first (`restock restocks`). */
export function overviewPage(r: RestocksReport, hours: number): Html {
  const rows = r.restocks.map(
    (x) => html`<tr>
<td data-label="Product">${productLink(x.fanout.productId)}</td>
<td data-label="Restock"><a href="/restocks/${encodeURIComponent(x.fanout.eventKey)}">${x.fanout.eventKey}</a></td>
<td data-label="State">${stateBadge(String(x.fanout.state))}${x.fanout.stopped ? html` <span class="note">stopped: ${x.fanout.stopped.reason}</span>` : ''}</td>
<td data-label="Told"><span class="told">${count(x.told)} / ${count(x.audience)}</span> <progress max="${Math.max(1, x.audience)}" value="${x.told}" aria-label="told of ${x.fanout.productId}">${count(x.told)} of ${count(x.audience)}</progress></td>
<td data-label="Failures" class="${x.failures ? 'bad' : ''}">${count(x.failures)}</td>
<td data-label="Started">${utc(x.fanout.startedAtMs)}</td>
</tr>`,
  );
  const body = html`<h1>Restocks of the last ${hours} h</h1>
<p class="lede">Each restock's fan-out, shoppers told of its audience, and notifications that did not get through. The same answer as <code>restock restocks --hours ${hours}</code>.</p>
${
  r.restocks.length === 0
    ? html`<p class="empty">No restock started since ${utc(r.sinceMs)}.</p>`
    : html`<table class="cards">
<caption>${count(r.restocks.length)} restock(s) since ${utc(r.sinceMs)}, newest first</caption>
<thead><tr><th scope="col">Product</th><th scope="col">Restock</th><th scope="col">State</th><th scope="col">Told</th><th scope="col">Failures</th><th scope="col">Started</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
${r.truncated ? html`<p class="warn">More restocks started in this window than are listed.</p>` : ''}`;
  return layout({ title: 'Restocks', current: '/', body });
}

/**
 * A restock: its counts by state (`restock status`), waves, key ranges, last
 * errors, and a chart of shoppers told over time that the page's script
 * extends by polling `/api/restocks/{eventKey}` until the restock is settled.
 */
export function restockPage(v: RestockView, pollMs: number): Html {
  const s = v.status;
  const f = s.fanout;
  const p = v.progress;
  const api = `/api/restocks/${encodeURIComponent(s.eventKey)}`;
  const body = html`<h1>Restock of ${f ? productLink(f.productId) : 'an unknown product'}</h1>
<p class="lede">Event <code>${s.eventKey}</code>. The same answer as <code>restock status ${s.eventKey}</code>.</p>
<section aria-labelledby="progress-h" data-restock data-api="${api}" data-poll-ms="${pollMs}">
<h2 id="progress-h">Progress</h2>
<p id="summary" aria-live="polite"><strong data-field="told">${count(p.told)}</strong> of <strong data-field="audience">${count(p.audience)}</strong> shoppers told, <strong data-field="failures">${count(p.failures)}</strong> failure(s); <span data-field="settled">${p.settled ? 'settled' : 'in progress'}</span>.</p>
<progress id="told-bar" max="${Math.max(1, p.audience)}" value="${p.told}" aria-label="shoppers told">${count(p.told)} of ${count(p.audience)}</progress>
<dl class="facts">
<div><dt>Fan-out</dt><dd data-field="fanout-state">${f ? stateBadge(String(f.state)) : 'not recorded'}</dd></div>
<div><dt>Enqueued</dt><dd data-field="enqueued">${f ? `${count(f.recipients)} recipient(s) in ${count(f.chunks)} chunk(s)` : '-'}</dd></div>
<div><dt>Started</dt><dd>${utc(f?.startedAtMs)}</dd></div>
<div><dt>Queued tasks</dt><dd data-field="queued">${s.queuedTasks === null ? '-' : count(s.queuedTasks)}</dd></div>
</dl>
${f?.error ? html`<p class="bad">Fan-out error: ${f.error}</p>` : ''}
${f?.stopped ? html`<p class="warn">Stopped at ${utc(f.stopped.atMs)}: ${f.stopped.reason === 'sold-out' ? 'the product sold out again' : 'a newer restock superseded it'}; shoppers not yet told keep their subscriptions.</p>` : ''}
${s.rejected ? html`<p class="bad">The event was rejected: ${s.rejected.reason}${s.rejected.field ? ` (field ${s.rejected.field})` : ''}.</p>` : ''}
<figure>
<div class="chart"><canvas id="progress-chart" role="img" aria-label="Shoppers told and failures over time since the fan-out started"></canvas></div>
<figcaption>Shoppers told (and failures) over time, sampled by this page every ${(pollMs / 1000).toFixed(1)} s while it is open.</figcaption>
</figure>
<p class="refresh" data-field="refresh" role="status"></p>
</section>
<section aria-labelledby="states-h">
<h2 id="states-h">Deliveries by state</h2>
<table class="states">
<caption>${html`<span data-field="total">${count(s.deliveries.total)}</span>`} ledger entries of this restock</caption>
<thead><tr><th scope="col">State</th><th scope="col" class="num">Deliveries</th></tr></thead>
<tbody>${DELIVERY_STATES.map((st) => html`<tr><th scope="row">${stateBadge(st)}</th><td class="num" data-count="${st}">${count(s.deliveries[st])}</td></tr>`)}</tbody>
</table>
</section>
${
  s.waves
    ? html`<section aria-labelledby="waves-h">
<h2 id="waves-h">Waves</h2>
<p>${s.waves.multiplier} shopper(s) per unit, every ${(s.waves.intervalMs / 1000).toFixed(0)} s, from ${s.waves.minAvailableToNotify} unit(s); now ${s.waves.phase}${s.waves.stopReason ? ` (${s.waves.stopReason})` : ''}.</p>
<table><thead><tr><th scope="col">Wave</th><th scope="col">Started</th><th scope="col" class="num">Stock</th><th scope="col" class="num">Taken</th><th scope="col" class="num">Told</th></tr></thead>
<tbody>${s.waves.waves.map((w) => html`<tr><th scope="row">${w.index}</th><td>${utc(w.startedAtMs)}</td><td class="num">${count(w.available)}</td><td class="num">${count(w.taken)}</td><td class="num">${count(w.delivered)}</td></tr>`)}</tbody></table>
</section>`
    : ''
}
${
  s.ranges.length
    ? html`<section aria-labelledby="ranges-h">
<h2 id="ranges-h">Key ranges</h2>
<table><thead><tr><th scope="col">Range</th><th scope="col">State</th><th scope="col" class="num">Recipients</th><th scope="col" class="num">Chunks</th><th scope="col">Error</th></tr></thead>
<tbody>${s.ranges.map((r) => html`<tr><th scope="row">#${r.index}</th><td>${stateBadge(r.state)}</td><td class="num">${count(r.recipients)}</td><td class="num">${count(r.chunks)}</td><td>${r.error ?? ''}</td></tr>`)}</tbody></table>
</section>`
    : ''
}
<section aria-labelledby="errors-h">
<h2 id="errors-h">Last errors</h2>
${
  s.lastErrors.length
    ? html`<table><caption>Newest first${s.sample.errorsExact ? '' : `, of ${s.sample.size} sampled`}</caption>
<thead><tr><th scope="col">Channel</th><th scope="col">State</th><th scope="col" class="num">Attempts</th><th scope="col">When</th><th scope="col">Error</th></tr></thead>
<tbody>${s.lastErrors.map((e) => html`<tr><td>${e.channel}</td><td>${stateBadge(String(e.state))}</td><td class="num">${e.attempts}</td><td>${utc(e.updatedAtMs)}</td><td>${e.lastError ?? '-'}</td></tr>`)}</tbody></table>`
    : html`<p>None.</p>`
}
</section>
${jsonData('restock-data', v)}`;
  return layout({ title: `Restock ${s.eventKey}`, current: '', body, scripts: ['/assets/chart.umd.js', '/assets/restock.js'] });
}

/** Products the demand page lists. */
export const DEMAND_PAGE_TOP = 20;

/** A UTC day: `2026-12-07`. */
function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * A bar chart of sign-ups per day (Chart.js, drawn by /assets/bars.js from
 * the JSON beside it) with the same numbers in a table, so the chart is not
 * the only way to read them.
 */
function signupChart(id: string, days: readonly SignupDay[], title: string): Html {
  const data = { label: 'sign-ups', labels: days.map((d) => day(d.dayStartMs)), values: days.map((d) => d.signups) };
  return html`<figure>
<div class="chart"><canvas data-bars="${id}" role="img" aria-label="${title}: ${days.map((d) => `${day(d.dayStartMs)} ${d.signups}`).join(', ')}"></canvas></div>
<figcaption>${title}, by the day of sign-up (UTC). Only sign-ups still waiting are counted: a shopper told or unsubscribed is no longer there.</figcaption>
</figure>
${jsonData(id, data)}`;
}

/** The demand page: the products with the most shoppers waiting (`restock demand`). */
export function demandPage(r: DemandReport): Html {
  const rows = r.products.map((p) => {
    const signups = p.signupsPerDay.reduce((n, d) => n + d.signups, 0);
    const last = p.lastRestock;
    return html`<tr>
<td data-label="Product">${productLink(p.productId)}${p.name ? html` <span class="note">${p.name}</span>` : ''}</td>
<td data-label="Waiting" class="num" data-waiting="${p.productId}">${count(p.waiting)}</td>
<td data-label="Stock" class="num">${p.available === null ? '-' : count(p.available)}</td>
<td data-label="Sign-ups">${count(signups)} <span class="note">(per day: ${p.signupsPerDay.map((d) => d.signups).join(' ')})</span></td>
<td data-label="Last restock">${last ? html`<a href="/restocks/${encodeURIComponent(last.eventKey)}">${utc(last.startedAtMs)}</a>` : 'never'}</td>
<td data-label="Conversion">${last ? `${formatRate(last.conversion)} (${count(purchasedOf(last.funnel))} of ${count(last.funnel.notified)} notified bought)` : '-'}</td>
</tr>`;
  });
  const body = html`<h1>What to restock first</h1>
<p class="lede">The products with the most shoppers waiting, their sign-ups of the last ${DEMAND_DAYS} days, and what their last restock sold. The same answer as <code>restock demand --top ${DEMAND_PAGE_TOP}</code>.</p>
${
  r.products.length === 0
    ? html`<p class="empty">No shopper is waiting for any of the ${count(r.considered)} product(s) considered.</p>`
    : html`<table class="cards">
<caption>${count(r.products.length)} of ${count(r.withWaiting)} product(s) with shoppers waiting, most first (${count(r.considered)} considered)</caption>
<thead><tr><th scope="col">Product</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Stock</th><th scope="col">Sign-ups, last ${DEMAND_DAYS} days</th><th scope="col">Last restock</th><th scope="col">Conversion</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
${r.truncated ? html`<p class="warn">Only the first ${count(r.considered)} products (by id) were counted: products after them are not ranked.</p>` : ''}`;
  return layout({ title: 'Demand', current: '/demand', body });
}

/** A product: shoppers waiting, sign-ups per day, past restocks and what each sold (`restock product demand`). */
export function productPage(r: ProductDemandReport): Html {
  const total = r.signupsPerDay.reduce((n, d) => n + d.signups, 0);
  const body = html`<h1>Product ${r.productId}${r.name ? html` <span class="note">${r.name}</span>` : ''}</h1>
<p class="lede">The same answer as <code>restock product demand ${r.productId}</code>.</p>
<dl class="facts">
<div><dt>Shoppers waiting</dt><dd data-field="waiting">${count(r.waiting)}</dd></div>
<div><dt>Stock</dt><dd>${r.available === null ? 'never recorded' : count(r.available)}</dd></div>
<div><dt>Sign-ups, last ${r.signupsPerDay.length} days</dt><dd>${count(total)}</dd></div>
</dl>
<section aria-labelledby="signups-h">
<h2 id="signups-h">Sign-ups over time</h2>
${signupChart('signups-data', r.signupsPerDay, `Sign-ups per day over the last ${r.signupsPerDay.length} days`)}
<table class="states">
<caption>Sign-ups still waiting, per UTC day, oldest first</caption>
<thead><tr><th scope="col">Day</th><th scope="col" class="num">Sign-ups</th></tr></thead>
<tbody>${r.signupsPerDay.map((d) => html`<tr><th scope="row">${day(d.dayStartMs)}</th><td class="num">${count(d.signups)}</td></tr>`)}</tbody>
</table>
</section>
<section aria-labelledby="restocks-h">
<h2 id="restocks-h">Past restocks</h2>
${
  r.restocks.length === 0
    ? html`<p>None.</p>`
    : html`<table class="cards">
<caption>Newest first: shoppers notified, links followed, purchases (direct and assisted) and revenue</caption>
<thead><tr><th scope="col">Restock</th><th scope="col">State</th><th scope="col" class="num">Notified</th><th scope="col" class="num">Clicked</th><th scope="col" class="num">Purchased</th><th scope="col">Conversion</th><th scope="col">Revenue</th></tr></thead>
<tbody>${r.restocks.map(
        (x) => html`<tr>
<td data-label="Restock"><a href="/restocks/${encodeURIComponent(x.eventKey)}">${utc(x.startedAtMs)}</a></td>
<td data-label="State">${stateBadge(x.state)}${x.stopped ? html` <span class="note">stopped: ${x.stopped}</span>` : ''}</td>
<td data-label="Notified" class="num">${count(x.funnel.notified)}</td>
<td data-label="Clicked" class="num">${count(x.funnel.clicked)}</td>
<td data-label="Purchased" class="num">${count(purchasedOf(x.funnel))}</td>
<td data-label="Conversion">${formatRate(x.conversion)}</td>
<td data-label="Revenue">${formatRevenue(x.funnel.revenueMinor) || '-'}</td>
</tr>`,
      )}</tbody>
</table>`
}
${r.restocksTruncated ? html`<p class="note">Older restocks are not listed.</p>` : ''}
</section>`;
  return layout({ title: `Product ${r.productId}`, current: '', body, scripts: ['/assets/chart.umd.js', '/assets/bars.js'] });
}

/** The shopper search form; `error` names a field that was refused. */
function shopperForm(values: { userId?: string; productId?: string }, error?: { field: string; message: string }): Html {
  const invalid = (field: string) => (error?.field === field ? raw(` aria-invalid="true" aria-describedby="${field}-error"`) : '');
  return html`<form method="post" action="/shoppers" class="search">
<div class="field">
<label for="userId">User id</label>
<input id="userId" name="userId" required autocomplete="off" spellcheck="false" value="${values.userId ?? ''}"${invalid('userId')}>
${error?.field === 'userId' ? html`<p class="bad" id="userId-error">${error.message}</p>` : ''}
</div>
<div class="field">
<label for="productId">Product id <span class="note">(optional: also lists its recent restocks that did not reach the shopper)</span></label>
<input id="productId" name="productId" autocomplete="off" spellcheck="false" value="${values.productId ?? ''}"${invalid('productId')}>
${error?.field === 'productId' ? html`<p class="bad" id="productId-error">${error.message}</p>` : ''}
</div>
<button type="submit">Trace</button>
</form>`;
}

/** The shopper page: the search form, and with a report, what `restock trace` answers. */
export function shopperPage(o: { values?: { userId?: string; productId?: string }; error?: { field: string; message: string }; report?: TraceReport }): Html {
  const r = o.report;
  const body = html`<h1>Where is a shopper's notification?</h1>
<p class="lede">The same answer as <code>restock trace --user &lt;userId&gt; [--product &lt;productId&gt;]</code>. The user id is sent in the form's body, never in the address.</p>
${shopperForm(o.values ?? {}, o.error)}
${r ? traceSection(r) : ''}`;
  return layout({ title: 'Shopper', current: '/shoppers', body });
}

function traceSection(r: TraceReport): Html {
  return html`<section aria-labelledby="trace-h" id="trace">
<h2 id="trace-h">Trace of ${r.userId}${r.productId ? ` for ${r.productId}` : ''}</h2>
<h3>Subscriptions</h3>
${
  r.subscriptions.length === 0
    ? html`<p>None${r.productId ? ' for this product' : ''} (a sent or rejected notification removes a one-shot subscription).</p>`
    : html`<table><thead><tr><th scope="col">Product</th><th scope="col">Channels</th><th scope="col">Locale</th><th scope="col">Time zone</th><th scope="col">Since</th><th scope="col">Consent</th></tr></thead>
<tbody>${r.subscriptions.map(
        (s) =>
          html`<tr><td>${s.productId}</td><td>${s.channels.join(', ') || '-'}</td><td>${s.locale ?? '-'}</td><td>${s.timeZone ?? 'default'}</td><td>${utc(s.createdAtMs)}</td><td>${
            s.consent ? `${Object.entries(s.consent.channels).map(([ch, m]) => `${ch} ${m}`).join(', ')}, by ${s.consent.storefront}` : 'not recorded'
          }</td></tr>`,
      )}</tbody></table>`
}
<h3>Restocks</h3>
${r.outboxUnreadable ? html`<p class="warn">The outbox could not be read: ${r.outboxUnreadable}.</p>` : ''}
${
  r.events.length === 0
    ? html`<p>None reached this shopper.</p>`
    : html`<table class="trace-events"><thead><tr><th scope="col">Restock</th><th scope="col">Product</th><th scope="col">Fan-out</th><th scope="col">Channel</th><th scope="col">Delivery</th><th scope="col" class="num">Attempts</th><th scope="col">When</th><th scope="col">Error</th></tr></thead>
<tbody>${r.events.flatMap((e) => {
        const head = html`<td><a href="/restocks/${encodeURIComponent(e.eventKey)}">${e.eventKey}</a></td><td>${e.fanout?.productId ?? '-'}</td><td>${e.fanout ? stateBadge(String(e.fanout.state)) : 'gone'}</td>`;
        if (e.deliveries.length === 0) return [html`<tr>${head}<td colspan="5" class="warn">no delivery for this shopper</td></tr>`];
        return e.deliveries.map(
          (d) =>
            html`<tr>${head}<td>${d.channel}</td><td>${stateBadge(String(d.state))}</td><td class="num">${d.attempts}</td><td>${utc(d.sentAtMs ?? d.updatedAtMs)}</td><td>${d.lastError ?? ''}</td></tr>`,
        );
      })}</tbody></table>`
}
</section>`;
}

/** A page saying what went wrong, with the status the server answers. */
export function problemPage(title: string, detail: string): Html {
  return layout({ title, current: '', body: html`<h1>${title}</h1><p class="bad" role="alert">${detail}</p><p><a href="/">Back to the restocks</a></p>` });
}
