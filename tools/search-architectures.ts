import { tool } from "@langchain/core/tools";
import { z } from "zod";
import type { RoundStrategy } from "../src/graph/state.ts";
import { runSearch, type SearchOptions } from "../src/search/run.ts";
import { formatArch } from "../src/roles/format.ts";

/** Settings of `createSearchArchitecturesTool`. */
export interface SearchToolOptions
  extends Pick<
    SearchOptions,
    "space" | "evaluator" | "navigatorModel" | "generatorModel" | "structuredOutput" | "checkCost"
  > {
  /** Largest budget a caller may request (default 200). */
  maxBudget?: number;
}

/**
 * Creates `search_architectures`, a tool that runs a bounded CoLLM-NAS
 * search and returns the best architecture, so that an agent can search
 * as one step of its work.
 *
 * @example
 * const searchTool = createSearchArchitecturesTool({ space, evaluator });
 * const agent = createReactAgent({ llm, tools: [searchTool] });
 */
export function createSearchArchitecturesTool(options: SearchToolOptions) {
  const maxBudget = options.maxBudget ?? 200;
  const schema = z.object({
    budget: z
      .number()
      .int()
      .min(1)
      .max(maxBudget)
      .describe(`Evaluations to spend, 1 to ${maxBudget}`),
    target: z
      .number()
      .min(0)
      .max(100)
      .nullable()
      .describe("Stop early when the best accuracy (percent) reaches this; null for none"),
    seed: z.number().int().min(0).nullable().describe("Random seed; null for 0"),
  });
  return tool(
    async ({ budget, target, seed }, config) => {
      const outcome = await runSearch({
        ...options,
        strategy: "collm",
        task: {
          space: options.space.name,
          objective: "maximize the accuracy of the network",
          budget,
          candidatesPerRound: Math.min(10, budget),
          target,
          maxRounds: null,
          constraints: "",
          maxGeneratorRetries: 2,
          seed: seed ?? 0,
        },
        signal: config?.signal,
      });
      const best = outcome.best;
      const lastStrategy: RoundStrategy | undefined = outcome.strategies.at(-1);
      return JSON.stringify({
        best: best
          ? {
              arch: formatArch(options.space, best.arch),
              accuracy: Math.round(best.accuracy * 1000) / 1000,
              round: best.round,
            }
          : null,
        evaluations: outcome.history.length,
        stopReason: outcome.stopReason,
        strategySummary: lastStrategy?.strategy.split("\n").slice(0, 3).join(" ") ?? null,
      });
    },
    {
      name: "search_architectures",
      description:
        `Searches neural architectures in the ${options.space.name} space with ` +
        "CoLLM-NAS and returns the best architecture found, its accuracy and the " +
        "number of evaluations spent.",
      schema,
    },
  );
}
