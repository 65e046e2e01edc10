import { END, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver, LangGraphRunnableConfig } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { createEvaluateTool } from "../../tools/evaluate-architectures.ts";
import { runCoordinator } from "../roles/coordinator.ts";
import { runGenerator } from "../roles/generator.ts";
import { runNavigator } from "../roles/navigator.ts";
import { reviewStrategy, routeAfterReview } from "./review.ts";
import type { RuntimeResolver, SearchRuntime } from "./runtime.ts";
import { SearchState, type CoordinatorRoute, type SearchStateType } from "./state.ts";

export interface SearchGraphOptions {
  /** The live objects of a run, or a function that resolves them per run. */
  runtime: SearchRuntime | RuntimeResolver;
  checkpointer?: BaseCheckpointSaver;
}

/** Sends the search where the Coordinator decided. */
export function routeAfterCoordinator(state: SearchStateType): CoordinatorRoute {
  return state.stopReason ? END : state.route;
}

/**
 * Builds the CoLLM-NAS state graph:
 *
 *   START -> navigator -> review -> generator -> coordinator
 *   review -> END                         (a reviewer stopped the search)
 *   coordinator -> generator              (too few valid candidates; retry)
 *   coordinator -> evaluate_architectures -> coordinator
 *   coordinator -> navigator              (next round)
 *   coordinator -> END                    (budget, target or round cap)
 *
 * The review node passes unless the task has `review: true`; then it
 * interrupts after each strategy, which needs a checkpointer.
 *
 * @example
 * const graph = createSearchGraph({ runtime: { space, evaluator } });
 * const final = await graph.invoke({ task }, { recursionLimit: 10_000 });
 */
export function createSearchGraph(options: SearchGraphOptions) {
  const resolve: RuntimeResolver =
    typeof options.runtime === "function"
      ? options.runtime
      : async () => options.runtime as SearchRuntime;

  const evaluateTool = createEvaluateTool(async (config) => {
    const runtime = await resolve(config);
    return { space: runtime.space, evaluator: runtime.evaluator };
  });

  const graph = new StateGraph(SearchState)
    .addNode("navigator", async (state, config: LangGraphRunnableConfig) =>
      runNavigator(state, await resolve(config), config),
    )
    .addNode("review", reviewStrategy)
    .addNode("generator", async (state, config: LangGraphRunnableConfig) =>
      runGenerator(state, await resolve(config), config),
    )
    .addNode("coordinator", async (state, config: LangGraphRunnableConfig) =>
      runCoordinator(state, await resolve(config), config),
    )
    .addNode("evaluate_architectures", new ToolNode([evaluateTool]))
    .addEdge(START, "navigator")
    .addEdge("navigator", "review")
    .addConditionalEdges("review", routeAfterReview, ["generator", END])
    .addEdge("generator", "coordinator")
    .addConditionalEdges("coordinator", routeAfterCoordinator, [
      "generator",
      "evaluate_architectures",
      "navigator",
      END,
    ])
    .addEdge("evaluate_architectures", "coordinator");

  return graph.compile({ checkpointer: options.checkpointer });
}

/**
 * Graph steps a search may take: each round runs the navigator, the
 * review node, the generator and the coordinator (once per retry), the
 * evaluation tool and the coordinator again. LangGraph's default limit of 25 steps would stop
 * any real search, so runs pass this limit instead.
 */
export function recursionLimitFor(task: {
  budget: number;
  candidatesPerRound: number;
  maxRounds: number | null;
  maxGeneratorRetries: number;
}): number {
  // A round evaluates at least one candidate unless the search stops.
  const rounds = task.maxRounds ?? task.budget;
  const stepsPerRound = 5 + 2 * (task.maxGeneratorRetries + 1);
  return Math.min(rounds, task.budget) * stepsPerRound + 10;
}
