import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { inflateSync } from "node:zlib";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { compareCommand } from "../src/cli/compare.ts";
import { CachedEvaluator } from "../src/evaluators/cache.ts";
import { TableEvaluator } from "../src/evaluators/table.ts";
import { renderCompareSvg } from "../src/report/compare.ts";
import { writeReports } from "../src/report/index.ts";
import { demoteHeadings } from "../src/report/markdown.ts";
import { paretoCostKeys, paretoFront, renderParetoSvg } from "../src/report/pareto.ts";
import { readResultFile } from "../src/report/read-result.ts";
import { renderTrajectorySvg } from "../src/report/trajectory.ts";
import { buildResult, type SearchResultFile } from "../src/search/result.ts";
import { runSearch } from "../src/search/run.ts";
import { buildCostCheck } from "../src/spaces/registry.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

type HistoryEntry = SearchResultFile["history"][number];

function entry(
  round: number,
  source: string,
  accuracy: number | undefined,
  flopsM?: number,
): HistoryEntry {
  return {
    round,
    arch: `cell-${round}-${accuracy}-${flopsM}`,
    metrics: {
      ...(accuracy !== undefined ? { accuracy } : {}),
      ...(flopsM !== undefined ? { flopsM, paramsM: flopsM / 100 } : {}),
    },
    report: { heldout_acc: (accuracy ?? 0) - 10 },
    source,
    ...(accuracy === undefined ? { error: "row not found in the table" } : {}),
  };
}

/**
 * Builds a CoLLM-NAS result of three rounds: generator and fallback-mutation
 * evaluations, one failure, one rejection, one LLM fallback and a FLOPs
 * constraint.
 */
function collmResult(overrides: Partial<SearchResultFile> = {}): SearchResultFile {
  const history = [
    entry(1, "generator", 90, 120),
    entry(1, "generator", 92, 80),
    entry(1, "generator", 93, 95),
    entry(2, "generator", 91.5, 60),
    entry(2, "fallback mutation", 93.5, 99),
    entry(2, "generator", undefined),
    entry(3, "generator", 94, 90),
    entry(3, "fallback mutation", 89, 40),
  ];
  return {
    strategy: "collm",
    space: "nb201",
    budget: 10,
    evaluations: history.length,
    stopReason: "stopped after 3 rounds",
    llm: { navigator: "openai:navigator-model", generator: "openai:generator-model" },
    settings: { evaluator: "table:cifar10_test_acc", constraints: "flops<=100", seed: 7 },
    best: {
      arch: history[6].arch,
      round: 3,
      metrics: history[6].metrics,
      report: history[6].report!,
    },
    history,
    strategies: [
      {
        round: 1,
        strategy: "## Summary\nStart wide.\n\n## Directions\n- favour conv",
        author: "llm",
      },
      { round: 2, strategy: "## Summary\nRefine.", author: "offline fallback" },
      { round: 3, strategy: "## Summary\nExploit the best cell.", author: "llm" },
    ],
    rejections: [{ round: 2, proposal: "|bad|op|", reason: 'unknown operation "bad"' }],
    fallbacks: [{ round: 2, role: "navigator", error: "request timed out" }],
    usage: {
      navigator: { calls: 3, promptTokens: 1200, completionTokens: 300 },
      generator: { calls: 4, promptTokens: 2000, completionTokens: 800 },
    },
    ...overrides,
  };
}

/** Builds a regularized-evolution result: one round per evaluation, no LLM. */
function reaResult(accuracies: readonly number[]): SearchResultFile {
  const history = accuracies.map((accuracy, index) => entry(index + 1, "rea", accuracy));
  const bestIndex = accuracies.indexOf(Math.max(...accuracies));
  return {
    strategy: "rea",
    space: "nb201",
    budget: accuracies.length,
    evaluations: accuracies.length,
    stopReason: `budget spent: ${accuracies.length} evaluations`,
    llm: null,
    settings: { evaluator: "table:cifar10_test_acc", constraints: "" },
    best: {
      arch: history[bestIndex].arch,
      round: bestIndex + 1,
      metrics: history[bestIndex].metrics,
      report: {},
    },
    history,
    strategies: [],
    rejections: [],
    fallbacks: [],
    usage: null,
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "collm-report-"));
}

