import type { RunnableConfig } from "@langchain/core/runnables";
import { z } from "zod";
import { readEnvironment } from "../config.ts";
import { CachedEvaluator } from "../evaluators/cache.ts";
import { NB201_DATASET_COLUMNS, TableEvaluator } from "../evaluators/table.ts";
import { createChatModel } from "../llm/models.ts";
import { createSpace, SPACE_NAMES } from "../spaces/registry.ts";
import type { SearchRuntime } from "./runtime.ts";

/** Run settings read from `config.configurable`. */
export interface ConfigurableSettings {
  space?: string;
  /** Benchmark table CSV for the table evaluator. */
  benchmark?: string;
  dataset?: keyof typeof NB201_DATASET_COLUMNS;
  metric?: string;
  /** "none" or "openai:MODEL" for both roles. */
  llm?: string;
  navigatorLlm?: string;
  generatorLlm?: string;
  baseUrl?: string;
  temperature?: number;
}

const llmSpec = z.string().regex(/^(none|openai:.+)$/, { message: "expected none or openai:MODEL" });

/** Checks the configurable settings; unknown keys (thread_id, say) are dropped. */
const ConfigurableSchema = z.object({
  space: z.enum(SPACE_NAMES).optional(),
  benchmark: z.string().min(1).optional(),
  dataset: z.enum(Object.keys(NB201_DATASET_COLUMNS) as [string, ...string[]]).optional(),
  metric: z.string().min(1).optional(),
  llm: llmSpec.optional(),
  navigatorLlm: llmSpec.optional(),
  generatorLlm: llmSpec.optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  temperature: z.number().min(0).max(2).optional(),
});

const cache = new Map<string, Promise<SearchRuntime>>();

/**
 * Resolves the runtime of a run from its configurable settings, for
 * graphs served by the LangGraph dev server. Runtimes are cached by
 * settings, so a table is loaded once per server.
 */
export function resolveConfiguredRuntime(config: RunnableConfig): Promise<SearchRuntime> {
  const parsed = ConfigurableSchema.safeParse(config.configurable ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return Promise.reject(
      new RangeError(`invalid configurable setting "${issue.path.join(".")}": ${issue.message}`),
    );
  }
  const settings: ConfigurableSettings = parsed.data;
  const key = JSON.stringify(settings);
  let runtime = cache.get(key);
  if (!runtime) {
    runtime = buildRuntime(settings);
    cache.set(key, runtime);
    runtime.catch(() => cache.delete(key));
  }
  return runtime;
}

async function buildRuntime(settings: ConfigurableSettings): Promise<SearchRuntime> {
  const env = readEnvironment();
  const dataset = settings.dataset ?? "cifar10";
  const space = createSpace(settings.space ?? "nb201", { dataset });
  if (!settings.benchmark) {
    throw new RangeError(
      "no evaluator configured; set configurable.benchmark to a NAS-Bench-201 table CSV",
    );
  }
  const columns = NB201_DATASET_COLUMNS[dataset];
  if (!columns) {
    throw new RangeError(
      `unknown dataset "${dataset}"; expected one of: ${Object.keys(NB201_DATASET_COLUMNS).join(", ")}`,
    );
  }
  const evaluator = new CachedEvaluator(
    await TableEvaluator.load({ path: settings.benchmark, metric: settings.metric ?? columns.test }),
  );
  const model = (spec: string | undefined) => {
    const chosen = spec ?? settings.llm ?? env.llm ?? "none";
    if (chosen === "none") return undefined;
    return createChatModel({
      spec: chosen,
      temperature: settings.temperature ?? 0.6,
      baseURL: settings.baseUrl ?? env.openaiBaseUrl,
      apiKey: env.openaiApiKey,
      timeoutMs: 120_000,
      maxRetries: 3,
    });
  };
  return {
    space,
    evaluator,
    navigatorModel: model(settings.navigatorLlm),
    generatorModel: model(settings.generatorLlm),
  };
}
