import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { randomSearch } from "../baselines/random-search.ts";
import { regularizedEvolution } from "../baselines/regularized-evolution.ts";
import type { Evaluator } from "../evaluators/types.ts";
import type {
  Best,
  CallUsage,
  EvaluationRecord,
  Fallback,
  Rejection,
  RoundStrategy,
  SearchTask,
  Usage,
} from "../graph/state.ts";
import type { StructuredOutputMode } from "../llm/call.ts";
import type { ReviewDecision, ReviewRequest } from "../graph/review.ts";
import type { RoundEvent } from "../roles/coordinator.ts";
import type { Cost, SearchSpace } from "../spaces/types.ts";
import { runCollmGraph } from "./graph-run.ts";

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
  /** Continue the checkpointed thread `threadId` instead of starting it. */
  resume?: boolean;
  /** Decides each review interrupt; needed when `task.review` is set. */
  review?: (request: ReviewRequest) => Promise<ReviewDecision>;
  /** Called after every round (after every evaluation for baselines). */
  onProgress?: (event: RoundEvent) => void;
  /** Called after every collm round with the search so far, which it awaits. */
  onRound?: (outcome: SearchOutcome, event: RoundEvent) => Promise<void> | void;
  signal?: AbortSignal;
}

/** What a finished search returns, whatever its strategy. */
export interface SearchOutcome {
  history: EvaluationRecord[];
  best: Best | null;
  stopReason: string;
  usage: Usage | null;
  /** Tokens of every LLM call, by round; empty for baselines. */
  roundUsage: CallUsage[];
  rejections: Rejection[];
  fallbacks: Fallback[];
  strategies: RoundStrategy[];
}

/** Runs one search with the chosen strategy and returns its outcome. */
export async function runSearch(options: SearchOptions): Promise<SearchOutcome> {
  if (options.strategy === "collm") return runCollmGraph(options);
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
    roundUsage: [],
    rejections: [],
    fallbacks: [],
    strategies: [],
  };
}
