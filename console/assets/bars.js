// Bar charts of the console's pages: each `<canvas data-bars="ID">` is drawn
// from the JSON in `<script type="application/json" id="ID">` ({ label,
// labels, values }), the same numbers the page lists in a table beside it.
// Plain browser JavaScript, no build step: Chart.js is the global of its UMD build.
(() => {
  if (!window.Chart) return;
  for (const canvas of document.querySelectorAll('canvas[data-bars]')) {
    const source = document.getElementById(canvas.getAttribute('data-bars'));
    if (!source) continue;
    const data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      type: 'bar',
      data: { labels: data.labels, datasets: [{ label: data.label, data: data.values, backgroundColor: '#0a58ca' }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: data.label } } },
      },
    });
  }
})();
