import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { randomSearch } from "../baselines/random-search.ts";
import { regularizedEvolution } from "../baselines/regularized-evolution.ts";
import type { Evaluator } from "../evaluators/types.ts";
import { createSearchGraph, recursionLimitFor } from "../graph/build.ts";
import type {
  Best,
  EvaluationRecord,
  Fallback,
  Rejection,
  RoundStrategy,
  SearchTask,
  Usage,
} from "../graph/state.ts";
import type { StructuredOutputMode } from "../llm/call.ts";
import type { RoundEvent } from "../roles/coordinator.ts";
import type { Cost, SearchSpace } from "../spaces/types.ts";

export type StrategyName = "collm" | "random" | "rea";

export interface SearchOptions {
  strategy: StrategyName;
  space: SearchSpace;
  evaluator: Evaluator;
  task: SearchTask;
  navigatorModel?: BaseChatModel;
  generatorModel?: BaseChatModel;
  structuredOutput?: StructuredOutputMode;
  checkCost?: (cost: Cost) => string | null;
  /** Regularized evolution: population and tournament sample size. */
  population?: number;
  sampleSize?: number;
  checkpointer?: BaseCheckpointSaver;
  threadId?: string;
  /** Called after every round (after every evaluation for baselines). */
  onProgress?: (event: RoundEvent) => void;
  signal?: AbortSignal;
}

/** What a finished search returns, whatever its strategy. */
export interface SearchOutcome {
  history: EvaluationRecord[];
  best: Best | null;
  stopReason: string;
  usage: Usage | null;
  rejections: Rejection[];
  fallbacks: Fallback[];
  strategies: RoundStrategy[];
}

/** Runs one search with the chosen strategy and returns its outcome. */
export async function runSearch(options: SearchOptions): Promise<SearchOutcome> {
  if (options.strategy === "collm") return runCollm(options);
  const { task } = options;
  const baseline = {
    space: options.space,
    evaluator: options.evaluator,
    budget: task.budget,
    seed: task.seed,
    target: task.target,
    checkCost: options.checkCost,
    onEvaluation: (record: EvaluationRecord, best: Best | null) =>
      options.onProgress?.({
        type: "round",
        round: record.round,
        evaluations: record.round,
        budget: task.budget,
        bestAccuracy: best?.accuracy ?? null,
        bestArch: best?.arch ?? null,
        evaluatedThisRound: 1,
        rejectedThisRound: 0,
        stopReason: null,
      }),
  };
  const result =
    options.strategy === "random"
      ? await randomSearch(baseline)
      : await regularizedEvolution({
          ...baseline,
          population: options.population,
          sampleSize: options.sampleSize,
        });
  return {
    ...result,
    usage: null,
    rejections: [],
    fallbacks: [],
    strategies: [],
  };
}

async function runCollm(options: SearchOptions): Promise<SearchOutcome> {
  const graph = createSearchGraph({
    runtime: {
      space: options.space,
      evaluator: options.evaluator,
      navigatorModel: options.navigatorModel,
      generatorModel: options.generatorModel,
      structuredOutput: options.structuredOutput,
      checkCost: options.checkCost,
    },
    checkpointer: options.checkpointer,
  });
  const stream = await graph.stream(
    { task: options.task, rngState: options.task.seed },
    {
      recursionLimit: recursionLimitFor(options.task),
      streamMode: ["custom", "values"],
      configurable: options.threadId ? { thread_id: options.threadId } : undefined,
      signal: options.signal,
    },
  );
  let final: Awaited<ReturnType<typeof graph.invoke>> | undefined;
  for await (const [mode, chunk] of stream) {
    if (mode === "custom") options.onProgress?.(chunk as RoundEvent);
    else final = chunk as typeof final;
  }
  if (!final) throw new Error("the search graph returned no state");
  return {
    history: final.history,
    best: final.best,
    stopReason: final.stopReason ?? "stopped",
    usage: final.usage,
    rejections: final.rejections,
    fallbacks: final.fallbacks,
    strategies: final.strategies,
  };
}
