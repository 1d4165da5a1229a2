/** One line of a chart: a value per second; a second whose value is not finite (no event arrived) is left out. */
export interface PlotSeries {
  name: string;
  values: readonly number[];
  color: string;
  dashed?: boolean;
}

export const VIEW = Object.freeze({ width: 800, height: 400, left: 70, right: 170, top: 36, bottom: 48 });

const PLOT_WIDTH = VIEW.width - VIEW.left - VIEW.right;
const PLOT_HEIGHT = VIEW.height - VIEW.top - VIEW.bottom;

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The decades the y axis spans: from the one below the smallest value to the one above the largest. */
function decades(values: readonly number[]): { low: number; high: number } {
  const shown = values.filter((value) => Number.isFinite(value) && value > 0);
  if (shown.length === 0) return { low: 1, high: 1000 };
  const low = Math.floor(Math.log10(shown.reduce((a, b) => Math.min(a, b))));
  const high = Math.max(low + 1, Math.ceil(Math.log10(shown.reduce((a, b) => Math.max(a, b)))));
  return { low, high };
}

/** A step between x-axis ticks that leaves at most ten of them. */
function tickStep(seconds: number): number {
  return [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((step) => seconds / step <= 10) ?? Math.ceil(seconds / 10);
}

/**
 * A line chart of per-second latencies, y on a log scale (a stall of seconds and a p50 of
 * milliseconds on one chart), as a standalone SVG document.
 */
export function latencyChart(options: { title: string; series: readonly PlotSeries[] }): string {
  const seconds = options.series.reduce((longest, series) => Math.max(longest, series.values.length), 1);
  const { low, high } = decades(options.series.flatMap((series) => series.values));
  const x = (second: number): number => VIEW.left + (seconds === 1 ? 0 : (second / (seconds - 1)) * PLOT_WIDTH);
  const y = (value: number): number => {
    const decade = Math.min(high, Math.max(low, Math.log10(value)));
    return VIEW.top + PLOT_HEIGHT * (1 - (decade - low) / (high - low));
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${VIEW.width} ${VIEW.height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${VIEW.width}" height="${VIEW.height}" fill="white"/>`,
    `<text x="${VIEW.left}" y="20" font-size="14">${escapeText(options.title)}</text>`,
    `<rect x="${VIEW.left}" y="${VIEW.top}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" fill="none" stroke="#999"/>`,
  ];
  for (let decade = low; decade <= high; decade += 1) {
    const at = y(10 ** decade).toFixed(1);
    parts.push(`<line x1="${VIEW.left}" x2="${VIEW.left + PLOT_WIDTH}" y1="${at}" y2="${at}" stroke="#ddd"/>`);
    parts.push(`<text x="${VIEW.left - 6}" y="${at}" text-anchor="end" dominant-baseline="middle">${10 ** decade}</text>`);
  }
  const step = tickStep(seconds);
  for (let second = 0; second < seconds; second += step) {
    parts.push(`<text x="${x(second).toFixed(1)}" y="${VIEW.top + PLOT_HEIGHT + 16}" text-anchor="middle">${second}</text>`);
  }
  parts.push(`<text x="${VIEW.left + PLOT_WIDTH / 2}" y="${VIEW.height - 8}" text-anchor="middle">second of the round (by scheduled send time)</text>`);
  parts.push(`<text transform="translate(16 ${VIEW.top + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">latency, ms (log scale)</text>`);
  options.series.forEach((series, index) => {
    const points = series.values.flatMap((value, second) => (Number.isFinite(value) && value > 0 ? [`${x(second).toFixed(1)},${y(value).toFixed(1)}`] : []));
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="1.5"${dash} points="${points.join(' ')}"/>`);
    const legendY = VIEW.top + 10 + index * 18;
    const legendX = VIEW.left + PLOT_WIDTH + 12;
    parts.push(`<line x1="${legendX}" x2="${legendX + 24}" y1="${legendY}" y2="${legendY}" stroke="${series.color}" stroke-width="1.5"${dash}/>`);
    parts.push(`<text x="${legendX + 30}" y="${legendY}" dominant-baseline="middle">${escapeText(series.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
