import { curveStepAfter, line } from "d3-shape";
import type { SearchResultFile } from "../search/result.ts";
import { bestSoFar, formatPercent } from "./series.ts";
import {
  createPlot,
  escapeXml,
  PALETTE,
  px,
  lowerAxisBound,
  renderAxes,
  renderHeader,
  renderLegend,
  renderPlotClip,
  svgDocument,
  type LegendEntry,
} from "./svg.ts";

/** One search to overlay, with the text that names it in the legend. */
export interface ComparedRun {
  label: string;
  /** Second legend line, such as the run's directory. */
  detail?: string;
  result: SearchResultFile;
}

/** Dash patterns that tell runs apart once the palette repeats. */
const DASHES = ["", "8 4", "2 3", "10 3 2 3"];

/**
 * Share of best-so-far values allowed below the y axis, so one run's poor
 * first evaluations do not flatten every line at the top.
 */
const BELOW_AXIS_SHARE = 0.05;

/**
 * Renders the best-so-far accuracy of several searches against the
 * evaluation count as one SVG document, one step line per run.
 */
export function renderCompareSvg(runs: readonly ComparedRun[]): string {
  const series = runs.map((run) => bestSoFar(run.result.history));
  const values = series.flat().filter((value) => value !== undefined);
  const longest = Math.max(1, ...runs.map((run) => run.result.history.length));
  const low = lowerAxisBound(values, BELOW_AXIS_SHARE) ?? 0;
  const high = values.length > 0 ? Math.max(...values) : 100;
  const plot = createPlot([0, longest], [low, high]);
  const yMin = plot.y.domain()[0];

  const spaces = [...new Set(runs.map((run) => run.result.space))];
  const body: string[] = [
    renderHeader(
      `Best-so-far accuracy of ${runs.length} search${runs.length === 1 ? "" : "es"}`,
      `space ${spaces.join(", ")} · step lines end at each run's last evaluation`,
    ),
    renderAxes(plot, { x: "Evaluations", y: "Best accuracy so far (%)" }, { integerX: true }),
    renderPlotClip(plot, "plot-area"),
  ];

  const stepLine = line<[number, number | undefined]>()
    .defined(([, value]) => value !== undefined)
    .x(([evaluation]) => plot.x(evaluation))
    .y(([, value]) => plot.y(value!))
    .curve(curveStepAfter);
  const entries: LegendEntry[] = [];
  let startsBelow = 0;
  runs.forEach((run, index) => {
    const color = PALETTE[index % PALETTE.length];
    const dash = DASHES[Math.floor(index / PALETTE.length) % DASHES.length];
    const stroke =
      `stroke="${color}" stroke-width="2.5"` + (dash ? ` stroke-dasharray="${dash}"` : "");
    const points = series[index].map((value, i): [number, number | undefined] => [i + 1, value]);
    const final = series[index].at(-1);
    if (series[index].some((value) => value !== undefined && value < yMin)) startsBelow += 1;
    body.push(
      `<path class="run" data-label="${escapeXml(run.label)}" d="${stepLine(points) ?? ""}" ` +
        `fill="none" ${stroke} clip-path="url(#plot-area)">` +
        `<title>${escapeXml(run.label)}</title></path>`,
    );
    if (final !== undefined) {
      body.push(
        `<circle cx="${px(plot.x(points.length))}" cy="${px(plot.y(final))}" r="4" fill="${color}"/>`,
      );
    }
    entries.push({
      swatch: `<line x1="-9" x2="9" y1="0" y2="0" ${stroke}/>`,
      label:
        final === undefined ? `${run.label}: no result` : `${run.label}: ${formatPercent(final)}`,
      detail: run.detail,
    });
  });

  const notes: string[] = [];
  if (startsBelow > 0) {
    const runsText = startsBelow === 1 ? "1 run starts" : `${startsBelow} runs start`;
    notes.push(`${runsText} below ${Number(yMin.toFixed(2))}%, cut at the lower edge.`);
  }
  body.push(renderLegend(plot, entries, notes));
  return svgDocument("Best-so-far accuracy of several searches", body);
}
