// The restock page's live part: polls the page's JSON endpoint (the same
// `restock status` read model the page was rendered from) until the restock is
// settled, updates the counts in place and extends the chart, without reloading.
// Plain browser JavaScript, no build step: Chart.js is the global of its UMD build.
(() => {
  const root = document.querySelector('[data-restock]');
  const dataEl = document.getElementById('restock-data');
  if (!root || !dataEl) return;
  const api = root.getAttribute('data-api');
  const pollMs = Number(root.getAttribute('data-poll-ms')) || 1000;
  const initial = JSON.parse(dataEl.textContent);
  const fmt = (n) => n.toLocaleString('en-US');
  const startMs = initial.status.fanout?.startedAtMs || initial.readAtMs;
  const seconds = (ms) => Math.max(0, Math.round((ms - startMs) / 100) / 10);

  const told = [{ x: 0, y: 0 }];
  const failures = [{ x: 0, y: 0 }];
  const canvas = document.getElementById('progress-chart');
  const chart =
    canvas && window.Chart
      ? new window.Chart(canvas, {
          type: 'line',
          data: {
            datasets: [
              { label: 'told', data: told, borderColor: '#0b6e4f', backgroundColor: '#0b6e4f', stepped: false, pointRadius: 2 },
              { label: 'failures', data: failures, borderColor: '#b3261e', backgroundColor: '#b3261e', pointRadius: 2 },
            ],
          },
          options: {
            animation: false,
            maintainAspectRatio: false,
            parsing: false,
            scales: {
              x: { type: 'linear', min: 0, title: { display: true, text: 'seconds since the fan-out started' } },
              y: { type: 'linear', min: 0, title: { display: true, text: 'notifications' } },
            },
          },
        })
      : null;

  const set = (selector, text) => {
    for (const el of root.ownerDocument.querySelectorAll(selector)) el.textContent = text;
  };

  function show(view) {
    const p = view.progress;
    const s = view.status;
    set('[data-field="told"]', fmt(p.told));
    set('[data-field="audience"]', fmt(p.audience));
    set('[data-field="failures"]', fmt(p.failures));
    set('[data-field="settled"]', p.settled ? 'settled' : 'in progress');
    set('[data-field="total"]', fmt(s.deliveries.total));
    set('[data-field="queued"]', s.queuedTasks === null ? '-' : fmt(s.queuedTasks));
    if (s.fanout) {
      set('[data-field="enqueued"]', `${fmt(s.fanout.recipients)} recipient(s) in ${fmt(s.fanout.chunks)} chunk(s)`);
      const badge = document.querySelector('[data-field="fanout-state"] .state');
      if (badge) {
        badge.textContent = s.fanout.state;
        badge.className = `state state-${s.fanout.state}`;
      }
    }
    for (const cell of document.querySelectorAll('[data-count]')) {
      const n = s.deliveries[cell.getAttribute('data-count')];
      if (typeof n === 'number') cell.textContent = fmt(n);
    }
    const bar = document.getElementById('told-bar');
    if (bar) {
      bar.max = Math.max(1, p.audience);
      bar.value = p.told;
      bar.textContent = `${fmt(p.told)} of ${fmt(p.audience)}`;
    }
    const x = seconds(view.readAtMs);
    if (told.length === 0 || told[told.length - 1].x !== x) {
      told.push({ x, y: p.told });
      failures.push({ x, y: p.failures });
      chart?.update();
    }
  }

  const refresh = document.querySelector('[data-field="refresh"]');
  async function poll() {
    try {
      const res = await fetch(api, { headers: { accept: 'application/json' }, cache: 'no-store' });
      if (!res.ok) throw new Error(`the console answered ${res.status}`);
      const view = await res.json();
      show(view);
      if (refresh) refresh.textContent = view.progress.settled ? 'Settled: no longer refreshing.' : `Updated ${new Date(view.readAtMs).toISOString().slice(11, 19)} UTC.`;
      if (view.progress.settled) return;
    } catch (err) {
      if (refresh) refresh.textContent = `Could not refresh (${err.message}); retrying.`;
    }
    setTimeout(poll, pollMs);
  }

  show(initial);
  if (!initial.progress.settled) setTimeout(poll, pollMs);
  else if (refresh) refresh.textContent = 'Settled: no longer refreshing.';
})();
