import { existsSync, mkdirSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { readEnvironment } from "../config.ts";
import { CachedEvaluator } from "../evaluators/cache.ts";
import { ConcurrentEvaluator } from "../evaluators/concurrent.ts";
import { GuardedEvaluator } from "../evaluators/guarded.ts";
import { NB201_DATASET_COLUMNS, TableEvaluator } from "../evaluators/table.ts";
import type { Evaluator } from "../evaluators/types.ts";
import type { SearchTask } from "../graph/state.ts";
import { createChatModel } from "../llm/models.ts";
import { EVALUATOR_FAILING } from "../roles/coordinator.ts";
import { REVIEWER_STOP_REASON } from "../graph/review.ts";
import { buildResult, writeFileAtomic } from "../search/result.ts";
import { writeReports } from "../report/index.ts";
import { runSearch, type SearchOutcome } from "../search/run.ts";
import { buildCostCheck, createSpaceWithFiles } from "../spaces/registry.ts";
import { createOnnxPredictorEvaluator, type FeatureEncoder } from "../evaluators/onnx-predictor.ts";
import type { SearchSpace } from "../spaces/types.ts";
import type { Nb201Network } from "../spaces/nb201.ts";
import {
  OnnxSupernetEvaluator,
  readSupernetMeta,
  supernetNetwork,
} from "../evaluators/onnx-supernet.ts";
import { UsageError } from "./errors.ts";
import { createProgressReporter } from "./progress.ts";
import { createReviewPrompt } from "./review-prompt.ts";
import { createPartialResultWriter } from "./partial-result.ts";
import {
  openSearchSession,
  type ResumeTarget,
  type SearchSession,
} from "./search-session.ts";
import { parseSearchArgs, SEARCH_HELP, type SearchArgs } from "./search-options.ts";

/** Output streams of a command, so tests can capture them. */
export interface CommandIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether standard error is a terminal; progress is then drawn as a bar. */
  isTTY?: boolean;
  /** Prints a prompt and reads one line of standard input; null at its end. */
  readLine?: (prompt: string) => Promise<string | null>;
  /** Aborted on Ctrl-C (SIGINT): a collm search stops after its current step. */
  signal?: AbortSignal;
}

/** Runs `collm-nas search`. Returns the process exit code. */
export async function searchCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const args = parseSearchArgs(argv);
  if (args.help) {
    io.stdout(SEARCH_HELP);
    return 0;
  }
  const usesSupernet = args.supernet !== undefined || (!args.benchmark && !args.predictor && args.space === "nb201");
  return runParsedSearch(args, io, undefined, ignoredOptions(argv, args, usesSupernet));
}

/**
 * Runs a search from parsed options. With `resume` it continues that
 * checkpointed thread, rebuilt from the same options, instead of starting
 * a new one.
 */
