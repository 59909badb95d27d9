/**
 * Two chart kinds as standalone SVG strings, no library: a line chart (a value per second,
 * one line per series) and a horizontal bar chart (one bar per label). Enough for a person
 * to see a throughput drop or a 3× gap without opening a spreadsheet.
 */

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

export interface Series {
  name: string;
  values: number[];
}

export function lineChart(title: string, unit: string, series: Series[], width = 560, height = 220): string {
  const pad = { l: 56, r: 12, t: 28, b: 34 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const x = (i: number) => pad.l + (w * i) / (n - 1);
  const y = (v: number) => pad.t + h - (h * v) / max;
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => `<line x1="${pad.l}" x2="${pad.l + w}" y1="${y(f * max)}" y2="${y(f * max)}" stroke="#ddd"/><text x="${pad.l - 4}" y="${y(f * max) + 4}" text-anchor="end" font-size="10">${fmt(f * max)}</text>`)
    .join('');
  const lines = series
    .map((s, k) => {
      const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${pts}"/>`;
    })
    .join('');
  const legend = series
    .map((s, k) => `<text x="${pad.l + 8 + k * 130}" y="${height - 6}" font-size="11" fill="${COLORS[k % COLORS.length]}">■ ${escapeXml(s.name)}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<text x="${pad.l}" y="16" font-size="13" font-weight="bold">${escapeXml(title)} (${escapeXml(unit)})</text>${grid}${lines}` +
    `<text x="${pad.l + w}" y="${pad.t + h + 14}" text-anchor="end" font-size="10">seconds</text>${legend}</svg>`
  );
}

export interface Bar {
  label: string;
  value: number;
  /** index into the palette, so one system keeps one colour across charts */
  color?: number;
  note?: string;
}

export function barChart(title: string, unit: string, bars: Bar[], width = 560): string {
  const rowH = 22;
  const pad = { l: 170, r: 110, t: 28, b: 8 };
  const height = pad.t + pad.b + rowH * bars.length;
  const w = width - pad.l - pad.r;
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const rows = bars
    .map((b, i) => {
      const yy = pad.t + i * rowH;
      const bw = (w * b.value) / max;
      const fill = COLORS[(b.color ?? i) % COLORS.length];
      return (
        `<text x="${pad.l - 6}" y="${yy + 15}" text-anchor="end" font-size="11">${escapeXml(b.label)}</text>` +
        `<rect x="${pad.l}" y="${yy + 3}" width="${bw.toFixed(1)}" height="${rowH - 6}" fill="${fill}"/>` +
        `<text x="${pad.l + bw + 4}" y="${yy + 15}" font-size="11">${fmt(b.value)} ${escapeXml(b.note ?? '')}</text>`
      );
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<text x="8" y="16" font-size="13" font-weight="bold">${escapeXml(title)} (${escapeXml(unit)})</text>${rows}</svg>`
  );
}
