/**
 * Self-contained HTML report of a backtest: per file, the sensors (each scaled to its own range),
 * the anomaly score with the threshold line, and bands for labelled and flagged periods. Inline
 * SVG only, no scripts or external assets, so the file opens anywhere and can be archived.
 */
import type { FileResult } from './backtest-run.ts';

const W = 1000;
const H_SENS = 160;
const H_SCORE = 90;
const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

function polyline(
  values: readonly number[],
  x0: number,
  height: number,
  lo: number,
  hi: number,
  color: string,
  n: number,
): string {
  const span = hi > lo ? hi - lo : 1;
  const pts: string[] = [];
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) return;
    pts.push(
      `${((x0 + i) / Math.max(1, n - 1)) * W},${(height - ((v - lo) / span) * (height - 4) - 2).toFixed(1)}`,
    );
  });
  return `<polyline fill="none" stroke="${color}" stroke-width="1" points="${pts.join(' ')}"/>`;
}

/** Bands where `on(i)` holds, over n rows, drawn from y to y+h. */
function bands(n: number, on: (i: number) => boolean, y: number, h: number, fill: string): string {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= n; i++) {
    const v = i < n && on(i);
    if (v && start < 0) start = i;
    if (!v && start >= 0) {
      const x = (start / Math.max(1, n - 1)) * W;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(1, ((i - start) / Math.max(1, n - 1)) * W).toFixed(1)}" height="${h}" fill="${fill}"/>`,
      );
      start = -1;
    }
  }
  return out.join('');
}

function fileSection(r: FileResult, threshold: number, figures: string): string {
  const n = r.table.rows.length;
  const sensors = r.table.columns.map((c, s) => {
    const vals = r.table.rows.map((row) => row[s] as number);
    const finite = vals.filter(Number.isFinite);
    const lo = Math.min(...finite);
    const hi = Math.max(...finite);
    return polyline(vals, 0, H_SENS, lo, hi, COLORS[s % COLORS.length] as string, n);
  });
  const labels = r.table.labels;
  const labelled = labels
    ? bands(n, (i) => (labels[i] ?? 0) > 0, 0, H_SENS + H_SCORE, 'rgba(214,39,40,0.12)')
    : '';
  const flagged = bands(
    n,
    (i) => i >= r.firstScored && (r.flagged[i - r.firstScored] ?? false),
    H_SENS + H_SCORE - 10,
    10,
    'rgba(255,127,14,0.8)',
  );
  const trainBand = bands(n, (i) => i < r.firstScored, 0, H_SENS + H_SCORE, 'rgba(0,0,0,0.05)');
  const scoreLine = polyline(r.scores, r.firstScored, H_SCORE, 0, 1, '#111', n).replace(
    '<polyline',
    `<polyline transform="translate(0 ${H_SENS})"`,
  );
  const thrY = H_SENS + H_SCORE - threshold * (H_SCORE - 4) - 2;
  const legend = r.table.columns
    .map((c, s) => `<span style="color:${COLORS[s % COLORS.length]}">■ ${esc(c)}</span>`)
    .join(' ');
  return `<section><h2>${esc(r.file.split('/').pop() ?? r.file)}</h2><p class="fig">${esc(figures)}</p><p class="legend">${legend}</p>
<svg viewBox="0 0 ${W} ${H_SENS + H_SCORE}" width="100%" role="img" aria-label="sensors and anomaly score for ${esc(r.file)}">
${trainBand}${labelled}${sensors.join('')}
<line x1="0" x2="${W}" y1="${H_SENS}" y2="${H_SENS}" stroke="#999"/>
${scoreLine}<line x1="0" x2="${W}" y1="${thrY.toFixed(1)}" y2="${thrY.toFixed(1)}" stroke="#d62728" stroke-dasharray="4 3"/>
${flagged}</svg></section>`;
}

/** The whole page. `figuresByFile` holds the per-file text shown above each chart. */
export function renderBacktestHtml(
  results: readonly FileResult[],
  threshold: number,
  pooled: string,
  figuresByFile: readonly string[],
): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Backtest</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}section{margin-bottom:28px}svg{border:1px solid #ddd;background:#fff}
.legend span{margin-right:10px;font-size:12px}.fig{font-family:monospace}.key span{margin-right:16px}</style></head><body>
<h1>Backtest</h1><p class="fig">${esc(pooled)}</p>
<p class="key"><span style="background:rgba(0,0,0,0.08)">&nbsp;fit rows&nbsp;</span><span style="background:rgba(214,39,40,0.18)">&nbsp;labelled anomaly&nbsp;</span>
<span style="background:rgba(255,127,14,0.8)">&nbsp;flagged&nbsp;</span><span>— black: anomaly score (0–1), red dashed: threshold ${threshold}</span></p>
${results.map((r, i) => fileSection(r, threshold, figuresByFile[i] ?? '')).join('\n')}
</body></html>
`;
}
