import { scaleLinear, type ScaleLinear } from "d3-scale";

/** Size of every chart, in pixels. */
export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 450;

/** Room around the plot area: title above, legend and notes on the right. */
const MARGIN = { top: 64, right: 240, bottom: 56, left: 72 };

/** Font sizes in pixels. */
const FONT = { title: 18, subtitle: 13, axisLabel: 14, tick: 12, legend: 13, note: 12 };

/** Okabe-Ito palette: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = [
  "#0072B2",
  "#E69F00",
  "#009E73",
  "#CC79A7",
  "#D55E00",
  "#56B4E9",
  "#000000",
  "#F0E442",
] as const;

/** The plot area of a chart: its scales and pixel bounds. */
export interface Plot {
  x: ScaleLinear<number, number>;
  y: ScaleLinear<number, number>;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** One row of a legend. */
export interface LegendEntry {
  /** SVG drawn with its centre at (0, 0), at most about 20 px wide. */
  swatch: string;
  label: string;
  /** Second, smaller line, such as a run's directory. */
  detail?: string;
}

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** Rounds a pixel coordinate to one decimal so the files stay small. */
export function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** Creates the plot area with both domains extended to round tick values. */
export function createPlot(
  xDomain: readonly [number, number],
  yDomain: readonly [number, number],
): Plot {
  const left = MARGIN.left;
  const right = CHART_WIDTH - MARGIN.right;
  const top = MARGIN.top;
  const bottom = CHART_HEIGHT - MARGIN.bottom;
  return {
    x: scaleLinear().domain(widen(xDomain)).range([left, right]).nice(),
    y: scaleLinear().domain(widen(yDomain)).range([bottom, top]).nice(),
    left,
    right,
    top,
    bottom,
  };
}

/** Gives an empty domain some width, so a single value still gets an axis. */
function widen([low, high]: readonly [number, number]): [number, number] {
  if (high > low) return [low, high];
  const pad = Math.abs(low) > 0 ? Math.abs(low) * 0.05 : 1;
  return [low - pad, high + pad];
}

/**
 * Returns the lower end of an axis that leaves at most `share` of the
 * values below it, or the minimum when those low values span less than
 * half of the whole range, so small or compact samples are never cut.
 * Returns undefined for no values.
 */
export function lowerAxisBound(values: readonly number[], share: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * share;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const quantile = sorted[below] + (sorted[above] - sorted[below]) * (position - below);
  const min = sorted[0];
  const max = sorted[sorted.length - 1];
  return quantile - min > (max - min) / 2 ? quantile : min;
}

/** Renders grid lines, ticks, tick labels and axis titles. */
export function renderAxes(
  plot: Plot,
  labels: { x: string; y: string },
  options: { integerX?: boolean } = {},
): string {
  const parts: string[] = ['<g class="axes">'];
  const xTicks = plot.x.ticks(8).filter((tick) => !options.integerX || Number.isInteger(tick));
  const xFormat = plot.x.tickFormat(8);
  const yTicks = plot.y.ticks(6);
  const yFormat = plot.y.tickFormat(6);

  for (const tick of yTicks) {
    const y = px(plot.y(tick));
    parts.push(
      `<line x1="${plot.left}" x2="${plot.right}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`,
      `<text x="${plot.left - 8}" y="${y}" dy="0.35em" text-anchor="end" ` +
        `font-size="${FONT.tick}" fill="#333">${escapeXml(yFormat(tick))}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = px(plot.x(tick));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${plot.top}" y2="${plot.bottom}" stroke="#efefef"/>`,
      `<line x1="${x}" x2="${x}" y1="${plot.bottom}" y2="${plot.bottom + 5}" stroke="#333"/>`,
      `<text x="${x}" y="${plot.bottom + 20}" text-anchor="middle" ` +
        `font-size="${FONT.tick}" fill="#333">${escapeXml(xFormat(tick))}</text>`,
    );
  }
  parts.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" ` +
      `height="${plot.bottom - plot.top}" fill="none" stroke="#333"/>`,
    `<text x="${px((plot.left + plot.right) / 2)}" y="${plot.bottom + 44}" ` +
      `text-anchor="middle" font-size="${FONT.axisLabel}" fill="#111">${escapeXml(labels.x)}</text>`,
    `<text transform="translate(${plot.left - 52},${px((plot.top + plot.bottom) / 2)}) rotate(-90)" ` +
      `text-anchor="middle" font-size="${FONT.axisLabel}" fill="#111">${escapeXml(labels.y)}</text>`,
    "</g>",
  );
  return parts.join("\n");
}

/** Renders the title and an optional subtitle above the plot. */
export function renderHeader(title: string, subtitle?: string): string {
  const parts = [
    `<text class="title" x="${MARGIN.left}" y="28" font-size="${FONT.title}" ` +
      `font-weight="bold" fill="#111">${escapeXml(title)}</text>`,
  ];
  if (subtitle) {
    parts.push(
      `<text class="subtitle" x="${MARGIN.left}" y="48" font-size="${FONT.subtitle}" ` +
        `fill="#555">${escapeXml(truncateEnd(subtitle, 100))}</text>`,
    );
  }
  return parts.join("\n");
}

/** Characters of legend text that fit the right-hand column. */
const LEGEND_CHARS = 27;
const NOTE_CHARS = 30;

/**
 * Renders the legend in the right-hand column, then the notes below it.
 * Long labels are shortened with an ellipsis, and the full text is kept in
 * a <title> tooltip.
 */
export function renderLegend(
  plot: Plot,
  entries: readonly LegendEntry[],
  notes: readonly string[] = [],
): string {
  const x = plot.right + 22;
  let y = plot.top + 8;
  const parts: string[] = ['<g class="legend">'];
  for (const entry of entries) {
    const full = entry.detail ? `${entry.label}\n${entry.detail}` : entry.label;
    parts.push(
      `<g class="legend-entry" transform="translate(${px(x)},${px(y)})">`,
      `<title>${escapeXml(full)}</title>`,
      entry.swatch,
      `<text x="18" y="0" dy="0.35em" font-size="${FONT.legend}" fill="#111">` +
        `${escapeXml(truncateEnd(entry.label, LEGEND_CHARS))}</text>`,
    );
    if (entry.detail) {
      y += 16;
      parts.push(
        `<text x="18" y="16" dy="0.35em" font-size="${FONT.note}" fill="#555">` +
          `${escapeXml(truncateStart(entry.detail, LEGEND_CHARS + 2))}</text>`,
      );
    }
    parts.push("</g>");
    y += 24;
  }
  y += 8;
  for (const note of notes) {
    for (const line of wrapWords(note, NOTE_CHARS)) {
      parts.push(
        `<text class="note" x="${px(x)}" y="${px(y)}" font-size="${FONT.note}" ` +
          `fill="#555">${escapeXml(line)}</text>`,
      );
      y += 15;
    }
    y += 6;
  }
  parts.push("</g>");
  return parts.join("\n");
}

/** Wraps the whole chart into a standalone SVG document. */
export function svgDocument(title: string, body: readonly string[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" ` +
      `viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" ` +
      `font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/** Renders a clip path of the plot area, for lines that leave the y domain. */
export function renderPlotClip(plot: Plot, id: string): string {
  return (
    `<defs><clipPath id="${id}"><rect x="${plot.left}" y="${plot.top}" ` +
    `width="${plot.right - plot.left}" height="${plot.bottom - plot.top}"/></clipPath></defs>`
  );
}

function truncateEnd(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Keeps the end of the text, where a path's last folders are. */
function truncateStart(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  return lines;
}