export async function runParsedSearch(
  args: SearchArgs,
  io: CommandIO,
  resume?: ResumeTarget,
  /** Warnings about options given that this search does not use. */
  warnings: readonly string[] = [],
): Promise<number> {
  if (args.review && !io.readLine) {
    throw new UsageError("--review needs standard input to read the review decisions");
  }
  const outDir = resolve(args.out ?? join("runs", `${args.strategy}-${timestamp()}`));
  if (resume === undefined) rejectEarlierSearch(outDir);
  const supernet = await resolveSupernet(args);
  const space = await createSpaceWithFiles(
    args.space,
    {
      dataset: args.dataset,
      isomorphicDedup: args.isomorphic === "on",
      width: args.width,
      network: supernet?.network,
    },
    { latencyTable: args["latency-table"], autoformerConfig: args["autoformer-config"] },
  );
  const checkCost = buildCostCheck(args.constraint, space);
  const evaluator = new CachedEvaluator(
    new GuardedEvaluator(await createEvaluator(args, space, supernet), {
      timeoutMs: args["evaluation-timeout"] === undefined ? undefined : args["evaluation-timeout"] * 1000,
    }),
  );
  const models = resolveModels(args);
  ensureWritableOut(outDir);

  const task: SearchTask = {
    space: space.name,
    objective: `maximize ${evaluator.name.replace(/^table:/, "")} of the network`,
    budget: args.budget,
    candidatesPerRound: args.candidates,
    target: args.target ?? null,
    maxRounds: args.rounds ?? null,
    constraints: args.constraint,
    maxGeneratorRetries: args.retries,
    seed: args.seed,
    review: args.review,
  };

  const session = await openSearchSession(args, outDir, resume);
  if (!args.quiet) {
    io.stderr(describeStart(args, evaluator, models));
    if (supernet?.provider) io.stderr(`Supernet ${supernet.modelPath}, ${supernet.provider}\n`);
    for (const warning of warnings) {
      io.stderr(`warning: ${warning}\n`);
    }
    io.stderr(describeSession(session, outDir, resume !== undefined));
  }
  const progress = args.quiet ? undefined : createProgressReporter(args.strategy, io);
  const resultPath = join(outDir, "result.json");
  const writePartial = createPartialResultWriter(resultPath);
  const started = Date.now();
  const toResult = (outcome: SearchOutcome, seconds: number) =>
    buildResult(outcome, {
      strategy: args.strategy,
      space: space.name,
      budget: args.budget,
      llm:
        args.strategy !== "collm"
          ? null
          : models.navigator || models.generator
            ? {
                navigator: models.navigator?.spec ?? "offline",
                generator: models.generator?.spec ?? "offline",
              }
            : "offline",
      settings: {
        evaluator: evaluator.name,
        benchmark: args.benchmark ? resolve(args.benchmark) : null,
        predictor: args.predictor ? resolve(args.predictor) : null,
        width: args.width ?? null,
        latencyTable: args["latency-table"] ? resolve(args["latency-table"]) : null,
        autoformerConfig: args["autoformer-config"] ? resolve(args["autoformer-config"]) : null,
        // The dataset picks table columns; other evaluators carry their own data.
        dataset: datasetLabel(args, supernet),
        report: args.report ?? [],
        constraints: args.constraint,
        candidatesPerRound: args.candidates,
        target: task.target,
        rounds: task.maxRounds,
        seed: args.seed,
        isomorphicDedup: args.isomorphic === "on",
        population: args.population ?? null,
        sampleSize: args["sample-size"] ?? null,
        evaluationCache: { hits: evaluator.hits, misses: evaluator.misses },
        concurrency: args.concurrency,
        seconds,
        ...session.resultSettings,
      },
    });

  const outcome = await runSearch({
    strategy: args.strategy,
    space,
    evaluator,
    task,
    navigatorModel: models.navigator?.model,
    generatorModel: models.generator?.model,
    structuredOutput: args["structured-output"],
    checkCost,
    population: args.population,
    sampleSize: args["sample-size"],
    checkpointer: session.saver,
    threadId: session.threadId,
    resume: resume !== undefined,
    review: args.review
      ? createReviewPrompt(io, { editor: readEnvironment().editor, outDir })
      : undefined,
    onProgress: progress?.update,
    signal: io.signal,
    onRound: (partial) => {
      writePartial(() => toResult(partial, (Date.now() - started) / 1000));
    },
  }).finally(async () => {
    progress?.finish();
    await session.close();
  });
  const seconds = (Date.now() - started) / 1000;

  const result = toResult(outcome, seconds);
  if (supernet && result.best) {
    Object.assign(result.best.report, await scoreOnHeldOutSplits(supernet, args, result.best.arch));
  }
  await writeFileAtomic(resultPath, `${JSON.stringify(result, null, 2)}\n`);
  await writeReports(outDir, result);
  await evaluator.close();

  if (args.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  if (!args.quiet) io.stderr(describeEnd(result, space, seconds, resultPath));
  // A search stopped by a failing evaluator ran, but its result is not one to trust.
  if (result.stopReason.startsWith(EVALUATOR_FAILING)) return 1;
  // A search in which nothing was evaluated successfully found nothing,
  // unless a reviewer stopped it on purpose.
  return result.best || result.stopReason === REVIEWER_STOP_REASON ? 0 : 1;
}

/** The bundled Fashion-MNIST supernet, the default evaluator of nb201. */
const BUNDLED_SUPERNET = fileURLToPath(
  new URL("../../examples/fmnist-nb201/supernet.onnx", import.meta.url),
);

/** A supernet to evaluate with, and the network size its meta.json gives. */
interface SupernetChoice {
  modelPath: string;
  dataDir: string;
  network?: Nb201Network;
  /** Execution provider of the session, with the reasons others were skipped. */
  provider?: string;
}

function describeProvider(report: OnnxSupernetEvaluator["providerReport"]): string {
  const skipped = report.attempts
    .filter((attempt) => !attempt.ok)
    .map((attempt) => `${attempt.provider} skipped: ${attempt.reason}`);
  return [`execution provider: ${report.provider}`, ...skipped].join("; ");
}

/**
 * Picks the supernet: --supernet, or the bundled one when nb201 is
 * searched with no other evaluator. Returns undefined when a table or a
 * predictor evaluates instead.
 */
async function resolveSupernet(args: SearchArgs): Promise<SupernetChoice | undefined> {
  const other = args.benchmark ?? args.predictor;
  if (args.supernet === undefined && (other !== undefined || args.space !== "nb201")) {
    if (args.data !== undefined) {
      throw new UsageError("--data goes with --supernet (or the bundled supernet)");
    }
    return undefined;
  }
  if (args.supernet !== undefined && other !== undefined) {
    throw new UsageError("pass one of --supernet, --benchmark and --predictor, not several");
  }
  if (args.space !== "nb201") {
    throw new UsageError(`--supernet evaluates nb201 cells, not --space ${args.space}`);
  }
  const modelPath = resolve(args.supernet ?? BUNDLED_SUPERNET);
  const dataDir = resolve(args.data ?? dirname(modelPath));
  const meta = await readSupernetMeta(join(dataDir, "meta.json"));
  return { modelPath, dataDir, network: supernetNetwork(meta) };
}

/**
 * Scores the best subnet on the full validation split and on the test
 * split, neither of which the search uses. Returns report-only metrics.
 */
async function scoreOnHeldOutSplits(
  supernet: SupernetChoice,
  args: SearchArgs,
  arch: unknown,
): Promise<Record<string, number>> {
  const report: Record<string, number> = {};
  for (const split of ["val", "test"] as const) {
    const evaluator = await OnnxSupernetEvaluator.create({
      modelPath: supernet.modelPath,
      dataDir: supernet.dataDir,
      device: args.device,
      threads: args.threads,
      split,
    });
    try {
      const [result] = await evaluator.evaluate([{ key: "best", arch }]);
      if (result.ok) report[`${split}_accuracy`] = result.accuracy;
    } finally {
      await evaluator.close();
    }
  }
  return report;
}

/**
 * Creates the evaluator, as `--concurrency` workers: a supernet gets one
 * onnxruntime session per worker, splitting the intra-op threads between
 * them, and any other evaluator is shared by the workers.
 */
async function createEvaluator(
  args: SearchArgs,
  space: SearchSpace,
  supernet: SupernetChoice | undefined,
): Promise<Evaluator> {
  const workers = args.concurrency;
  if (supernet) {
    const threads =
      workers === 1
        ? args.threads
        : Math.max(1, Math.floor((args.threads ?? availableParallelism()) / workers));
    const sessions: Evaluator[] = [];
    try {
      for (let i = 0; i < workers; i++) {
        sessions.push(
          await OnnxSupernetEvaluator.create({
            modelPath: supernet.modelPath,
            dataDir: supernet.dataDir,
            device: args.device,
            threads,
            split: "search",
          }),
        );
      }
    } catch (error) {
      await Promise.all(sessions.map((session) => session.close?.()));
      throw error;
    }
    const report = (sessions[0] as OnnxSupernetEvaluator).providerReport;
    supernet.provider = describeProvider(report);
    return workers === 1 ? sessions[0] : new ConcurrentEvaluator(sessions);
  }
  const evaluator = await createSerialEvaluator(args, space);
  return workers === 1 ? evaluator : new ConcurrentEvaluator(Array(workers).fill(evaluator));
}

async function createSerialEvaluator(args: SearchArgs, space: SearchSpace): Promise<Evaluator> {
  if (args.predictor) {
    if (args.benchmark) {
      throw new UsageError("pass either --predictor or --benchmark, not both");
    }
    const encoder = (space as { predictorEncoder?: FeatureEncoder<unknown> }).predictorEncoder;
    if (!encoder) {
      throw new UsageError(
        `space ${space.name} has no predictor feature encoder; --predictor works with ofa-mbv3`,
      );
    }
    return createOnnxPredictorEvaluator({ modelPath: args.predictor, space, encoder });
  }
  if (!args.benchmark) {
    if (space.name === "ofa-mbv3") {
      throw new UsageError(
        "no evaluator given for ofa-mbv3; pass --predictor FILE with an ONNX accuracy predictor",
      );
    }
    if (space.name !== "nb201") {
      throw new UsageError(
        `the CLI has no evaluator for ${space.name}: its cost model works with ` +
          `collm-nas cost, and a search needs your own evaluator through the API ` +
          `(createSearchGraph or runSearch with an Evaluator)`,
      );
    }
    throw new UsageError(
      "no evaluator given; pass --benchmark FILE with a benchmark table CSV " +
        "(for NAS-Bench-201: the arch_str and accuracy columns)",
    );
  }
  if (space.name !== "nb201") {
    throw new UsageError(`--benchmark tables are for --space nb201, not "${space.name}"`);
  }
  const columns = NB201_DATASET_COLUMNS[args.dataset];
  return TableEvaluator.load({
    path: args.benchmark,
    metric: args.metric ?? columns.test,
    report: args.report,
    toTableKey: (arch) => String(arch),
  });
}

interface ResolvedModel {
  spec: string;
  model: BaseChatModel;
}

function resolveModels(args: SearchArgs): {
  navigator?: ResolvedModel;
  generator?: ResolvedModel;
} {
  if (args.strategy !== "collm") return {};
  const env = readEnvironment();
  const shared = args.llm ?? env.llm ?? "none";
  const temperature = args.temperature ?? 0.6;
  const build = (spec: string, roleTemperature: number | undefined) => {
    if (spec === "none") return undefined;
    return {
      spec,
      model: createChatModel({
        spec,
        temperature: roleTemperature ?? temperature,
        baseURL: args["base-url"] ?? env.openaiBaseUrl,
        apiKey: env.openaiApiKey,
        timeoutMs: args["llm-timeout"] * 1000,
        maxRetries: args["llm-retries"],
      }),
    };
  };
  return {
    navigator: build(args["navigator-llm"] ?? shared, args["navigator-temperature"]),
    generator: build(args["generator-llm"] ?? shared, args["generator-temperature"]),
  };
}

/** Creates the output directory, so that a path that cannot hold one fails before the search. */
/** Dataset of the result's settings: the table's, or the supernet's data. */
function datasetLabel(args: SearchArgs, supernet: SupernetChoice | undefined): string | null {
  if (args.benchmark) return args.dataset;
  if (supernet) return "fashion-mnist supernet";
  return null;
}

/** Options given on the command line that this search does not use. */
function ignoredOptions(argv: readonly string[], args: SearchArgs, usesSupernet: boolean): string[] {
  const passed = (name: string) => argv.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  const warnings: string[] = [];
  const baseline = args.strategy !== "collm";
  if (baseline) {
    for (const name of ["rounds", "llm", "navigator-llm", "generator-llm", "candidates", "retries", "review"]) {
      if (passed(name)) warnings.push(`--${name} has no effect on --strategy ${args.strategy}`);
    }
  }
  if (args.strategy !== "rea") {
    for (const name of ["population", "sample-size"]) {
      if (passed(name)) warnings.push(`--${name} applies to --strategy rea only`);
    }
  }
  if (!args.benchmark) {
    for (const name of ["dataset", "metric", "report"]) {
      if (passed(name)) {
        warnings.push(`--${name} applies to a --benchmark table only${usesSupernet ? ", not the supernet" : ""}`);
      }
    }
  }
  if (args.space !== "ofa-mbv3" && passed("width")) warnings.push("--width applies to --space ofa-mbv3 only");
  return warnings;
}

/**
 * Rejects an --out folder that already contains a search, because a new
 * search would overwrite its results and resume settings.
 */
function rejectEarlierSearch(outDir: string): void {
  const earlier = ["result.json", "search.json"].find((name) => existsSync(join(outDir, name)));
  if (earlier) {
    throw new UsageError(
      `--out ${outDir} already contains a search (${earlier}); continue it with ` +
        `collm-nas resume --out ${outDir}, or choose another --out`,
    );
  }
}

function ensureWritableOut(outDir: string): void {
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    throw new UsageError(`--out ${outDir} exists and is not a directory; choose another path`);
  }
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`cannot create --out directory ${outDir} (${code}); choose another path`);
  }
}

