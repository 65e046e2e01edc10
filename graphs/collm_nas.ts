/**
 * The CoLLM-NAS graph as served by the LangGraph dev server and Studio
 * (see langgraph.json). Run settings such as the benchmark table and the
 * LLM come from the run's configuration (`config.context` or
 * `config.configurable`, see src/graph/configuration.ts); the input is the
 * task, and the output the search's results.
 */
import { createSearchGraph } from "../src/graph/build.ts";
import { SearchConfigurationSchema } from "../src/graph/configuration.ts";
import { resolveConfiguredRuntime } from "../src/graph/configured-runtime.ts";
import { SearchInputSchema, SearchOutputSchema } from "../src/graph/io-schemas.ts";
import { SEARCH_RUN_NAME } from "../src/graph/trace-metadata.ts";

/**
 * Every round takes at least five graph steps, so LangGraph's default
 * limit of 25 steps would stop a search after a few rounds. The search
 * ends by itself when its budget is spent, so the limit here only guards
 * against a bug; a run may still pass its own `recursionLimit`.
 */
const STEP_LIMIT = 1_000_000;

export const graph = createSearchGraph({
  runtime: resolveConfiguredRuntime,
  schemas: {
    input: SearchInputSchema,
    output: SearchOutputSchema,
    context: SearchConfigurationSchema,
  },
}).withConfig({ recursionLimit: STEP_LIMIT, runName: SEARCH_RUN_NAME });
