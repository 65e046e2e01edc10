import { tool } from "@langchain/core/tools";
import type { RunnableConfig } from "@langchain/core/runnables";
import { z } from "zod";
import type { Evaluator, EvaluationResult } from "../src/evaluators/types.ts";
import type { Cost, SearchSpace } from "../src/spaces/types.ts";

/** Result of one architecture, as the tool returns it. */
export interface ToolEvaluation {
  key: string;
  arch: unknown;
  cost: Cost;
  result: EvaluationResult;
}

/** What the tool needs for a run. */
export interface EvaluationBackend {
  space: SearchSpace;
  evaluator: Evaluator;
}

export const EVALUATE_TOOL_NAME = "evaluate_architectures";

const inputSchema = z.object({
  architectures: z
    .array(z.unknown())
    .describe(
      "Architectures in the search space's JSON form, e.g. NAS-Bench-201 cell strings",
    ),
});

/**
 * Creates the `evaluate_architectures` tool. Each architecture is parsed by
 * the search space, costed and evaluated; one that fails to parse or to
 * evaluate gets an error entry, so the tool never throws on bad input.
 *
 * The tool returns a short JSON summary as content (what a model sees) and
 * the full results, including report-only metrics, as the artifact.
 *
 * @param resolveBackend returns the space and evaluator for a run's config
 */
export function createEvaluateTool(
  resolveBackend: (config: RunnableConfig) => Promise<EvaluationBackend>,
) {
  return tool(
    async ({ architectures }, config) => {
      const { space, evaluator } = await resolveBackend(config);
      const parsed = architectures.map((input) => {
        const result = space.parse(input);
        if (!result.ok) return { input, error: result.reason };
        return { input, arch: result.arch, key: space.key(result.arch) };
      });
      const valid = parsed.filter((p) => p.error === undefined);
      const results = await evaluator.evaluate(
        valid.map((p) => ({ key: p.key!, arch: space.toJSON(p.arch) })),
        { signal: config?.signal },
      );
      let next = 0;
      const evaluations: ToolEvaluation[] = parsed.map((p) => {
        if (p.error !== undefined) {
          return {
            key: "",
            arch: p.input,
            cost: {},
            result: { key: "", ok: false, error: p.error },
          };
        }
        return {
          key: p.key!,
          arch: space.toJSON(p.arch),
          cost: space.cost(p.arch),
          result: results[next++],
        };
      });
      const summary = evaluations.map((e) =>
        e.result.ok
          ? { arch: e.arch, accuracy: round(e.result.accuracy), ...roundCost(e.cost) }
          : { arch: e.arch, error: e.result.error },
      );
      return [JSON.stringify(summary), evaluations];
    },
    {
      name: EVALUATE_TOOL_NAME,
      description:
        "Evaluates neural architectures of the current search space and " +
        "returns each one's accuracy (percent) and cost (MFLOPs, M params, " +
        "ms where known). Invalid architectures get an error entry.",
      schema: inputSchema,
      responseFormat: "content_and_artifact",
    },
  );
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function roundCost(cost: Cost): Cost {
  const out: Cost = {};
  for (const [name, value] of Object.entries(cost)) {
    if (value !== undefined) out[name as keyof Cost] = round(value);
  }
  return out;
}