/** Counts occurrences of a literal substring. */
function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

function assertWellFormed(svg: string, name: string): void {
  const validation = XMLValidator.validate(svg);
  assert.equal(validation, true, `${name}: ${JSON.stringify(validation)}`);
  const root = new XMLParser({ ignoreAttributes: false }).parse(svg);
  assert.equal(root.svg["@_width"], "800", `${name}: width`);
  assert.equal(root.svg["@_height"], "450", `${name}: height`);
}

/** Markers of evaluations, failed ones included. */
function countMarkers(svg: string): number {
  return (svg.match(/class="evaluation( failed)?"/g) ?? []).length;
}

function unescapeXml(text: string): string {
  return text
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'")
    .replaceAll("&amp;", "&");
}

/** Notes below the legend, with their wrapped lines joined. */
function noteText(svg: string): string {
  const lines = [...svg.matchAll(/<text class="note"[^>]*>([^<]*)<\/text>/g)];
  return unescapeXml(lines.map((m) => m[1]).join(" "));
}

/** Text of every legend entry, in order. */
function legendLabels(svg: string): string[] {
  const legend = svg.slice(svg.indexOf('<g class="legend">'));
  const labels = [...legend.matchAll(/<text x="18" y="0"[^>]*>([^<]*)<\/text>/g)];
  return labels.map((m) => unescapeXml(m[1]));
}

describe("trajectory chart", () => {
  const result = collmResult();
  const svg = renderTrajectorySvg(result);

  test("is well-formed SVG", () => {
    assertWellFormed(svg, "trajectory.svg");
  });

  test("draws one marker per evaluation", () => {
    assert.equal(countMarkers(svg), result.history.length);
    assert.equal(count(svg, 'class="evaluation" data-source="generator"'), 5);
    assert.equal(count(svg, 'class="evaluation" data-source="fallback mutation"'), 2);
    assert.equal(count(svg, 'class="evaluation failed"'), 1);
  });

  test("draws the best-so-far step line", () => {
    assert.equal(count(svg, 'class="best-so-far"'), 1);
    const path = /class="best-so-far" d="([^"]+)"/.exec(svg)![1];
    assert.match(path, /^M[\d.]+,[\d.]+(H[\d.]+V[\d.]+|L[\d.]+,[\d.]+)+/);
  });

  test("legend names each source with counts", () => {
    const labels = legendLabels(svg);
    assert.deepEqual(labels, [
      "best so far",
      "Generator (5)",
      "fallback mutation (2)",
      "failed (1)",
      "best 94.00%",
    ]);
  });

  test("notes the failed evaluation", () => {
    assert.equal(noteText(svg), "1 failed evaluation drawn as × on the lower edge.");
  });

  test("labels axes and title", () => {
    assert.match(svg, />Evaluations<\/text>/);
    assert.match(svg, />Accuracy \(%\)<\/text>/);
    assert.match(svg, /class="title"[^>]*>Search trajectory: collm on nb201</);
  });

  test("baseline legend names the baseline", () => {
    const labels = legendLabels(renderTrajectorySvg(reaResult([80, 85, 91, 90])));
    assert.ok(labels.includes("regularized evolution (4)"), labels.join(", "));
  });

  test("pins evaluations below the axis", () => {
    const accuracies = [10, ...Array.from({ length: 19 }, (_, i) => 90 + i * 0.2)];
    const baseline = renderTrajectorySvg(reaResult(accuracies));
    assert.match(
      noteText(baseline),
      /^1 evaluation below \d+(\.\d+)?% drawn hollow on the lower edge/,
    );
    assert.equal(count(baseline, 'fill="#ffffff" stroke='), 1);
  });

  test("empty history still renders", () => {
    const empty = renderTrajectorySvg({ ...collmResult(), history: [], best: null });
    assertWellFormed(empty, "empty trajectory");
    assert.equal(noteText(empty), "No evaluations.");
  });
});

