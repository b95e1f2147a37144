// bench/js/plot.mjs: plain SVG charts, no dependency. One chart is a list of
// panels; a panel has rows, a row has one bar (value) or one box
// (q = [p1, p25, p50, p75, p99]) per client, on a linear or log axis.
export const COLORS = { ours: "#1f77b4", js: "#ff7f0e", curl: "#2ca02c", server: "#7f7f7f" };

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");

function ticks(lo, hi, log) {
  if (log) {
    const out = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= lo && v <= hi) out.push(v);
      }
    return out;
  }
  const step = 10 ** Math.floor(Math.log10(hi / 4 || 1));
  const n = [1, 2, 5].map((m) => m * step).find((s) => hi / s <= 8) ?? step * 10;
  const out = [];
  for (let v = 0; v <= hi; v += n) out.push(+v.toPrecision(6));
  return out;
}

function panel(p, y0, width) {
  const left = 230, right = width - 20, rowH = 18, items = p.rows[0]?.items.length ?? 1;
  const values = p.rows.flatMap((r) => r.items.flatMap((i) => (i.q ?? [i.value])))
    .filter((v) => Number.isFinite(v) && (!p.log || v > 0));
  const lo = p.log ? Math.min(...values) * 0.8 : 0;
  const hi = Math.max(...values, 1e-9) * (p.log ? 1.25 : 1.1);
  const x = (v) => left + (right - left) * (p.log
    ? (Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))
    : v / hi);
  const out = [`<text x="10" y="${y0 + 16}" font-weight="bold">${esc(p.title)}</text>`];
  let y = y0 + 30;
  const top = y;
  for (const row of p.rows) {
    out.push(`<text x="${left - 8}" y="${y + (rowH * items) / 2 + 4}" text-anchor="end">${esc(row.label)}</text>`);
    for (const item of row.items) {
      const color = COLORS[item.name] ?? "#999";
      if (item.q && item.q.every(Number.isFinite)) {
        const [p1, p25, p50, p75, p99] = item.q.map(x);
        const m = y + rowH / 2;
        out.push(`<line x1="${p1}" x2="${p99}" y1="${m}" y2="${m}" stroke="${color}"/>`,
          `<rect x="${p25}" y="${y + 3}" width="${Math.max(1, p75 - p25)}" height="${rowH - 6}" fill="${color}" fill-opacity="0.35" stroke="${color}"/>`,
          `<line x1="${p50}" x2="${p50}" y1="${y + 2}" y2="${y + rowH - 2}" stroke="${color}" stroke-width="2"/>`,
          `<text x="${p99 + 4}" y="${m + 4}" font-size="10">${esc(item.text ?? "")}</text>`);
      } else if (Number.isFinite(item.value)) {
        out.push(`<rect x="${left}" y="${y + 3}" width="${Math.max(1, x(item.value) - left)}" height="${rowH - 6}" fill="${color}"/>`,
          `<text x="${x(item.value) + 4}" y="${y + rowH - 5}" font-size="10">${esc(item.text ?? item.value.toFixed(1))}</text>`);
      }
      y += rowH;
    }
    y += 6;
  }
  for (const t of ticks(lo || 0, hi, p.log)) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${y}" stroke="#ddd"/>`,
      `<text x="${x(t)}" y="${y + 12}" font-size="10" text-anchor="middle">${t}</text>`);
  }
  out.push(`<text x="${right}" y="${y + 26}" font-size="10" text-anchor="end">${esc(p.unit)}</text>`);
  return { svg: out.join("\n"), height: y + 36 - y0 };
}

// chart({ title, legend: [names], panels: [{ title, unit, log, rows }] })
export function chart({ title, legend, panels, width = 760 }) {
  const parts = [];
  let y = 30;
  for (const p of panels) {
    const { svg, height } = panel(p, y, width);
    parts.push(svg);
    y += height;
  }
  const keys = legend.map((name, i) =>
    `<rect x="${width - 120}" y="${8 + i * 14}" width="10" height="10" fill="${COLORS[name] ?? "#999"}"/>` +
    `<text x="${width - 105}" y="${17 + i * 14}" font-size="11">${esc(name === "js" ? "@fal-ai/client" : name === "ours" ? "gst-fal" : name)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="18" font-size="14" font-weight="bold">${esc(title)}</text>
${keys.join("\n")}
${parts.join("\n")}
</svg>
`;
}
