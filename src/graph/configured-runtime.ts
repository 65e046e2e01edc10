import type { RunnableConfig } from "@langchain/core/runnables";
import { readEnvironment } from "../config.ts";
import { CachedEvaluator } from "../evaluators/cache.ts";
import { NB201_DATASET_COLUMNS, TableEvaluator } from "../evaluators/table.ts";
import { createChatModel } from "../llm/models.ts";
import { createSpace } from "../spaces/registry.ts";
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

const cache = new Map<string, Promise<SearchRuntime>>();

/**
 * Resolves the runtime of a run from its configurable settings, for
 * graphs served by the LangGraph dev server. Runtimes are cached by
 * settings, so a table is loaded once per server.
 */
export function resolveConfiguredRuntime(config: RunnableConfig): Promise<SearchRuntime> {
  const configurable = (config.configurable ?? {}) as ConfigurableSettings;
  const settings: ConfigurableSettings = {
    space: configurable.space,
    benchmark: configurable.benchmark,
    dataset: configurable.dataset,
    metric: configurable.metric,
    llm: configurable.llm,
    navigatorLlm: configurable.navigatorLlm,
    generatorLlm: configurable.generatorLlm,
    baseUrl: configurable.baseUrl,
    temperature: configurable.temperature,
  };
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