function describeStart(
  args: SearchArgs,
  evaluator: Evaluator,
  models: ReturnType<typeof resolveModels>,
): string {
  const lines = [
    `collm-nas: ${args.strategy} search on ${args.space}, budget ${args.budget}, evaluator ${evaluator.name}`,
  ];
  if (args.strategy === "collm") {
    if (!models.navigator && !models.generator) {
      lines.push(
        "No LLM in use: the Navigator and Generator run the offline policy " +
          "(strategy from result statistics, biased mutations).",
        "To use an LLM, pass --llm openai:MODEL with OPENAI_API_KEY set, or " +
          "--base-url http://HOST:PORT/v1 for vLLM, Ollama or a llama.cpp server.",
      );
    } else {
      lines.push(
        `Navigator: ${models.navigator?.spec ?? "offline policy"}; ` +
          `Generator: ${models.generator?.spec ?? "offline policy"}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

function describeSession(session: SearchSession, outDir: string, resumed: boolean): string {
  const { threadId, checkpoint } = session.resultSettings;
  if (threadId === null) return "";
  const action = resumed ? "Resuming thread" : "Thread";
  return (
    `${action} ${threadId}, checkpoints in ${checkpoint}; ` +
    `continue an interrupted run with: collm-nas resume --out ${outDir}\n`
  );
}

function describeEnd(
  result: ReturnType<typeof buildResult>,
  space: SearchSpace,
  seconds: number,
  resultPath: string,
): string {
  const lines = [`Stopped: ${result.stopReason} (${seconds.toFixed(1)} s).`];
  if (result.best) {
    const parsed = space.parse(result.best.arch);
    const arch = parsed.ok ? space.format(parsed.arch) : JSON.stringify(result.best.arch);
    lines.push(`Best: ${result.best.metrics.accuracy?.toFixed(2)}% ${arch} (round ${result.best.round})`);
    const report = Object.entries(result.best.report)
      .map(([name, value]) => `${name} ${value.toFixed(2)}`)
      .join(", ");
    if (report) lines.push(`Report (metrics the search never saw): ${report}`);
  } else {
    lines.push("No architecture was evaluated successfully.");
  }
  if (result.usage) {
    const { navigator, generator } = result.usage;
    lines.push(
      `Tokens: navigator ${navigator.promptTokens}+${navigator.completionTokens}, ` +
        `generator ${generator.promptTokens}+${generator.completionTokens}`,
    );
  }
  if (result.fallbacks.length > 0) {
    const count = (role: string) => result.fallbacks.filter((f) => f.role === role).length;
    lines.push(
      `LLM calls that failed and were replaced by the offline policy: navigator ` +
        `${count("navigator")}, generator ${count("generator")} (see "fallbacks" in ${resultPath})`,
    );
  }
  if (result.llm !== null && result.llm !== "offline") {
    const fromGenerator = result.history.filter((r) => r.source === "generator").length;
    lines.push(
      `Evaluations proposed by the Generator: ${fromGenerator} of ${result.history.length}; ` +
        `the rest filled the rounds by mutation.`,
    );
  }
  lines.push(`Result: ${resultPath}`);
  return `${lines.join("\n")}\n`;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, "-").replace(/-\d{3}Z$/, "Z");
}
