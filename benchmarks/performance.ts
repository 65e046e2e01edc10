/**
 * Performance of collm-nas, written to docs/benchmarks.md:
 *
 * 1. tokens per round of a 500-evaluation search with scripted LLMs;
 * 2. the speed-up of --concurrency on the bundled supernet;
 * 3. the graph's overhead per round at rounds 1, 100 and 1,000;
 * 4. wall time, peak memory and checkpoint size of offline CLI searches of
 *    1,000 and 10,000 evaluations, optionally against an older checkout;
 * 5. the evaluation cache's hit rate;
 * 6. the evaluations regularized evolution and random search need to
 *    reach the best accuracy offline CoLLM-NAS finds in 100.
 *
 * Usage: node --expose-gc --import tsx benchmarks/performance.ts [TABLE.csv]
 *          [--out docs/benchmarks.md] [--baseline DIR] [--quick]
 *
 * TABLE.csv is the NAS-Bench-201 table (default ../shared/data/nb201/nb201.csv).
 * --baseline DIR runs the CLI searches of section 4 also from DIR, a
 * checkout of an earlier commit with its own node_modules. --quick runs
 * smaller sizes, to check the script. --expose-gc lets section 3 report
 * the V8 heap after a full garbage collection.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { CachedEvaluator } from "../src/evaluators/cache.ts";
import { ConcurrentEvaluator } from "../src/evaluators/concurrent.ts";
import { OnnxSupernetEvaluator } from "../src/evaluators/onnx-supernet.ts";
import { NB201_DATASET_COLUMNS, TableEvaluator } from "../src/evaluators/table.ts";
import type { Evaluator } from "../src/evaluators/types.ts";
import { openCheckpointer } from "../src/graph/checkpointer.ts";
import type { SearchTask } from "../src/graph/state.ts";
import type { RoundEvent } from "../src/roles/coordinator.ts";
import { LISTED_BEST, LISTED_RECENT } from "../src/roles/generator.ts";
import { runSearch, type StrategyName } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { Rng } from "../src/util/random.ts";
import { navigatorStrategy, strategyMarker } from "../test/fixtures/llm/replies.ts";
import { cellWalker, TimedScriptedModel, timedEvaluator, type Stopwatch } from "./perf/scripted.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const optionValue = (name: string) => {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
};
const outPath = optionValue("--out") ?? "docs/benchmarks.md";
const baselineDir = optionValue("--baseline");
const quick = args.includes("--quick");
const tablePath = resolve(
  args.find((arg, i) => !arg.startsWith("--") && !["--out", "--baseline"].includes(args[i - 1])) ??
    join(REPO_ROOT, "../shared/data/nb201/nb201.csv"),
);
if (!existsSync(tablePath)) {
  console.error(`NAS-Bench-201 table not found at ${tablePath}; pass its path as the first argument`);
  process.exit(2);
}

const SIZES = quick
  ? { overheadBudget: 1_000, scaleBudgets: [200, 1_000], supernetArchs: 4, concurrencies: [1, 2] }
  : { overheadBudget: 10_000, scaleBudgets: [1_000, 10_000], supernetArchs: 10, concurrencies: [1, 2, 4] };

const cifar10 = await TableEvaluator.load({ path: tablePath, metric: NB201_DATASET_COLUMNS.cifar10.test });

function task(overrides: Partial<SearchTask>): SearchTask {
  return {
    space: "nb201",
    objective: "maximize cifar10_test_acc of the network",
    budget: 100,
    candidatesPerRound: 10,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 2,
    seed: 0,
    ...overrides,
  };
}

function log(text: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${text}`);
}

function table(headers: string[], rows: (string | number)[][]): string {
  return [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

// 1. Tokens per round.

async function tokensSection(): Promise<string> {
  log("tokens: 500-evaluation search with scripted LLMs");
  const stopwatch: Stopwatch = { llmMs: 0, evaluationMs: 0 };
  let round = 0;
  const navigator = new TimedScriptedModel(
    () => navigatorStrategy(strategyMarker(++round)),
    stopwatch,
    false,
  );
  const generator = new TimedScriptedModel(cellWalker(), stopwatch, false);
  const budget = 500;
  const outcome = await runSearch({
    strategy: "collm",
    space: createNb201Space(),
    evaluator: new CachedEvaluator(cifar10),
    task: task({ budget }),
    navigatorModel: navigator,
    generatorModel: generator,
  });
  const calls = outcome.roundUsage;
  const ofRound = (r: number, role: "navigator" | "generator") =>
    calls.filter((call) => call.round === r && call.role === role);
  const rounds = [1, 2, 3, 10, 25, 50];
  const rows = rounds.map((r) => {
    const generatorCalls = ofRound(r, "generator");
    return [
      r,
      ofRound(r, "navigator")[0]?.promptTokens ?? "",
      generatorCalls.map((call) => call.promptTokens).join(", "),
    ];
  });
  const navigator3 = ofRound(3, "navigator")[0].promptTokens;
  const navigator50 = ofRound(50, "navigator")[0].promptTokens;
  const usage = outcome.usage!;
  const evaluations = outcome.history.length;
  const perEvaluation = (role: "navigator" | "generator") =>
    ((usage[role].promptTokens + usage[role].completionTokens) / evaluations).toFixed(0);
  const total = Object.values(usage).reduce(
    (sum, role) => sum + role.promptTokens + role.completionTokens,
    0,
  );
  const strategyTokens = ofRound(1, "navigator")[0].completionTokens;
  log(`tokens: navigator round 50 / round 3 = ${(navigator50 / navigator3).toFixed(2)}`);
  return `## Tokens per round

A CoLLM-NAS search of ${evaluations} evaluations (10 per round) on the
NAS-Bench-201 table (CIFAR-10) with scripted LLMs that report no usage,
so the search counts every prompt and reply with o200k_base. The
Navigator replies with a fixed strategy of ${strategyTokens} tokens. The Generator
proposes new cells in a fixed order, as many as its prompt requests. It is
called again in a round when the Coordinator rejects proposals as
isomorphic to evaluated cells. Counts are per call; result.json's
\`usageByRound\` sums them per round.

${table(["round", "Navigator prompt tokens", "Generator prompt tokens (per call)"], rows)}

- Navigator prompt at round 50 / round 3: **${(navigator50 / navigator3).toFixed(2)}**
  (${navigator50} / ${navigator3} tokens). The prompt is the system prompt,
  the task, the last three exchanges (strategy verbatim, request as a
  one-paragraph summary of its round) and this round's full request, whose
  summary of all results has a fixed size.
- The Generator's prompt lists at most ${LISTED_BEST} best and ${LISTED_RECENT} latest evaluated
  architectures (${LISTED_BEST + LISTED_RECENT} lines), so it stops growing once the list is full.
- Tokens per evaluation: Navigator ${perEvaluation("navigator")}, Generator ${perEvaluation("generator")},
  ${(total / evaluations).toFixed(0)} in all (${usage.navigator.calls} Navigator and
  ${usage.generator.calls} Generator calls). Real strategies are longer than the
  fixture, so the Navigator's share is a lower bound.

test/token-budget.test.ts checks the bound of 1.5 on the Navigator's
prompt and the Generator's list with a scripted model.`;
}

// 2. Parallel evaluation on the bundled supernet.

async function parallelSection(): Promise<string> {
  const modelPath = join(REPO_ROOT, "examples/fmnist-nb201/supernet.onnx");
  if (!existsSync(modelPath)) return "## Parallel evaluation\n\nSkipped: the bundled supernet is missing.";
  const cores = cpus().length;
  const space = createNb201Space();
  const rng = new Rng(3);
  const requests = Array.from({ length: SIZES.supernetArchs }, (_v, i) => ({
    key: `cell-${i}`,
    arch: space.sample(rng),
  }));
  const rows: (string | number)[][] = [];
  let serialMs = 0;
  let bestSpeedUp = 0;
  let reference: number[] | undefined;
  for (const concurrency of SIZES.concurrencies) {
    const threads = Math.max(1, Math.floor(cores / concurrency));
    log(`parallel: concurrency ${concurrency}, ${threads} threads per session`);

    const sessions: Evaluator[] = [];
    for (let i = 0; i < concurrency; i++) {
      sessions.push(
        await OnnxSupernetEvaluator.create({
          modelPath,
          dataDir: dirname(modelPath),
          device: "cpu",
          threads,
        }),
      );
    }
    const evaluator = new ConcurrentEvaluator(sessions);

    // One evaluation per session first, so that no timing includes a warm-up.
    await evaluator.evaluate(requests.slice(0, concurrency));
    const started = performance.now();
    const results = await evaluator.evaluate(requests);
    const ms = performance.now() - started;
    await evaluator.close();

    const accuracies = results.map((result) => (result.ok ? result.accuracy : Number.NaN));
    reference ??= accuracies;
    if (concurrency === 1) serialMs = ms;
    bestSpeedUp = Math.max(bestSpeedUp, serialMs / ms);
    rows.push([
      concurrency,
      threads,
      (ms / 1000).toFixed(2),
      (ms / requests.length).toFixed(0),
      (serialMs / ms).toFixed(2),
      accuracies.every((accuracy, i) => accuracy === reference![i]) ? "yes" : "no",
    ]);
  }
  return `## Parallel evaluation

${SIZES.supernetArchs} architectures of the bundled Fashion-MNIST supernet
(examples/fmnist-nb201, 1,000 search images each, batch statistics in
batches of 250) evaluated as one round through \`ConcurrentEvaluator\`. That
is how \`--concurrency N\` builds it: N onnxruntime sessions (onnxruntime-node
${ort.env.versions.common}, CPU provider), each with ${cores} cores / N intra-op threads, at
least 1. Each session first evaluates one architecture unmeasured.

${table(
  ["concurrency", "threads per session", "seconds", "ms per architecture", "speed-up", "same accuracies"],
  rows,
)}

This machine has ${cores} cores, and one session already spreads each run
over them with intra-op threads, so sessions side by side ${
    bestSpeedUp < 1.15
      ? "gain little here"
      : `gain up to ${bestSpeedUp.toFixed(2)} times here`
  }. With more cores each session gets more threads of its own. The batch
is not split across sessions because the model normalizes with batch
statistics: a smaller batch would change the accuracies. A benchmark
table answers each request on its own, so \`--concurrency\` only shares it.
test/concurrent-evaluator.test.ts checks that a search with concurrency 3
gives the same history as with concurrency 1.`;
}

// 3. Graph overhead per round.

interface OverheadRun {
  label: string;
  perRound: number[];
  seconds: number;
  llmMs: number;
  evaluationMs: number;
  /** V8 heap in use after a full collection at the end, in bytes; null without --expose-gc. */
  heapUsed: number | null;
}