describe("pareto chart", () => {
  test("front keeps non-dominated points", () => {
    const points = [
      { cost: 10, accuracy: 90 },
      { cost: 20, accuracy: 89 },
      { cost: 20, accuracy: 92 },
      { cost: 5, accuracy: 80 },
      { cost: 30, accuracy: 92 },
      { cost: 40, accuracy: 95 },
    ];
    assert.deepEqual(paretoFront(points), [
      { cost: 5, accuracy: 80 },
      { cost: 10, accuracy: 90 },
      { cost: 20, accuracy: 92 },
      { cost: 40, accuracy: 95 },
    ]);
  });

  test("front of no points is empty", () => {
    assert.deepEqual(paretoFront([]), []);
  });

  test("draws front and flops limit", () => {
    const svg = renderParetoSvg(collmResult(), "flopsM");
    assertWellFormed(svg, "pareto.svg");
    assert.equal(count(svg, 'class="evaluation"'), 7);
    // Front of (flopsM, accuracy): (40, 89), (60, 91.5), (80, 92), (90, 94).
    assert.equal(count(svg, 'class="front-point"'), 4);
    assert.equal(count(svg, 'class="limit"'), 1);
    assert.match(svg, />flops&lt;=100M</);
    assert.ok(legendLabels(svg).includes("Pareto front (4)"));
    assert.ok(legendLabels(svg).includes("limit flops<=100M"));
    assert.match(svg, />FLOPs \(M multiply-adds\)<\/text>/);
  });

  test("notes the evaluations left out", () => {
    const svg = renderParetoSvg(collmResult(), "flopsM");
    assert.equal(noteText(svg), "1 evaluation failed or without flopsM, left out.");
  });

  test("works for any cost axis", () => {
    const result = collmResult();
    result.history = result.history.map((item, index) => ({
      ...item,
      metrics: { ...item.metrics, energyMJ: index + 1 },
    }));
    const svg = renderParetoSvg(result, "energyMJ", { axisLabel: "Energy (mJ)" });
    assertWellFormed(svg, "energy pareto");
    assert.equal(count(svg, 'class="limit"'), 0);
    assert.match(svg, />Energy \(mJ\)<\/text>/);
  });

  test("invalid constraint draws no limit", () => {
    const result = collmResult({ settings: { constraints: "flops<<100" } });
    const svg = renderParetoSvg(result, "flopsM");
    assert.equal(count(svg, 'class="limit"'), 0);
    assert.match(noteText(svg), /No limit drawn: invalid constraint "flops<<100"/);
  });

  test("cost keys follow the constraints", () => {
    assert.deepEqual(paretoCostKeys(collmResult()), ["flopsM"]);
    assert.deepEqual(
      paretoCostKeys(collmResult({ settings: { constraints: "params<=1,flops<=100" } })),
      ["flopsM", "paramsM"],
    );
    assert.deepEqual(paretoCostKeys(collmResult({ settings: { constraints: "latency<=5" } })), [
      "flopsM",
    ]);
    assert.deepEqual(paretoCostKeys(collmResult({ settings: { constraints: "" } })), []);
    assert.deepEqual(paretoCostKeys(reaResult([90, 91])), []);
  });
});

