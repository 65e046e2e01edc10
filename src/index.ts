/**
 * collm-nas: CoLLM-NAS, LLM-guided neural architecture search, as a
 * LangGraph.js state graph.
 */
export { createSearchGraph, recursionLimitFor, routeAfterCoordinator } from "./graph/build.ts";
export type { SearchGraphOptions } from "./graph/build.ts";
export type { SearchRuntime, RuntimeResolver } from "./graph/runtime.ts";
export { SearchState } from "./graph/state.ts";
export type {
  Best,
  Candidate,
  CandidateSource,
  EvaluationRecord,
  SearchStateType,
  SearchTask,
  SearchUpdate,
} from "./graph/state.ts";
export { normalizeTask, SearchTaskSchema } from "./graph/task.ts";
export { runSearch } from "./search/run.ts";
export type { SearchOptions, SearchOutcome, StrategyName } from "./search/run.ts";
export { createEvaluateTool, EVALUATE_TOOL_NAME } from "../tools/evaluate-architectures.ts";
export { createSearchArchitecturesTool } from "../tools/search-architectures.ts";
export { CachedEvaluator } from "./evaluators/cache.ts";
export { TableEvaluator, NB201_DATASET_COLUMNS } from "./evaluators/table.ts";
export type { Evaluator, EvaluationRequest, EvaluationResult } from "./evaluators/types.ts";
export { createSpace, buildCostCheck } from "./spaces/registry.ts";
export { createNb201Space } from "./spaces/nb201.ts";
export type { SearchSpace, Cost, Gene, ParseResult } from "./spaces/types.ts";
export { createChatModel } from "./llm/models.ts";
