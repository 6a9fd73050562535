// The HTML report: one self-contained file (inline CSS and SVG, no scripts, no network) for one run or
// several side by side (`r1 eval compare`). Plots: score by task with 95% intervals, score by each
// breakdown (language, subject, topic...), tokens and reasoning length per answer, cost per task on each
// price table, and the energy estimate.

import { type Histogram, PRICE_TABLES, type Results } from "./results.js";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const COLORS = ["#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5"];

export interface Bar {
  label: string;
  value: number;
  lo?: number;
  hi?: number;
  color?: string;
}

/** Horizontal bars (labels can be long: subjects, topics), optional interval whiskers. */
export function barChart(title: string, bars: Bar[], fmt: (v: number) => string, max?: number): string {
  const rowH = 22;
  const left = 220;
  const plotW = 360;
  const h = 30 + bars.length * rowH + 10;
  const top = Math.max(max ?? 0, ...bars.map((b) => b.hi ?? b.value), 1e-12);
  const x = (v: number) => left + (Math.max(0, v) / top) * plotW;
  const rows = bars.map((b, i) => {
    const y = 30 + i * rowH;
    const whisker =
      b.lo !== undefined && b.hi !== undefined
        ? `<line x1="${x(b.lo)}" x2="${x(b.hi)}" y1="${y + 8}" y2="${y + 8}" stroke="#222" stroke-width="1.5"/>`
        : "";
    return (
      `<text x="${left - 6}" y="${y + 12}" text-anchor="end">${esc(b.label.slice(0, 34))}</text>` +
      `<rect x="${left}" y="${y + 2}" width="${x(b.value) - left}" height="${rowH - 6}" fill="${b.color ?? COLORS[0]}"/>` +
      whisker +
      `<text x="${Math.max(x(b.value), x(b.hi ?? 0)) + 4}" y="${y + 12}">${esc(fmt(b.value))}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + plotW + 90}" height="${h}" font-family="sans-serif" font-size="11"><text x="4" y="16" font-weight="bold" font-size="13">${esc(title)}</text>${rows.join("")}</svg>`;
}

/** Histograms of several runs overlaid as outlines on shared bins of their own edges. */
export function histChart(title: string, xLabel: string, series: { label: string; hist: Histogram }[]): string {
  const w = 560;
  const h = 200;
  const pad = { l: 40, r: 10, t: 26, b: 30 };
  const maxX = Math.max(1, ...series.map((s) => s.hist.edges[s.hist.edges.length - 1] ?? 1));
  const maxY = Math.max(1, ...series.flatMap((s) => s.hist.counts));
  const X = (v: number) => pad.l + (v / maxX) * (w - pad.l - pad.r);
  const Y = (v: number) => h - pad.b - (v / maxY) * (h - pad.t - pad.b);
  const paths = series.map((s, k) => {
    let d = `M${X(0)},${Y(0)}`;
    s.hist.counts.forEach((c, i) => {
      d += ` L${X(s.hist.edges[i])},${Y(c)} L${X(s.hist.edges[i + 1])},${Y(c)}`;
    });
    d += ` L${X(s.hist.edges[s.hist.edges.length - 1])},${Y(0)}`;
    const color = COLORS[k % COLORS.length];
    return `<path d="${d}" fill="${color}" fill-opacity="0.25" stroke="${color}"/><text x="${w - pad.r}" y="${pad.t + 12 * k}" text-anchor="end" fill="${color}">${esc(s.label)}</text>`;
  });
  const axes =
    `<line x1="${pad.l}" y1="${h - pad.b}" x2="${w - pad.r}" y2="${h - pad.b}" stroke="#444"/>` +
    `<text x="${pad.l}" y="${h - 8}">0</text><text x="${w - pad.r}" y="${h - 8}" text-anchor="end">${Math.round(maxX)} ${esc(xLabel)}</text>` +
    `<text x="${pad.l - 4}" y="${pad.t + 4}" text-anchor="end">${maxY}</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11"><text x="4" y="16" font-weight="bold" font-size="13">${esc(title)}</text>${axes}${paths.join("")}</svg>`;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const usd = (v: number) => (v < 0.01 ? `$${v.toFixed(5)}` : `$${v.toFixed(2)}`);
const joules = (v: number) => (v >= 3600 ? `${(v / 3600).toFixed(2)} Wh` : `${v.toFixed(1)} J`);

/** A short name for a run in charts and tables. */
export function runLabel(r: Results, dir?: string): string {
  return `${r.task} · ${r.backend.replace(/^local:/, "")}${dir ? ` (${dir.split("/").filter(Boolean).pop()})` : ""}`;
}

export function renderReport(runs: { results: Results; dir?: string }[], title = "r1 eval report"): string {
  const label = (k: number) => runLabel(runs[k].results, runs.length > 1 ? runs[k].dir : undefined);
  const rows = runs.map(({ results: r }, k) => {
    const cells = [
      label(k),
      r.mode,
      r.metric,
      `${pct(r.score)} [${pct(r.ci95.lo)}, ${pct(r.ci95.hi)}]`,
      r.acc_norm ? pct(r.acc_norm.score) : "",
      String(r.n_items),
      String(r.config.samples),
      String(r.n_failed),
      pct(r.truncation_rate),
      r.tokens.completion.mean.toFixed(0),
      r.tokens.reasoning_chars.mean.toFixed(0),
      ...Object.keys(PRICE_TABLES).map((t) => usd(r.cost_usd[t] ?? 0)),
      joules(r.energy.joules),
      `${r.wall_s.toFixed(1)} s`,
    ];
    return `<tr>${cells.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`;
  });
  const head = [
    "run",
    "mode",
    "metric",
    "score [95% CI]",
    "acc_norm",
    "items",
    "K",
    "failed",
    "truncated",
    "tokens/answer",
    "reasoning chars",
    ...Object.values(PRICE_TABLES).map((t) => `cost ${t.label}`),
    "energy",
    "wall",
  ];

  const charts: string[] = [];
  charts.push(
    barChart(
      "Score by task (95% interval)",
      runs.map(({ results: r }, k) => ({
        label: label(k),
        value: r.score,
        lo: r.ci95.lo,
        hi: r.ci95.hi,
        color: COLORS[k % COLORS.length],
      })),
      pct,
      1,
    ),
  );
  runs.forEach(({ results: r }, k) => {
    for (const [key, groups] of Object.entries(r.by)) {
      const entries = Object.entries(groups);
      if (entries.length < 2 && key !== "language") continue;
      charts.push(
        barChart(
          `${label(k)}: ${r.metric} by ${key}`,
          entries.map(([g, s]) => ({
            label: `${g} (n=${s.n})`,
            value: s.score,
            lo: s.ci95.lo,
            hi: s.ci95.hi,
            color: COLORS[k % COLORS.length],
          })),
          pct,
          1,
        ),
      );
    }
  });
  const generative = runs.filter(({ results: r }) => r.mode !== "loglik");
  if (generative.length) {
    const series = (f: (r: Results) => Histogram) =>
      generative.map(({ results: r }) => ({ label: runLabel(r), hist: f(r) }));
    charts.push(
      histChart(
        "Tokens per answer",
        "tokens",
        series((r) => r.hist.completion_tokens),
      ),
    );
    charts.push(
      histChart(
        "Reasoning length per answer",
        "chars",
        series((r) => r.hist.reasoning_chars),
      ),
    );
  }
  for (const [name, t] of Object.entries(PRICE_TABLES)) {
    charts.push(
      barChart(
        `Cost per task at ${t.label} prices ($${t.input_cache_miss}/$${t.output} per 1M in/out)`,
        runs.map(({ results: r }, k) => ({
          label: label(k),
          value: r.cost_usd[name] ?? 0,
          color: COLORS[k % COLORS.length],
        })),
        usd,
      ),
    );
  }
  charts.push(
    barChart(
      "Energy (estimate)",
      runs.map(({ results: r }, k) => ({ label: label(k), value: r.energy.joules, color: COLORS[k % COLORS.length] })),
      joules,
    ),
  );

  const notes = runs.map(({ results: r }, k) => {
    const refusals = r.refusals
      ? ` Refusals by kind: ${
          Object.entries(r.refusals.by_kind)
            .map(([kind, n]) => `${kind} ${n}`)
            .join(", ") || "none"
        }; thinking skipped on ${pct(r.refusals.skipped_thinking_rate)} of answers.`
      : "";
    const fails = r.failures.length
      ? ` First failures: ${r.failures
          .slice(0, 3)
          .map((f) => `${f.id}: ${f.error}`)
          .join("; ")}.`
      : "";
    return `<li><b>${esc(label(k))}</b>: temperature ${r.config.temperature}, top-p ${r.config.topP}, max tokens ${r.config.maxTokens}, seed ${r.config.seed}. Energy: ${esc(r.energy.method)}.${esc(refusals)}${esc(fails)}</li>`;
  });

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}
th{background:#f3f3f3}.charts{display:flex;flex-wrap:wrap;gap:16px}.charts svg{border:1px solid #eee}</style></head>
<body><h1>${esc(title)}</h1>
<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr>${rows.join("")}</table>
<p>pass@1 is the mean over items of each item's accuracy over its K samples; intervals are Wilson (one sample per
item) or a percentile bootstrap over items (K &gt; 1). Failed requests are excluded from scores and counted.
Costs price the recorded prompt and completion tokens (reasoning bills as output); energy is an estimate.</p>
<ul>${notes.join("")}</ul>
<div class="charts">${charts.join("\n")}</div>
</body></html>
`;
}
