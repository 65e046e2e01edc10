import type { RunnableConfig } from "@langchain/core/runnables";
import { readEnvironment } from "../config.ts";
import { createChatModel } from "../llm/models.ts";
import { dirname, join } from "node:path";
import { readSupernetMeta, supernetNetwork } from "../evaluators/onnx-supernet.ts";
import { createSpace } from "../spaces/registry.ts";
import { readConfiguration, taskDefaults, type SearchConfiguration } from "./configuration.ts";
import { configuredEvaluator, configuredSupernet } from "./configured-evaluator.ts";
import type { SearchRuntime } from "./runtime.ts";

const cache = new Map<string, Promise<SearchRuntime>>();

/**
 * Resolves the runtime of a run from its configuration
 * (`config.configurable` and `config.context`, see `readConfiguration`),
 * for graphs served by the LangGraph dev server. Runtimes are cached by
 * settings and evaluators by theirs, so a table is loaded once per server.
 */
export function resolveConfiguredRuntime(config: RunnableConfig): Promise<SearchRuntime> {
  let settings: SearchConfiguration;
  try {
    settings = readConfiguration(config);
  } catch (error) {
    return Promise.reject(error);
  }
  const key = JSON.stringify(settings);
  let runtime = cache.get(key);
  if (!runtime) {
    runtime = buildRuntime(settings);
    cache.set(key, runtime);
    runtime.catch(() => cache.delete(key));
  }
  return runtime;
}

async function buildRuntime(settings: SearchConfiguration): Promise<SearchRuntime> {
  const env = readEnvironment();
  // With a supernet, the cost model is sized by the supernet's own network.
  const supernet = configuredSupernet(settings, settings.space);
  const network = supernet
    ? supernetNetwork(
        await readSupernetMeta(join(settings.supernetData ?? dirname(supernet), "meta.json")),
      )
    : undefined;
  const space = createSpace(settings.space, { dataset: settings.dataset, network });
  const evaluator = await configuredEvaluator(settings, space);
  const model = (spec: string | undefined, temperature: number | undefined) => {
    const chosen = spec ?? settings.llm ?? env.llm ?? "none";
    if (chosen === "none") return undefined;
    return createChatModel({
      spec: chosen,
      temperature: temperature ?? settings.temperature,
      baseURL: settings.baseUrl ?? env.openaiBaseUrl,
      apiKey: env.openaiApiKey,
      timeoutMs: 120_000,
      maxRetries: 3,
    });
  };
  return {
    space,
    evaluator,
    navigatorModel: model(settings.navigatorLlm, settings.navigatorTemperature),
    generatorModel: model(settings.generatorLlm, settings.generatorTemperature),
    structuredOutput: settings.structuredOutput,
    taskDefaults: taskDefaults(settings),
  };
}