describe("writeReports", () => {
  test("writes charts and report.md", async () => {
    const dir = tempDir();
    const paths = await writeReports(dir, collmResult());
    assert.deepEqual(paths, [
      join(dir, "trajectory.svg"),
      join(dir, "pareto.svg"),
      join(dir, "report.md"),
    ]);
    for (const path of paths) assert.ok(existsSync(path), path);
  });

  test("skips pareto without constraints", async () => {
    const dir = tempDir();
    const paths = await writeReports(dir, reaResult([80, 90, 85]));
    assert.deepEqual(paths, [join(dir, "trajectory.svg"), join(dir, "report.md")]);
  });

  test("report.md has every section", async () => {
    const dir = tempDir();
    await writeReports(dir, collmResult());
    const markdown = readFileSync(join(dir, "report.md"), "utf8");
    for (const heading of [
      "# Search report: collm on nb201",
      "## Charts",
      "## Configuration",
      "## Best architecture",
      "### Report-only metrics",
      "## Rounds",
      "## Token usage",
      "## LLM fallbacks",
      "## Rejected proposals",
      "## Navigator strategies",
      "### Round 1 (llm)",
      "### Round 2 (offline fallback)",
    ]) {
      assert.ok(
        markdown.includes(`\n${heading}\n`) || markdown.startsWith(`${heading}\n`),
        heading,
      );
    }
    assert.match(markdown, /!\[[^\]]+\]\(trajectory\.svg\)/);
    assert.match(markdown, /!\[[^\]]+\]\(pareto\.svg\)/);
  });

  test("report.md rounds table", async () => {
    const dir = tempDir();
    await writeReports(dir, collmResult());
    const markdown = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(
      markdown,
      /\| round \| evaluations \| total \| best so far \| failed \| rejected proposals \| LLM fallbacks \| strategy author \|/,
    );
    assert.match(markdown, /\| 1 \| 3 \| 3 \| 93\.00% \| 0 \| 0 \| 0 \| llm \|/);
    assert.match(markdown, /\| 2 \| 3 \| 6 \| 93\.50% \| 1 \| 1 \| 1 \| offline fallback \|/);
    assert.match(markdown, /\| 3 \| 2 \| 8 \| 94\.00% \| 0 \| 0 \| 0 \| llm \|/);
  });

  test("report.md best, usage and strategies", async () => {
    const dir = tempDir();
    await writeReports(dir, collmResult());
    const markdown = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(markdown, /Found in round 3 \(evaluation 7\)\./);
    assert.match(markdown, /\| `accuracy` \| 94 \|/);
    assert.match(markdown, /\| `heldout_acc` \| 84 \|/);
    assert.match(markdown, /\| navigator \| 3 \| 1200 \| 300 \| 1500 \|/);
    assert.match(markdown, /\| constraints \| `flops<=100` \|/);
    assert.match(
      markdown,
      /<details><summary>Strategy for round 1<\/summary>\n\n##### Summary\nStart wide\./,
    );
    assert.match(markdown, /<details open><summary>Strategy for round 3<\/summary>/);
    assert.match(markdown, /\| 2 \| unknown operation "bad" \| `\\\|bad\\\|op\\\|` \|/);
  });

  test("long rounds table collapses", async () => {
    const dir = tempDir();
    const accuracies = Array.from({ length: 40 }, (_, i) => 80 + i * 0.3);
    await writeReports(dir, reaResult(accuracies));
    const markdown = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(markdown, /<details><summary>40 rounds<\/summary>/);
    assert.doesNotMatch(markdown, /LLM fallbacks/);
    assert.doesNotMatch(markdown, /## Navigator strategies/);
  });

  test("demoteHeadings skips fenced code", () => {
    const input = "# Title\n```\n# comment\n```\n###### Deep";
    assert.equal(demoteHeadings(input, 3), "#### Title\n```\n# comment\n```\n###### Deep");
  });
});

describe("reports of a real search", { skip: nb201Skip }, () => {
  let result: SearchResultFile;
  before(async () => {
    const table = await TableEvaluator.load({
      path: NB201_CSV,
      metric: "cifar10_test_acc",
      report: ["cifar10_valid_acc_hp12"],
    });
    const space = createNb201Space();
    const constraints = "flops<=100";
    const outcome = await runSearch({
      strategy: "collm",
      space,
      evaluator: new CachedEvaluator(table),
      checkCost: buildCostCheck(constraints, space),
      task: {
        space: "nb201",
        objective: "maximize CIFAR-10 test accuracy",
        budget: 30,
        candidatesPerRound: 10,
        target: null,
        maxRounds: null,
        constraints,
        maxGeneratorRetries: 2,
        seed: 1,
      },
    });
    result = buildResult(outcome, {
      strategy: "collm",
      space: "nb201",
      budget: 30,
      llm: "offline",
      settings: { evaluator: table.name, constraints },
    });
  });

  test("charts show every evaluation", async () => {
    const dir = tempDir();
    const paths = await writeReports(dir, result);
    assert.deepEqual(
      paths.map((path) => path.slice(dir.length + 1)),
      ["trajectory.svg", "pareto.svg", "report.md"],
    );
    const trajectory = readFileSync(join(dir, "trajectory.svg"), "utf8");
    const pareto = readFileSync(join(dir, "pareto.svg"), "utf8");
    assertWellFormed(trajectory, "trajectory.svg");
    assertWellFormed(pareto, "pareto.svg");
    assert.equal(countMarkers(trajectory), 30);
    assert.equal(count(pareto, 'class="evaluation"'), 30);
    assert.match(pareto, />flops&lt;=100M</);
    const markdown = readFileSync(join(dir, "report.md"), "utf8");
    assert.match(markdown, /\| `cifar10_valid_acc_hp12` \| \d+(\.\d+)? \|/);
    assert.equal(count(markdown, "<details"), 3);
  });
});

