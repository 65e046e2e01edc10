import { curveStepAfter, line, symbolCircle } from "d3-shape";
import type { SearchResultFile } from "../search/result.ts";
import {
  ConstraintParseError,
  formatConstraint,
  parseConstraints,
  type Constraint,
  type ConstraintMetric,
} from "../spaces/constraints.ts";
import { accuracyOf, formatPercent, renderMarker, sourcesOf, sourceStyle } from "./series.ts";
import {
  createPlot,
  escapeXml,
  px,
  renderAxes,
  renderHeader,
  renderLegend,
  svgDocument,
  type LegendEntry,
  type Plot,
} from "./svg.ts";

/** Cost metrics a search records, with their axis label and constraint metric. */
export const COST_METRICS: Record<string, { label: string; constraint: ConstraintMetric }> = {
  flopsM: { label: "FLOPs (M multiply-adds)", constraint: "flops" },
  paramsM: { label: "Parameters (M)", constraint: "params" },
  latencyMs: { label: "Latency (ms)", constraint: "latency" },
};

const FRONT_COLOR = "#D55E00";
const LIMIT_COLOR = "#555555";

/** One evaluation placed by its cost and accuracy. */
export interface CostPoint {
  /** 1-based position in the history. */
  evaluation: number;
  cost: number;
  accuracy: number;
  source: string;
}

/**
 * Returns the Pareto front of points that minimize cost and maximize
 * accuracy, sorted by cost. A point is on the front when no other point has
 * lower or equal cost and higher accuracy. Of several points with the same
 * cost and accuracy only the first is kept.
 */
export function paretoFront<T extends { cost: number; accuracy: number }>(
  points: readonly T[],
): T[] {
  const sorted = [...points].sort((a, b) => a.cost - b.cost || b.accuracy - a.accuracy);
  const front: T[] = [];
  for (const point of sorted) {
    const last = front.at(-1);
    if (last === undefined || point.accuracy > last.accuracy) front.push(point);
  }
  return front;
}

/**
 * Returns the cost metrics to draw Pareto charts for: none unless the
 * search had constraints, then the constrained metrics the history
 * records, or else the first recorded cost metric.
 */
export function paretoCostKeys(result: SearchResultFile): string[] {
  const constraints = result.settings.constraints;
  if (typeof constraints !== "string" || constraints.trim() === "") return [];
  const recorded = Object.keys(COST_METRICS).filter((key) =>
    result.history.some((entry) => Number.isFinite(entry.metrics[key])),
  );
  if (recorded.length === 0) return [];
  const constrained = new Set(parseLimits(constraints).constraints.map((c) => c.metric));
  const keys = recorded.filter((key) => constrained.has(COST_METRICS[key].constraint));
  return keys.length > 0 ? keys : [recorded[0]];
}

/** Parses the constraint string, keeping the error instead of raising it. */
function parseLimits(text: string): { constraints: Constraint[]; error?: string } {
  try {
    return { constraints: parseConstraints(text) };
  } catch (error) {
    if (error instanceof ConstraintParseError) return { constraints: [], error: error.message };
    throw error;
  }
}

/**
 * Renders accuracy against one cost metric as an SVG document, with the
 * Pareto front highlighted and each constraint on that metric drawn as a
 * dashed vertical line. Evaluations that failed or lack the metric are
 * left out and counted in a note.
 *
 * @param costKey a metrics field such as "flopsM", "paramsM" or "latencyMs";
 *   other fields work too, labelled with `options.axisLabel` or their name
 */
