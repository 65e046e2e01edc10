import { END, START, StateGraph } from "@langchain/langgraph";
import type { BaseCheckpointSaver, LangGraphRunnableConfig } from "@langchain/langgraph";
import { RunnableLambda } from "@langchain/core/runnables";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { setImmediate as nextMacrotask } from "node:timers/promises";
import type { z } from "zod";
import { createEvaluateTool } from "../../tools/evaluate-architectures.ts";
import { runCoordinator } from "../roles/coordinator.ts";
import { runGenerator } from "../roles/generator.ts";
import { runNavigator } from "../roles/navigator.ts";
import { reviewStrategy, routeAfterReview } from "./review.ts";
import type { RuntimeResolver, SearchRuntime } from "./runtime.ts";
import { SearchState, type CoordinatorRoute, type SearchStateType } from "./state.ts";
import { strategyExcerpt, withRoundMetadata } from "./trace-metadata.ts";
import { withTaskConstraints } from "./task-constraints.ts";

/**
 * Input, output and context schemas of a graph that a LangGraph server
 * serves; the server and Studio show them as forms. The input schema
 * validates a run's input, and the output schema limits what a run
 * returns and streams as values. The state keeps every channel.
 */
export interface SearchGraphSchemas {
  input?: z.ZodObject;
  output?: z.ZodObject;
  context?: z.ZodObject;
}

export interface SearchGraphOptions {
  /** The live objects of a run, or a function that resolves them per run. */
  runtime: SearchRuntime | RuntimeResolver;
  checkpointer?: BaseCheckpointSaver;
  schemas?: SearchGraphSchemas;
}

/** Sends the search where the Coordinator decided. */
export function routeAfterCoordinator(state: SearchStateType): CoordinatorRoute {
  return state.stopReason ? END : state.route;
}

/** Wraps a router so that its trace run has the router's name, not "RunnableLambda". */
function namedRouter<R>(route: (state: SearchStateType) => R) {
  return RunnableLambda.from(route).withConfig({ runName: route.name });
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

  // A runtime without its own constraint check enforces the task's.
  const resolveFor = async (state: SearchStateType, config: LangGraphRunnableConfig) =>
    withTaskConstraints(await resolve(config), state.task);

  const evaluateTool = createEvaluateTool(async (config) => {
    const runtime = await resolve(config);
    return { space: runtime.space, evaluator: runtime.evaluator };
  });
  const evaluateNode = new ToolNode([evaluateTool]);

  // The schemas change what a server shows and what a run outputs, not the
  // state, so the builder keeps the type of the plain state graph.
  const graph = new StateGraph(SearchState, options.schemas as {} | undefined)
    .addNode("navigator", async (state, config: LangGraphRunnableConfig) =>
      runNavigator(state, await resolveFor(state, config), config),
    )
    .addNode("review", reviewStrategy)
    .addNode("generator", async (state, config: LangGraphRunnableConfig) =>
      runGenerator(state, await resolveFor(state, config), config),
    )
    .addNode("coordinator", async (state, config: LangGraphRunnableConfig) =>
      runCoordinator(state, await resolveFor(state, config), config),
    )
    .addNode("evaluate_architectures", async (state, config: LangGraphRunnableConfig) => {
      // A search on a benchmark table resolves every step at once, as one
      // chain of promise callbacks that would hold back signal handlers
      // and timers until the search ends. Yielding once per round lets
      // Ctrl-C abort the search.
      await nextMacrotask();
      // An abort during the yield ends this node's run; a tool run started
      // after it would appear in the trace as a run of its own.
      config.signal?.throwIfAborted();
      // The tool run gets the round's metadata; ToolNode adds no run of its own.
      return evaluateNode.invoke(
        state,
        withRoundMetadata(config, {
          round: state.round,
          candidates: state.pending.length,
          evaluations: state.history.length,
          strategy_excerpt: strategyExcerpt(state.strategy),
        }),
      );
    })
    .addEdge(START, "navigator")
    .addEdge("navigator", "review")
    .addConditionalEdges("review", namedRouter(routeAfterReview), ["generator", END])
    .addEdge("generator", "coordinator")
    .addConditionalEdges("coordinator", namedRouter(routeAfterCoordinator), [
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
