import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Evaluator } from "../evaluators/types.ts";
import type { StructuredOutputMode } from "../llm/call.ts";
import type { Cost, SearchSpace } from "../spaces/types.ts";
import type { SearchTask } from "./state.ts";

/**
 * The live objects a search runs with. They are not part of the graph
 * state, so a checkpoint holds only data; a resumed search resolves them
 * again from its configuration.
 */
export interface SearchRuntime {
  space: SearchSpace;
  evaluator: Evaluator;
  /** Navigator LLM; absent means the offline policy. */
  navigatorModel?: BaseChatModel;
  /** Generator LLM; absent means the offline policy. */
  generatorModel?: BaseChatModel;
  /**
   * Checks a cost against the search's constraints; returns why it
   * violates them, or null when it meets them. Absent means unconstrained.
   */
  checkCost?: (cost: Cost) => string | null;
  structuredOutput?: StructuredOutputMode;
  /** Navigator exchanges kept in memory (default 3): strategies verbatim, requests summarized. */
  memoryExchanges?: number;
  /** Task fields used where the input's task leaves them out (a served graph's configuration). */
  taskDefaults?: Partial<SearchTask>;
}

export type RuntimeResolver = (config: RunnableConfig) => Promise<SearchRuntime>;
