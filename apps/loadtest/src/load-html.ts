import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Histogram } from './load-timeline.ts';
import type { LoadResult } from './run-load.ts';

const require = createRequire(import.meta.url);

/** uPlot's browser build and stylesheet, inlined: the report opens from disk with no network. */
function uplotAssets(): { script: string; style: string } {
  return {
    script: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    style: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
}

/** JSON for a <script> element: `<` escaped, so that no string in it can end the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
}

function histogramSeries(h: Histogram): { x: number[]; y: number[] } {
  // Bars at each bucket's index, labelled with its upper bound.
  return { x: h.upperMs.map((_, i) => i), y: h.counts };
}

/**
 * The load test as one self-contained HTML page: latency histograms (time to first token,
 * frame delivery) and time series (throughput, answers in flight, CPU per process), drawn
 * by uPlot from the run's JSON, which the page also carries.
 */
export function renderLoadHtml(result: LoadResult, textReport: string): string {
  const { script, style } = uplotAssets();
  const data = {
    timeline: result.timeline,
    ttft: { ...histogramSeries(result.histograms.ttftMs), upper: result.histograms.ttftMs.upperMs },
    delivery: { ...histogramSeries(result.histograms.deliveryMs), upper: result.histograms.deliveryMs.upperMs },
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>RagStream load test ${escapeHtml(result.startedAt)}</title>
<style>${style}
body { font: 14px system-ui, sans-serif; margin: 2em; max-width: 1100px; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 12px; }
.chart { margin: 1.5em 0; }
</style>
</head>
<body>
<h1>RagStream load test</h1>
<p>${escapeHtml(result.startedAt)}: ${result.ok ? 'OK' : 'FAILED'}</p>
<div class="chart" id="throughput"></div>
<div class="chart" id="inflight"></div>
<div class="chart" id="cpu"></div>
<div class="chart" id="ttft"></div>
<div class="chart" id="delivery"></div>
<h2>Report</h2>
<pre>${escapeHtml(textReport)}</pre>
<script>${script}</script>
<script id="data" type="application/json">${scriptJson(data)}</script>
<script>
const data = JSON.parse(document.getElementById('data').textContent);
const width = Math.min(1000, document.body.clientWidth);
const palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const t = data.timeline.t;
function lines(id, title, yLabel, series) {
  new uPlot({
    title, width, height: 260,
    scales: { x: { time: false } },
    axes: [{ label: 'seconds' }, { label: yLabel }],
    series: [{ label: 's' }, ...series.map(([label], i) => ({ label, stroke: palette[i % palette.length], width: 2 }))],
  }, [t, ...series.map(([, values]) => values)], document.getElementById(id));
}
function bars(id, title, h) {
  new uPlot({
    title, width, height: 260,
    scales: { x: { time: false } },
    axes: [{ label: 'ms (upper bound of the bucket)', values: (u, ticks) => ticks.map((i) => h.upper[i] ?? '') }, { label: 'count' }],
    series: [{}, { label: 'count', fill: 'rgba(31,119,180,0.5)', stroke: '#1f77b4', paths: uPlot.paths.bars({ size: [0.8] }) }],
  }, [h.x, h.y], document.getElementById(id));
}
lines('throughput', 'Throughput', 'per second', [['frames/s', data.timeline.framesPerSecond], ['tokens/s', data.timeline.tokensPerSecond]]);
lines('inflight', 'Answers in flight', 'answers', [['in flight', data.timeline.inFlight]]);
lines('cpu', 'CPU per process (100 = one core)', '%', Object.entries(data.timeline.cpuPercent));
bars('ttft', 'Time to first token', data.ttft);
bars('delivery', 'Frame delivery (appended in Redis -> received)', data.delivery);
</script>
</body>
</html>
`;
}