async function overheadRun(withCheckpointer: boolean): Promise<OverheadRun> {
  const label = withCheckpointer ? "SQLite checkpointer" : "no checkpointer";
  log(`overhead: ${SIZES.overheadBudget} evaluations, ${label}`);
  const stopwatch: Stopwatch = { llmMs: 0, evaluationMs: 0 };
  const navigator = new TimedScriptedModel(() => navigatorStrategy(""), stopwatch, true);
  const generator = new TimedScriptedModel(cellWalker(), stopwatch, true);
  const opened = withCheckpointer
    ? await openCheckpointer({
        kind: "sqlite",
        path: join(mkdtempSync(join(tmpdir(), "collm-overhead-")), "checkpoints.sqlite"),
      })
    : null;

  const perRound: number[] = [];
  let last = performance.now();
  let spent = 0;
  const started = last;
  await runSearch({
    strategy: "collm",
    space: createNb201Space({ isomorphicDedup: false }),
    evaluator: timedEvaluator(cifar10, stopwatch),
    task: task({ budget: SIZES.overheadBudget }),
    navigatorModel: navigator,
    generatorModel: generator,
    checkpointer: opened?.saver,
    threadId: opened ? "overhead" : undefined,
    onProgress: (_event: RoundEvent) => {
      const now = performance.now();
      const external = stopwatch.llmMs + stopwatch.evaluationMs;
      perRound.push(now - last - (external - spent));
      last = now;
      spent = external;
    },
  });
  const seconds = (performance.now() - started) / 1000;
  await opened?.close();

  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return {
    label,
    perRound,
    seconds,
    llmMs: stopwatch.llmMs,
    evaluationMs: stopwatch.evaluationMs,
    heapUsed: gc ? process.memoryUsage().heapUsed : null,
  };
}