export function renderParetoSvg(
  result: SearchResultFile,
  costKey: string,
  options: { axisLabel?: string } = {},
): string {
  const points: CostPoint[] = [];
  let omitted = 0;
  result.history.forEach((entry, index) => {
    const accuracy = accuracyOf(entry);
    const cost = entry.metrics[costKey];
    if (accuracy === undefined || typeof cost !== "number" || !Number.isFinite(cost)) {
      omitted += 1;
      return;
    }
    points.push({ evaluation: index + 1, cost, accuracy, source: entry.source });
  });
  const front = paretoFront(points);

  const metric = COST_METRICS[costKey];
  const constraintText =
    typeof result.settings.constraints === "string" ? result.settings.constraints.trim() : "";
  const parsed = constraintText ? parseLimits(constraintText) : { constraints: [] };
  const limits = metric
    ? parsed.constraints.filter((constraint) => constraint.metric === metric.constraint)
    : [];

  const costs = [...points.map((point) => point.cost), ...limits.map((limit) => limit.value)];
  const accuracies = points.map((point) => point.accuracy);
  const plot = createPlot(
    costs.length > 0 ? padded(Math.min(...costs), Math.max(...costs)) : [0, 1],
    accuracies.length > 0 ? [Math.min(...accuracies), Math.max(...accuracies)] : [0, 100],
  );
  const axisLabel = options.axisLabel ?? metric?.label ?? costKey;
  const body: string[] = [
    renderHeader(
      `Accuracy against ${axisLabel.replace(/ \(.*\)$/, "")}: ${result.strategy} on ${result.space}`,
      [
        constraintText ? `constraints ${constraintText}` : "no constraints",
        `${result.history.length} evaluations`,
        typeof result.settings.evaluator === "string" ? result.settings.evaluator : undefined,
      ]
        .filter((part) => part !== undefined)
        .join(" · "),
    ),
    renderAxes(plot, { x: axisLabel, y: "Accuracy (%)" }),
  ];

  for (const limit of limits) body.push(renderLimit(plot, limit));

  const markers: string[] = ['<g class="evaluations">'];
  for (const point of points) {
    const style = sourceStyle(point.source);
    markers.push(
      renderMarker(style.symbol, style.color, plot.x(point.cost), plot.y(point.accuracy), {
        area: 48,
        extra: `class="evaluation" data-source="${escapeXml(point.source)}"`,
        tooltip: describePoint(point, costKey),
      }),
    );
  }
  markers.push("</g>");
  body.push(markers.join("\n"));

  const frontLine = line<CostPoint>()
    .x((point) => plot.x(point.cost))
    .y((point) => plot.y(point.accuracy))
    .curve(curveStepAfter);
  body.push(
    `<g class="pareto-front"><path d="${frontLine(front) ?? ""}" fill="none" ` +
      `stroke="${FRONT_COLOR}" stroke-width="2"/>`,
    ...front.map((point) =>
      renderMarker(symbolCircle, FRONT_COLOR, plot.x(point.cost), plot.y(point.accuracy), {
        area: 110,
        extra: 'class="front-point"',
        tooltip: `Pareto front: ${describePoint(point, costKey)}`,
      }),
    ),
    "</g>",
  );

  const notes: string[] = [];
  if (omitted > 0) {
    notes.push(
      `${omitted} evaluation${omitted === 1 ? "" : "s"} failed or without ${costKey}, left out.`,
    );
  }
  if (parsed.error) notes.push(`No limit drawn: ${parsed.error}`);
  body.push(renderLegend(plot, legendEntries(result, points, front, limits), notes));
  return svgDocument(`Accuracy against ${costKey} of ${result.strategy} on ${result.space}`, body);
}

/**
 * Widens a cost range by 5% on each side, so a limit at the highest cost
 * is drawn inside the plot rather than on its border.
 */
function padded(low: number, high: number): [number, number] {
  const pad = (high - low) * 0.05;
  return [Math.max(0, low - pad), high + pad];
}

/** Draws a constraint as a dashed line, shading the side that violates it. */
function renderLimit(plot: Plot, limit: Constraint): string {
  const x = plot.x(limit.value);
  const [shadeFrom, shadeTo] = limit.op === "<=" ? [x, plot.right] : [plot.left, x];
  const anchor = limit.op === "<=" ? "end" : "start";
  const labelX = limit.op === "<=" ? x - 6 : x + 6;
  return [
    '<g class="limit">',
    `<rect x="${px(shadeFrom)}" y="${plot.top}" width="${px(Math.max(0, shadeTo - shadeFrom))}" ` +
      `height="${plot.bottom - plot.top}" fill="#000000" fill-opacity="0.06"/>`,
    `<line x1="${px(x)}" x2="${px(x)}" y1="${plot.top}" y2="${plot.bottom}" ` +
      `stroke="${LIMIT_COLOR}" stroke-width="2" stroke-dasharray="6 4"/>`,
    `<text x="${px(labelX)}" y="${plot.top + 16}" text-anchor="${anchor}" font-size="12" ` +
      `fill="${LIMIT_COLOR}" stroke="#ffffff" stroke-width="3" paint-order="stroke">` +
      `${escapeXml(formatConstraint(limit))}</text>`,
    "</g>",
  ].join("\n");
}

function legendEntries(
  result: SearchResultFile,
  points: readonly CostPoint[],
  front: readonly CostPoint[],
  limits: readonly Constraint[],
): LegendEntry[] {
  const entries: LegendEntry[] = [];
  for (const source of sourcesOf(result.history)) {
    const count = points.filter((point) => point.source === source).length;
    if (count === 0) continue;
    const style = sourceStyle(source);
    entries.push({
      swatch: renderMarker(style.symbol, style.color, 0, 0, { area: 48 }),
      label: `${style.label} (${count})`,
    });
  }
  if (front.length > 0) {
    entries.push({
      swatch:
        `<line x1="-9" x2="9" y1="0" y2="0" stroke="${FRONT_COLOR}" stroke-width="2"/>` +
        renderMarker(symbolCircle, FRONT_COLOR, 0, 0, { area: 80 }),
      label: `Pareto front (${front.length})`,
    });
  }
  for (const limit of limits) {
    entries.push({
      swatch:
        `<line x1="0" x2="0" y1="-9" y2="9" stroke="${LIMIT_COLOR}" stroke-width="2" ` +
        `stroke-dasharray="4 3"/>`,
      label: `limit ${formatConstraint(limit)}`,
    });
  }
  return entries;
}

function describePoint(point: CostPoint, costKey: string): string {
  return (
    `evaluation ${point.evaluation}, ${point.source}: ${formatPercent(point.accuracy)}, ` +
    `${costKey} ${Number(point.cost.toFixed(3))}`
  );
}
