// Two hand-written SVG charts for the report (no dependency): throughput as horizontal bars with the
// min–max of the repeats as whiskers, and latency percentiles (p50, p99, p99.9) on a log scale.

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12"';
const LABEL_WIDTH = 360;
const PLOT_WIDTH = 480;
const RIGHT = 90;
const ROW = 20;
const TOP = 46;
const BOTTOM = 40;
const PALETTE = ['#4C78A8', '#F58518', '#54A24B', '#E45756', '#72B7B2', '#B279A2', '#9D755D', '#FF9DA6'];

const round = (value: number): number => Math.round(value * 10) / 10;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round step for about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e4 ? 0 : 1)}k`;
  return value.toFixed(value >= 10 ? 0 : 1);
}

export interface BarRow {
  label: string;
  value: number;
  min: number;
  max: number;
  /** Rows of a group share a colour and are separated from the next group by a gap. */
  group: string;
}

export function barChart(title: string, unit: string, rows: BarRow[]): string {
  const groups = [...new Set(rows.map((row) => row.group))];
  const gap = 8;
  const height = TOP + rows.length * ROW + (groups.length - 1) * gap + BOTTOM;
  const width = LABEL_WIDTH + PLOT_WIDTH + RIGHT;
  const maxValue = Math.max(1, ...rows.map((row) => (Number.isFinite(row.max) ? row.max : row.value)));
  const step = niceStep(maxValue, 5);
  const axisMax = Math.ceil(maxValue / step) * step;
  const x = (value: number): number => round(LABEL_WIDTH + (value / axisMax) * PLOT_WIDTH);
  const parts: string[] = [];
  parts.push(`<text x="10" y="20" font-weight="bold" font-size="14">${escape(title)}</text>`);
  parts.push(
    `<text x="10" y="36" fill="#555">median of the repeats; whiskers: min–max; ${escape(unit)}</text>`,
  );
  const plotBottom = height - BOTTOM;
  for (let tick = 0; tick <= axisMax + step / 2; tick += step) {
    parts.push(`<line x1="${x(tick)}" y1="${TOP - 4}" x2="${x(tick)}" y2="${plotBottom}" stroke="#e5e5e5"/>`);
    parts.push(
      `<text x="${x(tick)}" y="${plotBottom + 16}" text-anchor="middle" fill="#555">${formatNumber(tick)}</text>`,
    );
  }
  let y = TOP;
  let previousGroup: string | undefined;
  for (const row of rows) {
    if (previousGroup !== undefined && row.group !== previousGroup) y += gap;
    previousGroup = row.group;
    const colour = PALETTE[groups.indexOf(row.group) % PALETTE.length] as string;
    const middle = y + ROW / 2;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${middle + 4}" text-anchor="end">${escape(row.label)}</text>`,
    );
    parts.push(
      `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${Math.max(0, x(row.value) - LABEL_WIDTH)}" height="${ROW - 6}" fill="${colour}" opacity="0.85"/>`,
    );
    if (Number.isFinite(row.min) && Number.isFinite(row.max) && row.max > row.min) {
      parts.push(`<line x1="${x(row.min)}" y1="${middle}" x2="${x(row.max)}" y2="${middle}" stroke="#222"/>`);
      for (const end of [row.min, row.max]) {
        parts.push(
          `<line x1="${x(end)}" y1="${middle - 4}" x2="${x(end)}" y2="${middle + 4}" stroke="#222"/>`,
        );
      }
    }
    const labelX = Math.max(x(row.value), Number.isFinite(row.max) ? x(row.max) : 0) + 6;
    parts.push(`<text x="${labelX}" y="${middle + 4}" fill="#222">${formatNumber(row.value)}</text>`);
    y += ROW;
  }
  return svg(width, height, parts);
}

export interface LatencyRow {
  label: string;
  p50: number;
  p99: number;
  p999: number;
  group: string;
}