async function overheadSection(): Promise<string> {
  const runs = [await overheadRun(false), await overheadRun(true)];
  const rounds = runs[0].perRound.length;
  const windows: [string, number, number][] = [
    ["round 1", 1, 1],
    ["rounds 2-21", 2, 21],
    ["rounds 91-110", 91, 110],
    [`rounds ${rounds - 19}-${rounds}`, rounds - 19, rounds],
  ];
  const rows = windows.map(([label, from, to]) => [
    label,
    ...runs.map((run) => median(run.perRound.slice(from - 1, to)).toFixed(2)),
  ]);
  const totals = runs.map(
    (run) =>
      `${run.label}: ${run.seconds.toFixed(1)} s in all, of which scripted LLMs ` +
      `${run.llmMs.toFixed(0)} ms and table lookups ${run.evaluationMs.toFixed(0)} ms` +
      (run.heapUsed === null
        ? ""
        : `; V8 heap of the whole benchmark process, table included, after a full garbage collection at the end: ${mib(run.heapUsed)} MiB`),
  );
  for (const run of runs) {
    const first = median(run.perRound.slice(1, 21));
    const last = median(run.perRound.slice(-20));
    log(`overhead: ${run.label} ${first.toFixed(2)} ms -> ${last.toFixed(2)} ms per round`);
  }
  return `## Graph overhead per round

A CoLLM-NAS search of ${SIZES.overheadBudget.toLocaleString("en")} evaluations (${rounds} rounds of 10) on the
NAS-Bench-201 table (\`--isomorphic off\`) with scripted LLMs that report
their usage, as OpenAI-compatible servers do. Overhead is the wall time of
a round (from one round's progress event to the next) minus the time
inside the scripted LLMs and the table: the graph steps, the roles'
prompts and statistics, state updates and checkpoints. Median
milliseconds per round:

${table(["rounds", ...runs.map((run) => run.label)], rows)}

${totals.map((line) => `- ${line}.`).join("\n")}

Round 1 includes loading the prompt templates and compiling the code
paths for the first time.`;
}