const rsvgSkip =
  spawnSync("rsvg-convert", ["--version"]).status === 0
    ? false
    : "rsvg-convert not installed (Debian package librsvg2-bin)";

/** Decoded 8-bit pixels of a PNG, 3 (RGB) or 4 (RGBA) bytes each. */
interface Pixels {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/** Decodes a non-interlaced 8-bit RGB or RGBA PNG, undoing the per-row filters. */
function decodePng(png: Buffer): Pixels {
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG", "PNG signature");
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const chunks: Buffer[] = [];

  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString("latin1");
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.equal(body[8], 8, "bit depth");
      assert.ok(body[9] === 2 || body[9] === 6, `colour type ${body[9]}, expected RGB or RGBA`);
      assert.equal(body[12], 0, "not interlaced");
      channels = body[9] === 6 ? 4 : 3;
    }
    if (type === "IDAT") chunks.push(body);
    offset += 12 + length;
  }

  const raw = inflateSync(Buffer.concat(chunks));
  const stride = width * channels;
  const data = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? data[y * stride + x - channels] : 0;
      const up = y > 0 ? data[(y - 1) * stride + x] : 0;
      const upLeft = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) predictor = paeth(left, up, upLeft);
      data[y * stride + x] = (row[x] + predictor) & 0xff;
    }
  }

  return { width, height, channels, data };
}

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const toLeft = Math.abs(estimate - left);
  const toUp = Math.abs(estimate - up);
  const toUpLeft = Math.abs(estimate - upLeft);
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

/** Counts pixels for which the predicate holds. */
function countPixels(
  pixels: Pixels,
  predicate: (r: number, g: number, b: number) => boolean,
): number {
  let total = 0;
  for (let i = 0; i < pixels.data.length; i += pixels.channels) {
    if (predicate(pixels.data[i], pixels.data[i + 1], pixels.data[i + 2])) total += 1;
  }
  return total;
}

function renderPng(svgPath: string): Pixels {
  const pngPath = svgPath.replace(/\.svg$/, ".png");
  execFileSync("rsvg-convert", ["--format", "png", "--output", pngPath, svgPath]);
  return decodePng(readFileSync(pngPath));
}

describe("charts render to PNG", { skip: rsvgSkip }, () => {
  let dir: string;
  before(async () => {
    dir = tempDir();
    await writeReports(dir, collmResult());
    writeFileSync(
      join(dir, "compare.svg"),
      renderCompareSvg([
        { label: "collm", detail: "runs/collm", result: collmResult() },
        { label: "rea", detail: "runs/rea", result: reaResult([85, 88, 90, 92, 93]) },
      ]),
    );
  });

  for (const file of ["trajectory.svg", "pareto.svg", "compare.svg"]) {
    test(`${file} renders 800x450 with content`, () => {
      const pixels = renderPng(join(dir, file));
      assert.equal(pixels.width, 800);
      assert.equal(pixels.height, 450);
      const total = pixels.width * pixels.height;
      const dark = countPixels(pixels, (r, g, b) => r + g + b < 200);
      assert.ok(dark > total * 0.005, `${dark} dark pixels (text, axes)`);
      const white = countPixels(pixels, (r, g, b) => r > 250 && g > 250 && b > 250);
      assert.ok(white > total * 0.5, `${white} white pixels (background)`);
      // Generator markers and the first compared line are Okabe-Ito blue.
      const blue = countPixels(pixels, (r, g, b) => b > r + 80 && b > g + 20);
      assert.ok(blue > 30, `${blue} blue pixels`);
    });
  }
});