/** Latency percentiles in ms on a log axis, with an optional target line. */
export function latencyChart(
  title: string,
  rows: LatencyRow[],
  targetMs?: { value: number; label: string },
): string {
  const values = rows
    .flatMap((row) => [row.p50, row.p99, row.p999])
    .filter((value) => value > 0 && Number.isFinite(value));
  const low = 10 ** Math.floor(Math.log10(Math.min(0.1, ...values)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(targetMs?.value ?? 1, ...values)));
  const height = TOP + rows.length * ROW + BOTTOM + 20;
  const width = LABEL_WIDTH + PLOT_WIDTH + RIGHT;
  const x = (ms: number): number =>
    round(
      LABEL_WIDTH +
        ((Math.log10(Math.max(ms, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) *
          PLOT_WIDTH,
    );
  const plotBottom = TOP + rows.length * ROW;
  const parts: string[] = [];
  parts.push(`<text x="10" y="20" font-weight="bold" font-size="14">${escape(title)}</text>`);
  parts.push(`<text x="10" y="36" fill="#555">median of the repeats; ms, log scale</text>`);
  for (let decade = low; decade <= high * 1.0001; decade *= 10) {
    for (const multiple of [1, 2, 5]) {
      const tick = decade * multiple;
      if (tick > high * 1.0001) break;
      parts.push(
        `<line x1="${x(tick)}" y1="${TOP - 4}" x2="${x(tick)}" y2="${plotBottom}" stroke="${multiple === 1 ? '#d0d0d0' : '#eeeeee'}"/>`,
      );
      if (multiple !== 5) {
        parts.push(
          `<text x="${x(tick)}" y="${plotBottom + 16}" text-anchor="middle" fill="#555">${tick >= 1 ? tick.toFixed(0) : String(Number(tick.toPrecision(1)))}</text>`,
        );
      }
    }
  }
  if (targetMs !== undefined) {
    parts.push(
      `<line x1="${x(targetMs.value)}" y1="${TOP - 8}" x2="${x(targetMs.value)}" y2="${plotBottom}" stroke="#E45756" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text x="${x(targetMs.value) + 4}" y="${TOP - 10}" fill="#E45756">${escape(targetMs.label)}</text>`,
    );
  }
  rows.forEach((row, index) => {
    const middle = TOP + index * ROW + ROW / 2;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${middle + 4}" text-anchor="end">${escape(row.label)}</text>`,
    );
    parts.push(
      `<line x1="${x(row.p50)}" y1="${middle}" x2="${x(row.p999)}" y2="${middle}" stroke="#888" stroke-width="2"/>`,
    );
    parts.push(`<circle cx="${x(row.p50)}" cy="${middle}" r="4.5" fill="${PALETTE[0]}"/>`);
    parts.push(`<rect x="${x(row.p99) - 4}" y="${middle - 4}" width="8" height="8" fill="${PALETTE[1]}"/>`);
    parts.push(
      `<path d="M ${x(row.p999)} ${middle - 5} L ${x(row.p999) + 5} ${middle + 4} L ${x(row.p999) - 5} ${middle + 4} Z" fill="${PALETTE[3]}"/>`,
    );
  });
  const legendY = plotBottom + 34;
  const legend: Array<[string, string]> = [
    ['p50', `<circle cx="${LABEL_WIDTH + 6}" cy="${legendY - 4}" r="4.5" fill="${PALETTE[0]}"/>`],
    ['p99', `<rect x="${LABEL_WIDTH + 72}" y="${legendY - 8}" width="8" height="8" fill="${PALETTE[1]}"/>`],
    [
      'p99.9',
      `<path d="M ${LABEL_WIDTH + 142} ${legendY - 9} L ${LABEL_WIDTH + 147} ${legendY} L ${LABEL_WIDTH + 137} ${legendY} Z" fill="${PALETTE[3]}"/>`,
    ],
  ];
  legend.forEach(([name, marker], index) => {
    parts.push(marker);
    parts.push(`<text x="${LABEL_WIDTH + 14 + index * 66}" y="${legendY}">${name}</text>`);
  });
  return svg(width, height, parts);
}

function svg(width: number, height: number, parts: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<g ${FONT}>`,
    ...parts,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}