// 4. Long searches from the CLI.

interface CliRun {
  seconds: number;
  searchSeconds: number;
  maxRssMiB: number;
  checkpointBytes: number;
  resultPath: string;
  cache: { hits: number; misses: number };
}

function runCliSearch(root: string, budget: number): CliRun {
  const outDir = mkdtempSync(join(tmpdir(), "collm-scale-"));
  const rssFile = join(outDir, "max-rss.txt");
  const started = performance.now();
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      join(REPO_ROOT, "benchmarks/perf/max-rss.mjs"),
      join(root, "bin/collm-nas.js"),
      "search",
      "--benchmark", tablePath,
      "--budget", String(budget),
      "--candidates", "10",
      "--isomorphic", "off",
      "--out", outDir,
      "--quiet",
    ],
    { cwd: root, encoding: "utf8", env: { ...process.env, MAX_RSS_FILE: rssFile } },
  );
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0) {
    throw new Error(`collm-nas search in ${root} failed (${child.status}): ${child.stderr}`);
  }
  const resultPath = join(outDir, "result.json");
  const result = JSON.parse(readFileSync(resultPath, "utf8"));
  const sqlite = join(outDir, "checkpoints.sqlite");
  return {
    seconds,
    searchSeconds: result.settings.seconds,
    maxRssMiB: Number(readFileSync(rssFile, "utf8")) / 1024,
    checkpointBytes: existsSync(sqlite) ? statSync(sqlite).size : 0,
    resultPath,
    cache: result.settings.evaluationCache,
  };
}

function sameSearch(a: string, b: string): boolean {
  const read = (path: string) => {
    const result = JSON.parse(readFileSync(path, "utf8"));
    return JSON.stringify([result.history, result.strategies, result.best]);
  };
  return read(a) === read(b);
}

let scaleCache: CliRun["cache"] | undefined;

