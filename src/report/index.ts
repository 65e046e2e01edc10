import { join } from "node:path";
import { writeFileAtomic, type SearchResultFile } from "../search/result.ts";
import { renderReportMarkdown, type ChartFile } from "./markdown.ts";
import { COST_METRICS, paretoCostKeys, renderParetoSvg } from "./pareto.ts";
import { renderTrajectorySvg } from "./trajectory.ts";

export { renderCompareSvg, type ComparedRun } from "./compare.ts";
export { paretoFront, renderParetoSvg } from "./pareto.ts";
export { renderReportMarkdown } from "./markdown.ts";
export { renderTrajectorySvg } from "./trajectory.ts";

/**
 * Writes the reports of a finished search into `outDir`: trajectory.svg,
 * pareto.svg for a constrained search that records costs, and report.md,
 * which links them. pareto.svg plots the first constrained cost (FLOPs,
 * then parameters, then latency), and each further constrained cost gets
 * pareto-params.svg or pareto-latency.svg. Each file is written atomically.
 *
 * @returns the paths written, charts first and report.md last
 * @example
 * const paths = await writeReports("runs/collm-1", result);
 */
export async function writeReports(outDir: string, result: SearchResultFile): Promise<string[]> {
  const charts: ChartFile[] = [];
  const written: string[] = [];
  const write = async (file: string, content: string) => {
    const path = join(outDir, file);
    await writeFileAtomic(path, content);
    written.push(path);
  };

  await write("trajectory.svg", renderTrajectorySvg(result));
  charts.push({ file: "trajectory.svg", caption: "Best-so-far accuracy against evaluations" });

  for (const [index, costKey] of paretoCostKeys(result).entries()) {
    const metric = COST_METRICS[costKey];
    const file = index === 0 ? "pareto.svg" : `pareto-${metric.constraint}.svg`;
    await write(file, renderParetoSvg(result, costKey));
    charts.push({ file, caption: `Accuracy against ${metric.label}, with the Pareto front` });
  }

  await write("report.md", renderReportMarkdown(result, charts));
  return written;
}
