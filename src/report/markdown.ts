import type { SearchResultFile } from "../search/result.ts";
import { accuracyOf, bestSoFar, formatPercent } from "./series.ts";

/** A chart written beside the report. */
export interface ChartFile {
  /** File name relative to the report. */
  file: string;
  caption: string;
}

/** Tables with more rows than this are collapsed in a <details> block. */
const COLLAPSE_ROWS = 30;

/** Longest rejected proposal shown, in characters. */
const PROPOSAL_CHARS = 120;

/**
 * Renders report.md of a search: configuration, best architecture, a table
 * of rounds, token usage, fallbacks, rejections and the Navigator's
 * strategies, with the charts embedded by relative link.
 */
export function renderReportMarkdown(
  result: SearchResultFile,
  charts: readonly ChartFile[],
): string {
  const sections = [
    renderSummary(result),
    renderCharts(charts),
    renderConfiguration(result),
    renderBest(result),
    renderRounds(result),
    renderUsage(result),
    renderFallbacks(result),
    renderRejections(result),
    renderStrategies(result),
  ];
  return `${sections.filter((section) => section !== "").join("\n\n")}\n`;
}

function renderSummary(result: SearchResultFile): string {
  const best = result.best?.metrics.accuracy;
  const outcome =
    typeof best === "number" ? `Best accuracy ${formatPercent(best)}` : "No successful evaluation";
  return [
    `# Search report: ${result.strategy} on ${result.space}`,
    "",
    `${outcome} after ${result.evaluations} of ${result.budget} evaluations ` +
      `(stopped: ${result.stopReason}).`,
  ].join("\n");
}

function renderCharts(charts: readonly ChartFile[]): string {
  if (charts.length === 0) return "";
  const lines = ["## Charts", ""];
  for (const chart of charts) {
    lines.push(`![${chart.caption}](${chart.file})`, "");
  }
  lines.push(charts.map((chart) => `[${chart.file}](${chart.file})`).join(" · "));
  return lines.join("\n");
}

function renderConfiguration(result: SearchResultFile): string {
  const rows: [string, string][] = [
    ["strategy", code(result.strategy)],
    ["space", code(result.space)],
    ["budget", String(result.budget)],
    ["LLM", describeLlm(result.llm)],
  ];
  for (const [key, value] of Object.entries(result.settings)) {
    rows.push([key, formatSetting(value)]);
  }
  return ["## Configuration", "", table(["setting", "value"], rows)].join("\n");
}

function describeLlm(llm: SearchResultFile["llm"]): string {
  if (llm === null) return "none (baseline)";
  if (llm === "offline") return "offline policies, no LLM";
  return `Navigator ${code(llm.navigator)}, Generator ${code(llm.generator)}`;
}