function scaleSection(): string {
  const versions: { label: string; root: string }[] = [{ label: "this checkout", root: REPO_ROOT }];
  if (baselineDir) versions.unshift({ label: `baseline (${commitOf(baselineDir)})`, root: resolve(baselineDir) });
  const runs = new Map<string, CliRun>();
  for (const budget of SIZES.scaleBudgets) {
    for (const version of versions) {
      log(`scale: ${version.label}, ${budget} evaluations`);
      runs.set(`${version.label}/${budget}`, runCliSearch(version.root, budget));
    }
  }

  const rows: (string | number)[][] = [];
  for (const version of versions) {
    for (const budget of SIZES.scaleBudgets) {
      const run = runs.get(`${version.label}/${budget}`)!;
      rows.push([
        version.label,
        budget.toLocaleString("en"),
        run.seconds.toFixed(1),
        run.searchSeconds.toFixed(1),
        ((1000 * run.searchSeconds) / budget).toFixed(2),
        run.maxRssMiB.toFixed(0),
        mib(run.checkpointBytes),
      ]);
    }
  }

  const [small, large] = SIZES.scaleBudgets;
  const current = (budget: number) => runs.get(`this checkout/${budget}`)!;
  scaleCache = current(large).cache;
  const growth = (field: "searchSeconds" | "checkpointBytes" | "maxRssMiB") =>
    (current(large)[field] / current(small)[field]).toFixed(1);
  const lines = [
    `- From ${small.toLocaleString("en")} to ${large.toLocaleString("en")} evaluations (${large / small} times as many), ` +
      `this checkout's search time grew ${growth("searchSeconds")} times, its checkpoint file ` +
      `${growth("checkpointBytes")} times and its peak RSS ${growth("maxRssMiB")} times.`,
  ];
  if (baselineDir) {
    const label = versions[0].label;
    const before = runs.get(`${label}/${large}`)!;
    lines.push(
      `- At ${large.toLocaleString("en")} evaluations this checkout's search took ` +
        `${(before.searchSeconds / current(large).searchSeconds).toFixed(1)} times less time than the ` +
        `baseline's. Both found the same history, strategies and best: ` +
        `${sameSearch(before.resultPath, current(large).resultPath) ? "yes" : "no"}.`,
    );
  }
  return `## Long searches

\`collm-nas search --benchmark TABLE --budget N --candidates 10
--isomorphic off\` with the offline policy and the default SQLite
checkpointer, each a child process. "wall s" includes starting Node.js,
loading the table and writing the reports; "search s" is the search
alone (result.json's \`settings.seconds\`). Peak RSS is the child's
\`process.resourceUsage().maxRSS\`, which counts memory that V8 and SQLite
hold reserved as well as live data (compare the heap after a full
garbage collection in the section above). The checkpoint file keeps the latest
two checkpoints of the thread and the segments of the append-only
channels (history, strategies, rejections, fallbacks, token counts).

${table(
  ["version", "evaluations", "wall s", "search s", "ms per evaluation", "peak RSS MiB", "checkpoint MiB"],
  rows,
)}

${lines.join("\n")}

What keeps a round's cost flat as the history grows:

- The SQLite checkpointer stores the append-only channels as segments of
  the items each step added (src/graph/append-log-saver.ts); a checkpoint
  contains a reference to the latest segment, not the whole history.
- The roles read the history through an index that each round extends
  instead of rebuilding (src/roles/history-index.ts). The ranking is
  merged, not sorted. Evaluated keys are looked up, not copied into a new
  set. Each record is parsed once per space, and the count of failed
  rounds runs on. Gene statistics still visit every ranked record, in rank order,
  so that the means in strategy texts are the same to the last bit.
- Rank-biased picks of elite parents use prefix sums and return exactly
  what \`Rng.weighted\` returns (src/util/prefix-sum-picker.ts).
- The CLI rewrites result.json after every round only while a rewrite
  takes under 5 ms; after a slower one it waits ten times that long
  (src/cli/partial-result.ts).`;
}

function commitOf(dir: string): string {
  try {
    return execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown commit";
  }
}

// 5. Evaluation cache.

async function cacheSection(): Promise<string> {
  log("cache: two searches sharing one cache");
  const shared = new CachedEvaluator(cifar10);
  const rows: (string | number)[][] = [];
  for (const [label, seed] of [
    ["first search, seed 0", 0],
    ["second search, seed 0", 0],
    ["third search, seed 1", 1],
  ] as const) {
    const before = { hits: shared.hits, misses: shared.misses };
    await runSearch({
      strategy: "collm",
      space: createNb201Space(),
      evaluator: shared,
      task: task({ seed }),
    });
    const hits = shared.hits - before.hits;
    const misses = shared.misses - before.misses;
    rows.push([label, hits, misses, `${((100 * hits) / (hits + misses)).toFixed(0)}%`]);
  }
  const cli = scaleCache ?? { hits: 0, misses: 0 };
  const cliRate = cli.hits + cli.misses > 0 ? (100 * cli.hits) / (cli.hits + cli.misses) : 0;
  return `## Evaluation cache

\`CachedEvaluator\` evaluates each architecture key once per evaluator and
counts hits and misses (result.json's \`settings.evaluationCache\`). The
largest CLI search above recorded ${cli.hits} hits and ${cli.misses.toLocaleString("en")} misses
(${cliRate.toFixed(0)}%): the Coordinator and the baselines never send an evaluated key
again, so within one search the cache only guards against a repeat. It pays
when searches share an evaluator, as the runs of one LangGraph server do
(src/graph/configured-evaluator.ts caches evaluators by their settings).
Three offline searches of 100 evaluations sharing one cache:

${table(["search", "hits", "misses", "hit rate"], rows)}`;
}

