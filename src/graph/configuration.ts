import type { RunnableConfig } from "@langchain/core/runnables";
import { z } from "zod";
import { NB201_DATASET_COLUMNS } from "../evaluators/table.ts";
import { SPACE_NAMES } from "../spaces/registry.ts";
import type { SearchTask } from "./state.ts";
import { SearchTaskSchema } from "./task.ts";

const llmSpec = z
  .string()
  .regex(/^(none|openai:.+)$/, { message: "expected none or openai:MODEL" });

const temperature = z.number().min(0).max(2);

const DATASETS = Object.keys(NB201_DATASET_COLUMNS) as [string, ...string[]];

const task = SearchTaskSchema.shape;

/**
 * Run configuration of the served graph: the search space, the evaluator,
 * the LLMs and the task settings a run's input may leave out. LangGraph
 * Studio shows each field with its description. A run reads it from
 * `config.context` and `config.configurable`; a key in both takes the
 * context's value. Unknown keys (thread_id, say) are ignored.
 */
export const SearchConfigurationSchema = z.object({
  space: z.enum(SPACE_NAMES).default("nb201").describe("Search space"),
  benchmark: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Benchmark table CSV for the NAS-Bench-201 space (arch_str and metric columns), " +
        "as a path on the server",
    ),
  dataset: z
    .enum(DATASETS)
    .default("cifar10")
    .describe("NAS-Bench-201 dataset; picks the table's default metric column"),
  metric: z
    .string()
    .min(1)
    .optional()
    .describe("Table column used as the search signal (default: the dataset's 200-epoch test accuracy)"),
  supernet: z
    .string()
    .min(1)
    .optional()
    .describe("ONNX weight-sharing supernet for the NAS-Bench-201 space, as a path on the server"),
  supernetData: z
    .string()
    .min(1)
    .optional()
    .describe("Folder with the supernet's meta.json and data files (default: the supernet's folder)"),
  llm: llmSpec
    .optional()
    .describe(
      'LLM of both roles: "none" for the offline policy or "openai:MODEL" ' +
        "(default: COLLM_NAS_LLM, else none)",
    ),
  navigatorLlm: llmSpec.optional().describe("Navigator LLM; overrides llm"),
  generatorLlm: llmSpec.optional().describe("Generator LLM; overrides llm"),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      "Base URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 " +
        "(default: OPENAI_BASE_URL, else OpenAI)",
    ),
  temperature: temperature.default(0.6).describe("Sampling temperature of both LLMs"),
  navigatorTemperature: temperature.optional().describe("Navigator temperature; overrides temperature"),
  generatorTemperature: temperature.optional().describe("Generator temperature; overrides temperature"),
  structuredOutput: z
    .enum(["auto", "json_schema", "tool", "text"])
    .default("auto")
    .describe("How the Generator asks for JSON"),
  budget: task.budget.describe("Evaluations in all, unless the input's task sets budget"),
  candidatesPerRound: task.candidatesPerRound.describe(
    "Candidates per round, unless the input's task sets candidatesPerRound",
  ),
  target: task.target.describe(
    "Stop when the best accuracy (percent) reaches this value, unless the input's task sets target",
  ),
  maxRounds: task.maxRounds.describe("Round cap, unless the input's task sets maxRounds"),
  constraints: task.constraints.describe(
    "Cost constraints such as flops<=100,params<=1.0 (MFLOPs, M params, ms), " +
      "unless the input's task sets constraints",
  ),
  seed: task.seed.describe("Random seed, unless the input's task sets seed"),
});

export type SearchConfiguration = z.infer<typeof SearchConfigurationSchema>;

/** Task fields that the configuration may set. */
export const taskDefaultFields = [
  "space",
  "budget",
  "candidatesPerRound",
  "target",
  "maxRounds",
  "constraints",
  "seed",
] as const;

/**
 * Reads the configuration of a run from `config.configurable` and
 * `config.context`. Throws a `RangeError` naming the first invalid setting.
 */
export function readConfiguration(config: RunnableConfig): SearchConfiguration {
  const context = (config as { context?: unknown }).context;
  const merged = {
    ...(config.configurable ?? {}),
    ...(context !== null && typeof context === "object" ? context : {}),
  };
  const parsed = SearchConfigurationSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(
      `invalid configurable setting "${issue.path.join(".")}": ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Returns the task fields a configuration sets, as defaults for a run's task. */
export function taskDefaults(settings: SearchConfiguration): Partial<SearchTask> {
  const defaults: Partial<Record<(typeof taskDefaultFields)[number], unknown>> = {};
  for (const field of taskDefaultFields) defaults[field] = settings[field];
  return defaults as Partial<SearchTask>;
}
