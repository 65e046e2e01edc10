import type { RunnableConfig } from "@langchain/core/runnables";
import type { SearchTask } from "./state.ts";

/** Maximum length of the strategy excerpt in trace metadata, in characters. */
export const STRATEGY_EXCERPT_CHARS = 200;

/**
 * Metadata of the LLM and tool runs of one round. LangSmith shows it on
 * each run and can filter runs by it.
 */
export interface RoundMetadata {
  round: number;
  /** Candidates requested from the Generator, or sent to evaluation. */
  candidates?: number;
  /** Evaluations finished before this call. */
  evaluations?: number;
  /** Start of the strategy the round follows. */
  strategy_excerpt?: string;
}

/** Returns the start of a strategy on one line, for trace metadata. */
export function strategyExcerpt(strategy: string): string {
  const line = strategy.replace(/\s+/g, " ").trim();
  return line.length > STRATEGY_EXCERPT_CHARS
    ? `${line.slice(0, STRATEGY_EXCERPT_CHARS)}...`
    : line;
}

/**
 * Returns `config` with the round's metadata added. Runs started with the
 * returned config (an LLM call, a tool call) and their children carry it.
 */
export function withRoundMetadata<C extends RunnableConfig>(config: C, metadata: RoundMetadata): C {
  return { ...config, metadata: { ...config.metadata, ...metadata } };
}

/** Name of the root run of a search in a trace, as the dev server names the graph. */
export const SEARCH_RUN_NAME = "collm_nas";

/**
 * Returns the run name, tags and metadata of a search's root run.
 * LangChain passes tags and metadata on to every child run, so LangSmith
 * can filter a project's runs by space and strategy.
 */
export function searchTraceConfig(
  task: Pick<SearchTask, "space" | "budget" | "candidatesPerRound" | "constraints" | "seed">,
  strategy: string,
) {
  return {
    runName: SEARCH_RUN_NAME,
    tags: ["collm-nas", `space:${task.space}`, `strategy:${strategy}`],
    metadata: {
      space: task.space,
      strategy,
      budget: task.budget,
      candidates_per_round: task.candidatesPerRound,
      constraints: task.constraints,
      seed: task.seed,
    },
  };
}