// 6. Evaluations to match offline CoLLM-NAS.

async function anchorsSection(): Promise<string> {
  const seeds = Array.from({ length: 10 }, (_v, i) => i);
  const cap = 5_000;
  const rows: (string | number)[][] = [];
  for (const dataset of ["cifar10", "cifar100", "imagenet16-120"] as const) {
    log(`anchors: ${dataset}`);
    const evaluator = await TableEvaluator.load({
      path: tablePath,
      metric: NB201_DATASET_COLUMNS[dataset].test,
    });
    const needed: Record<"rea" | "random", (number | null)[]> = { rea: [], random: [] };
    const targets: number[] = [];
    for (const seed of seeds) {
      const collm = await runSearch({
        strategy: "collm",
        space: createNb201Space(),
        evaluator: new CachedEvaluator(evaluator),
        task: task({ seed }),
      });
      const target = collm.best!.accuracy;
      targets.push(target);
      for (const strategy of ["rea", "random"] as const satisfies StrategyName[]) {
        const baseline = await runSearch({
          strategy,
          space: createNb201Space(),
          evaluator: new CachedEvaluator(evaluator),
          task: task({ seed, budget: cap, target }),
        });
        const reached = baseline.stopReason.startsWith("target reached");
        needed[strategy].push(reached ? baseline.history.length : null);
      }
    }
    const meanTarget = targets.reduce((a, b) => a + b, 0) / targets.length;
    for (const strategy of ["rea", "random"] as const) {
      const reached = needed[strategy].filter((count): count is number => count !== null);
      rows.push([
        dataset,
        meanTarget.toFixed(2),
        strategy === "rea" ? "regularized evolution" : "random search",
        `${reached.length} of ${seeds.length}`,
        reached.length > 0 ? median(reached).toFixed(0) : "none",
        reached.length > 0 ? Math.min(...reached) : "none",
        reached.length > 0 ? Math.max(...reached) : "none",
      ]);
    }
  }
  return `## Evaluations to match CoLLM-NAS

For each seed 0-9, offline CoLLM-NAS searches 100 evaluations (10 per
round) on the 200-epoch test accuracy, as in docs/benchmarks-nb201.md. Its
best accuracy becomes the target of regularized evolution (population 10,
tournament 3) and random search with the same seed, which stop when they
reach it or after ${cap.toLocaleString("en")} evaluations. Isomorphic cells count as one.

${table(
  ["dataset", "mean target %", "baseline", "runs that reached it", "median evaluations", "min", "max"],
  rows,
)}

The median, min and max count only the runs that reached the target. For
scale: the CoLLM-NAS paper (Li, Lin and Wang, arXiv 2509.26037) reports
search costs 4 to 10 times lower than those of the searches it replaces.
This project's benchmarks run it with 100 evaluations on
NAS-Bench-201 (docs/benchmarks-nb201.md) and 250 on the macro spaces
(docs/benchmarks-ofa.md).`;
}

const started = Date.now();
const sections = [
  await tokensSection(),
  await parallelSection(),
  await overheadSection(),
  scaleSection(),
  await cacheSection(),
  await anchorsSection(),
];
const seconds = ((Date.now() - started) / 1000).toFixed(0);
const cpu = cpus()[0]?.model ?? "unknown CPU";
const options = [
  quick ? "--quick" : "",
  baselineDir ? `--baseline pointing at a checkout of ${commitOf(baselineDir)}` : "",
].filter((option) => option !== "");
const page = `# Performance benchmarks

Written by \`npm run bench:perf\` (benchmarks/performance.ts${
  options.length > 0 ? `, ${options.join(", ")}` : ""
})
in ${seconds} s on ${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB of memory,
Node.js ${process.version}. The machine was shared with other work while it
ran, so absolute times vary from run to run: compare numbers within one
table, which one run measured.

${sections.join("\n\n")}
`;
writeFileSync(outPath, page);
log(`wrote ${outPath} in ${seconds} s`);
