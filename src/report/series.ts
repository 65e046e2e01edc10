import {
  symbol,
  symbolCircle,
  symbolDiamond,
  symbolSquare,
  symbolTimes,
  symbolTriangle,
  symbolWye,
  type SymbolType,
} from "d3-shape";
import type { SearchResultFile } from "../search/result.ts";
import { escapeXml, PALETTE, px } from "./svg.ts";

export type HistoryEntry = SearchResultFile["history"][number];

/** Marker and colour of the evaluations from one candidate source. */
export interface SourceStyle {
  label: string;
  color: string;
  symbol: SymbolType;
}

const SOURCE_STYLES: Record<string, SourceStyle> = {
  generator: { label: "Generator", color: PALETTE[0], symbol: symbolCircle },
  "fallback mutation": { label: "fallback mutation", color: PALETTE[1], symbol: symbolTriangle },
  random: { label: "random search", color: PALETTE[2], symbol: symbolSquare },
  rea: { label: "regularized evolution", color: PALETTE[3], symbol: symbolDiamond },
};

/** Order of sources in legends; unknown sources follow in order of appearance. */
const SOURCE_ORDER = Object.keys(SOURCE_STYLES);

/** Style of failed evaluations: a cross on the lower edge of the plot. */
export const FAILED_COLOR = PALETTE[4];

/** Returns the style of a source, grey with a distinct marker for unknown ones. */
export function sourceStyle(source: string): SourceStyle {
  return SOURCE_STYLES[source] ?? { label: source, color: "#777777", symbol: symbolWye };
}

/** Returns the distinct sources of a history, known ones first. */
export function sourcesOf(history: readonly HistoryEntry[]): string[] {
  const seen = [...new Set(history.map((entry) => entry.source))];
  const known = SOURCE_ORDER.filter((source) => seen.includes(source));
  return [...known, ...seen.filter((source) => !SOURCE_ORDER.includes(source))];
}

/** SVG path data of a marker centred at (0, 0); `area` is in square pixels. */
export function markerPathData(type: SymbolType, area = 64): string {
  return symbol(type, area)() ?? "";
}

/** Renders a marker at (x, y), filled, or stroked for line-only symbols. */
export function renderMarker(
  type: SymbolType,
  color: string,
  x: number,
  y: number,
  options: { area?: number; hollow?: boolean; extra?: string; tooltip?: string } = {},
): string {
  const d = markerPathData(type, options.area);
  const strokeOnly = type === symbolTimes;
  const paint = strokeOnly
    ? `fill="none" stroke="${color}" stroke-width="2"`
    : options.hollow
      ? `fill="#ffffff" stroke="${color}" stroke-width="1.5"`
      : `fill="${color}" fill-opacity="0.75" stroke="${color}" stroke-width="1"`;
  const tooltip = options.tooltip ? `<title>${escapeXml(options.tooltip)}</title>` : "";
  const extra = options.extra ? ` ${options.extra}` : "";
  return (
    `<path${extra} d="${d}" transform="translate(${px(x)},${px(y)})" ${paint}>` +
    `${tooltip}</path>`
  );
}

/** Returns the accuracy of a successful evaluation, undefined for a failed one. */
export function accuracyOf(entry: HistoryEntry): number | undefined {
  if (entry.error !== undefined) return undefined;
  const accuracy = entry.metrics.accuracy;
  return typeof accuracy === "number" && Number.isFinite(accuracy) ? accuracy : undefined;
}

/**
 * Returns the best accuracy after each evaluation, undefined until the
 * first successful one.
 */
export function bestSoFar(history: readonly HistoryEntry[]): (number | undefined)[] {
  let best: number | undefined;
  return history.map((entry) => {
    const accuracy = accuracyOf(entry);
    if (accuracy !== undefined && (best === undefined || accuracy > best)) best = accuracy;
    return best;
  });
}

/** Formats an accuracy in percent with two decimals. */
export function formatPercent(value: number): string {
  return `${value.toFixed(2)}%`;
}
