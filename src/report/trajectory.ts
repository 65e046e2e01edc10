import { curveStepAfter, line, symbolStar, symbolTimes } from "d3-shape";
import type { SearchResultFile } from "../search/result.ts";
import {
  accuracyOf,
  bestSoFar,
  FAILED_COLOR,
  formatPercent,
  markerPathData,
  renderMarker,
  sourcesOf,
  sourceStyle,
} from "./series.ts";
import {
  createPlot,
  escapeXml,
  lowerAxisBound,
  renderAxes,
  renderHeader,
  renderLegend,
  renderPlotClip,
  svgDocument,
  type LegendEntry,
} from "./svg.ts";

/**
 * Share of evaluations allowed below the y axis. Degenerate cells (10% on
 * NAS-Bench-201) would otherwise squeeze the region where the search
 * improves into a few pixels.
 */
const BELOW_AXIS_SHARE = 0.1;

const BEST_LINE_COLOR = "#222222";

/**
 * Renders the search trajectory as an SVG document: one marker per
 * evaluation (shape and colour by source) and the best-so-far accuracy as a
 * step line, against the evaluation count. Failed evaluations are drawn as
 * crosses on the lower edge, and evaluations below the y axis as hollow
 * markers on the lower edge, each with a note.
 */
export function renderTrajectorySvg(result: SearchResultFile): string {
  const history = result.history;
  const accuracies = history.map(accuracyOf);
  const successful = accuracies.filter((value) => value !== undefined);
  const best = bestSoFar(history);

  const low = lowerAxisBound(successful, BELOW_AXIS_SHARE) ?? 0;
  const high = successful.length > 0 ? Math.max(...successful) : 100;
  const plot = createPlot([0, Math.max(history.length, 1)], [low, high]);
  const yMin = plot.y.domain()[0];
  const body: string[] = [
    renderHeader(`Search trajectory: ${result.strategy} on ${result.space}`, describeRun(result)),
    renderAxes(plot, { x: "Evaluations", y: "Accuracy (%)" }, { integerX: true }),
    renderPlotClip(plot, "plot-area"),
  ];

  const stepLine = line<[number, number | undefined]>()
    .defined(([, value]) => value !== undefined)
    .x(([evaluation]) => plot.x(evaluation))
    .y(([, value]) => plot.y(value!))
    .curve(curveStepAfter);
  const bestPoints = best.map((value, index): [number, number | undefined] => [index + 1, value]);
  body.push(
    `<path class="best-so-far" d="${stepLine(bestPoints) ?? ""}" fill="none" ` +
      `stroke="${BEST_LINE_COLOR}" stroke-width="2.5" clip-path="url(#plot-area)"/>`,
  );

  let belowAxis = 0;
  let failed = 0;
  const markers: string[] = ['<g class="evaluations">'];
  history.forEach((entry, index) => {
    const evaluation = index + 1;
    const x = plot.x(evaluation);
    const accuracy = accuracies[index];
    const where = `evaluation ${evaluation}, round ${entry.round}, ${entry.source}`;
    if (accuracy === undefined) {
      failed += 1;
      markers.push(
        renderMarker(symbolTimes, FAILED_COLOR, x, plot.bottom, {
          extra: `class="evaluation failed" data-source="${escapeXml(entry.source)}"`,
          tooltip: `${where}: failed (${entry.error ?? "no accuracy"})`,
        }),
      );
      return;
    }
    const style = sourceStyle(entry.source);
    const clipped = accuracy < yMin;
    if (clipped) belowAxis += 1;
    markers.push(
      renderMarker(style.symbol, style.color, x, clipped ? plot.bottom : plot.y(accuracy), {
        hollow: clipped,
        extra: `class="evaluation" data-source="${escapeXml(entry.source)}"`,
        tooltip: `${where}: ${formatPercent(accuracy)}\n${JSON.stringify(entry.arch)}`,
      }),
    );
  });
  markers.push("</g>");
  body.push(markers.join("\n"));

  const bestIndex = indexOfBest(accuracies);
  if (bestIndex !== undefined) {
    body.push(
      renderMarker(
        symbolStar,
        BEST_LINE_COLOR,
        plot.x(bestIndex + 1),
        plot.y(accuracies[bestIndex]!),
        {
          area: 180,
          extra: 'class="best"',
        },
      ),
    );
  }

  const notes: string[] = [];
  if (belowAxis > 0) {
    const plural = belowAxis === 1 ? "" : "s";
    const axisStart = Number(yMin.toFixed(2));
    notes.push(
      `${belowAxis} evaluation${plural} below ${axisStart}% drawn hollow on the lower edge.`,
    );
  }
  if (failed > 0) {
    notes.push(
      `${failed} failed evaluation${failed === 1 ? "" : "s"} drawn as × on the lower edge.`,
    );
  }
  if (history.length === 0) notes.push("No evaluations.");
  body.push(renderLegend(plot, legendEntries(result, accuracies, bestIndex, failed), notes));
  return svgDocument(`Search trajectory of ${result.strategy} on ${result.space}`, body);
}

function legendEntries(
  result: SearchResultFile,
  accuracies: readonly (number | undefined)[],
  bestIndex: number | undefined,
  failed: number,
): LegendEntry[] {
  const entries: LegendEntry[] = [
    {
      swatch: `<line x1="-9" x2="9" y1="0" y2="0" stroke="${BEST_LINE_COLOR}" stroke-width="2.5"/>`,
      label: "best so far",
    },
  ];
  for (const source of sourcesOf(result.history)) {
    const count = result.history.filter(
      (entry, index) => entry.source === source && accuracies[index] !== undefined,
    ).length;
    if (count === 0) continue;
    const style = sourceStyle(source);
    entries.push({
      swatch: renderMarker(style.symbol, style.color, 0, 0),
      label: `${style.label} (${count})`,
    });
  }
  if (failed > 0) {
    entries.push({
      swatch:
        `<path d="${markerPathData(symbolTimes)}" fill="none" ` +
        `stroke="${FAILED_COLOR}" stroke-width="2"/>`,
      label: `failed (${failed})`,
    });
  }
  if (bestIndex !== undefined) {
    entries.push({
      swatch: renderMarker(symbolStar, BEST_LINE_COLOR, 0, 0, { area: 140 }),
      label: `best ${formatPercent(accuracies[bestIndex]!)}`,
      detail: `at evaluation ${bestIndex + 1}`,
    });
  }
  return entries;
}

/** Index of the first evaluation with the highest accuracy. */
function indexOfBest(accuracies: readonly (number | undefined)[]): number | undefined {
  let bestIndex: number | undefined;
  accuracies.forEach((value, index) => {
    if (value === undefined) return;
    if (bestIndex === undefined || value > accuracies[bestIndex]!) bestIndex = index;
  });
  return bestIndex;
}

/** Describes the run in one line: evaluations, evaluator and why it stopped. */
export function describeRun(result: SearchResultFile): string {
  const evaluator = result.settings.evaluator;
  const parts = [`${result.history.length} of ${result.budget} evaluations`];
  if (typeof evaluator === "string") parts.push(evaluator);
  if (result.stopReason) parts.push(result.stopReason);
  return parts.join(" · ");
}