describe("compareCommand", () => {
  function capture() {
    const output = { stdout: "", stderr: "" };
    const io = {
      stdout: (text: string) => (output.stdout += text),
      stderr: (text: string) => (output.stderr += text),
    };
    return { output, io };
  }

  function runDir(result: SearchResultFile): string {
    const dir = tempDir();
    writeFileSync(join(dir, "result.json"), JSON.stringify(result, null, 2));
    return dir;
  }

  test("overlays two runs", async () => {
    const collmDir = runDir(collmResult());
    const reaDir = runDir(reaResult([85, 88, 90, 92, 93]));
    const out = join(tempDir(), "chart.svg");
    const { output, io } = capture();
    const code = await compareCommand([collmDir, reaDir, "--out", out], io);
    assert.equal(code, 0, output.stderr);
    assert.match(output.stdout, /Wrote .*chart\.svg \(2 runs\)/);
    const svg = readFileSync(out, "utf8");
    assertWellFormed(svg, "compare.svg");
    assert.equal(count(svg, 'class="run"'), 2);
    assert.deepEqual(legendLabels(svg), ["collm: 94.00%", "rea: 93.00%"]);
    assert.ok(
      svg.includes(`<title>collm: 94.00%\n${collmDir}</title>`),
      "full directory in tooltip",
    );
  });

  test("notes a run cut at the axis", async () => {
    const svg = renderCompareSvg([
      { label: "collm", result: collmResult() },
      { label: "rea", result: reaResult([10, 88, 90, 92, 93]) },
    ]);
    assertWellFormed(svg, "compare.svg");
    assert.match(noteText(svg), /^1 run starts below \d+(\.\d+)?%, cut at the lower edge\.$/);
  });

  test("writes compare.svg by default", async () => {
    const cwd = process.cwd();
    const target = tempDir();
    process.chdir(target);
    try {
      const { io } = capture();
      assert.equal(await compareCommand([runDir(reaResult([90, 91]))], io), 0);
    } finally {
      process.chdir(cwd);
    }
    assert.ok(existsSync(join(target, "compare.svg")));
  });

  test("rejects a directory without result.json", async () => {
    const empty = tempDir();
    const { output, io } = capture();
    assert.equal(await compareCommand([empty], io), 2);
    assert.match(output.stderr, new RegExp(`no result\\.json in ${empty}`));
  });

  test("rejects invalid JSON naming the file", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "result.json"), "{ not json");
    const { output, io } = capture();
    assert.equal(await compareCommand([dir], io), 2);
    assert.ok(output.stderr.includes(`invalid JSON in ${join(dir, "result.json")}`), output.stderr);
  });

  test("rejects JSON that is no result", async () => {
    const dir = tempDir();
    const broken = {
      ...reaResult([90]),
      history: [{ round: 1, arch: "a", metrics: {}, source: 3 }],
    };
    writeFileSync(join(dir, "result.json"), JSON.stringify(broken));
    const { output, io } = capture();
    assert.equal(await compareCommand([dir], io), 2);
    assert.ok(output.stderr.includes(join(dir, "result.json")), output.stderr);
    assert.match(
      output.stderr,
      /history\.0\.source: Invalid input: expected string, received number/,
    );
  });

  test("names a missing field", async () => {
    const dir = tempDir();
    const { strategy: _strategy, ...broken } = reaResult([90]);
    writeFileSync(join(dir, "result.json"), JSON.stringify(broken));
    const { output, io } = capture();
    assert.equal(await compareCommand([dir], io), 2);
    assert.match(output.stderr, /: strategy: missing; expected the result\.json/);
  });

  test("rejects a missing directory", async () => {
    const missing = join(tempDir(), "absent");
    const { output, io } = capture();
    assert.equal(await compareCommand([missing], io), 2);
    assert.match(output.stderr, /absent not found/);
  });

  test("requires a directory", async () => {
    const { output, io } = capture();
    assert.equal(await compareCommand([], io), 2);
    assert.match(output.stderr, /missing DIR/);
  });

  test("rejects an unknown option", async () => {
    const { output, io } = capture();
    assert.equal(await compareCommand(["--colour", "red"], io), 2);
    assert.match(output.stderr, /--colour/);
  });

  test("prints help", async () => {
    const { output, io } = capture();
    assert.equal(await compareCommand(["--help"], io), 0);
    assert.match(output.stdout, /Usage: collm-nas compare DIR\.\.\./);
  });

  test("reads a result file back", async () => {
    const original = collmResult();
    const dir = runDir(original);
    assert.deepEqual(await readResultFile(dir), original);
  });
});