function formatSetting(value: unknown): string {
  if (value === null || value === undefined || value === "") return "none";
  if (Array.isArray(value) && value.length === 0) return "none";
  if (typeof value === "string") return code(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return code(JSON.stringify(value));
}

function renderBest(result: SearchResultFile): string {
  const best = result.best;
  if (best === null) return ["## Best architecture", "", "No evaluation succeeded."].join("\n");
  const evaluation = result.history.findIndex(
    (entry) =>
      entry.round === best.round && JSON.stringify(entry.arch) === JSON.stringify(best.arch),
  );
  const found =
    evaluation >= 0
      ? `Found in round ${best.round} (evaluation ${evaluation + 1}).`
      : `Found in round ${best.round}.`;
  const lines = [
    "## Best architecture",
    "",
    found,
    "",
    codeBlock(best.arch),
    "",
    metricTable(best.metrics),
  ];
  if (Object.keys(best.report).length > 0) {
    lines.push(
      "",
      "### Report-only metrics",
      "",
      "Held-out columns recorded for this report; the search never saw them.",
      "",
      metricTable(best.report),
    );
  }
  return lines.join("\n");
}

function metricTable(metrics: Record<string, number | undefined>): string {
  const rows = Object.entries(metrics)
    .filter((entry): entry is [string, number] => typeof entry[1] === "number")
    .map(([name, value]): [string, string] => [code(name), formatNumber(value)]);
  return table(["metric", "value"], rows);
}

/**
 * Summarizes the history by round. Baselines record every evaluation as
 * its own round, so their table has one row per evaluation.
 */
function renderRounds(result: SearchResultFile): string {
  const rounds = new Map<number, { evaluations: number; failed: number; best?: number }>();
  const best = bestSoFar(result.history);
  result.history.forEach((entry, index) => {
    const row = rounds.get(entry.round) ?? { evaluations: 0, failed: 0 };
    row.evaluations += 1;
    if (accuracyOf(entry) === undefined) row.failed += 1;
    row.best = best[index];
    rounds.set(entry.round, row);
  });
  for (const item of [...result.rejections, ...result.strategies]) {
    if (!rounds.has(item.round)) rounds.set(item.round, { evaluations: 0, failed: 0 });
  }
  if (rounds.size === 0) return ["## Rounds", "", "No rounds ran."].join("\n");

  const anyFailed = result.history.some((entry) => accuracyOf(entry) === undefined);
  const usedLlm = typeof result.llm === "object" && result.llm !== null;
  const headers = ["round", "evaluations", "total", "best so far"];
  if (anyFailed) headers.push("failed");
  headers.push("rejected proposals");
  if (usedLlm) headers.push("LLM fallbacks");
  const tokens = new Map((result.usageByRound ?? []).map((entry) => [entry.round, entry]));
  if (result.usageByRound) headers.push("tokens (prompt + completion)");
  headers.push("strategy author");

  let total = 0;
  let carriedBest: number | undefined;
  const rows: string[][] = [];
  for (const round of [...rounds.keys()].sort((a, b) => a - b)) {
    const row = rounds.get(round)!;
    total += row.evaluations;
    carriedBest = row.best ?? carriedBest;
    const cells = [
      String(round),
      String(row.evaluations),
      String(total),
      carriedBest === undefined ? "none" : formatPercent(carriedBest),
    ];
    if (anyFailed) cells.push(String(row.failed));
    cells.push(String(result.rejections.filter((rejection) => rejection.round === round).length));
    if (usedLlm) {
      cells.push(String(result.fallbacks.filter((fallback) => fallback.round === round).length));
    }
    if (result.usageByRound) {
      const entry = tokens.get(round);
      const sum = (role: "navigator" | "generator") =>
        entry ? entry[role].promptTokens + entry[role].completionTokens : 0;
      cells.push(String(sum("navigator") + sum("generator")));
    }
    cells.push(result.strategies.find((strategy) => strategy.round === round)?.author ?? "none");
    rows.push(cells);
  }
  return [
    "## Rounds",
    "",
    collapse(`${rows.length} rounds`, table(headers, rows), rows.length),
  ].join("\n");
}

function renderUsage(result: SearchResultFile): string {
  if (!result.usage) return "";
  const rows = Object.entries(result.usage).map(([role, usage]) => [
    role,
    String(usage.calls),
    String(usage.promptTokens),
    String(usage.completionTokens),
    String(usage.promptTokens + usage.completionTokens),
  ]);
  return [
    "## Token usage",
    "",
    table(["role", "calls", "prompt tokens", "completion tokens", "total tokens"], rows),
  ].join("\n");
}

function renderFallbacks(result: SearchResultFile): string {
  if (result.fallbacks.length === 0) return "";
  const rows = result.fallbacks.map((fallback) => [
    String(fallback.round),
    fallback.role,
    fallback.error,
  ]);
  return [
    "## LLM fallbacks",
    "",
    "LLM calls that failed and were replaced by the offline policy.",
    "",
    collapse(`${rows.length} fallbacks`, table(["round", "role", "error"], rows), rows.length),
  ].join("\n");
}

function renderRejections(result: SearchResultFile): string {
  if (result.rejections.length === 0) return "";
  const rows = result.rejections.map((rejection) => [
    String(rejection.round),
    rejection.reason,
    code(shorten(rejection.proposal, PROPOSAL_CHARS)),
  ]);
  return [
    "## Rejected proposals",
    "",
    "Proposals the Coordinator did not send to evaluation, with the reason.",
    "",
    collapse(
      `${rows.length} rejected proposals`,
      table(["round", "reason", "proposal"], rows),
      rows.length,
    ),
  ].join("\n");
}

/**
 * Lists each round's strategy under its own heading, collapsed except for
 * the last one. Headings inside a strategy are moved three levels down so
 * they nest under the round's heading.
 */
function renderStrategies(result: SearchResultFile): string {
  if (result.strategies.length === 0) return "";
  const lines = ["## Navigator strategies"];
  result.strategies.forEach((strategy, index) => {
    const open = index === result.strategies.length - 1 ? " open" : "";
    lines.push(
      "",
      `### Round ${strategy.round} (${strategy.author})`,
      "",
      `<details${open}><summary>Strategy for round ${strategy.round}</summary>`,
      "",
      demoteHeadings(strategy.strategy.trim(), 3),
      "",
      "</details>",
    );
  });
  return lines.join("\n");
}

/** Adds `levels` to every ATX heading outside fenced code, up to level 6. */
export function demoteHeadings(markdown: string, levels: number): string {
  let inFence = false;
  return markdown
    .split("\n")
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
      if (inFence) return line;
      const heading = /^(#{1,6})(\s.*)$/.exec(line);
      if (!heading) return line;
      return `${"#".repeat(Math.min(6, heading[1].length + levels))}${heading[2]}`;
    })
    .join("\n");
}

function collapse(summary: string, content: string, rows: number): string {
  if (rows <= COLLAPSE_ROWS) return content;
  return [`<details><summary>${summary}</summary>`, "", content, "", "</details>"].join("\n");
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [
    `| ${headers.map(cell).join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
  ];
  for (const row of rows) lines.push(`| ${row.map(cell).join(" | ")} |`);
  return lines.join("\n");
}

/** Makes text safe inside a table cell: no line breaks, escaped pipes. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replaceAll("|", "\\|");
}

/** Inline code, with a fence long enough for backticks inside the text. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

function codeBlock(arch: unknown): string {
  const text = typeof arch === "string" ? arch : JSON.stringify(arch, null, 2);
  const language = typeof arch === "string" ? "text" : "json";
  return ["```" + language, text, "```"].join("\n");
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Formats a metric with at most four decimals. */
function formatNumber(value: number): string {
  return String(Number(value.toFixed(4)));
}
