import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { CachedEvaluator } from "../evaluators/cache.ts";
import { GuardedEvaluator } from "../evaluators/guarded.ts";
import { OnnxSupernetEvaluator } from "../evaluators/onnx-supernet.ts";
import { NB201_DATASET_COLUMNS, TableEvaluator } from "../evaluators/table.ts";
import type { EvaluationRequest, Evaluator } from "../evaluators/types.ts";
import type { SearchSpace } from "../spaces/types.ts";
import type { SearchConfiguration } from "./configuration.ts";

/**
 * Supernet bundled with the repository, the default evaluator of the
 * NAS-Bench-201 space when no table or supernet is configured.
 *
 * NOTE: used only when the file exists; without it a run must configure
 * a benchmark table or a supernet.
 */
export const BUNDLED_SUPERNET = fileURLToPath(
  new URL("../../examples/fmnist-nb201/supernet.onnx", import.meta.url),
);

/** The settings that choose an evaluator; runs that share them share one. */
type EvaluatorSettings = Pick<
  SearchConfiguration,
  "space" | "benchmark" | "dataset" | "metric" | "supernet" | "supernetData"
>;

const evaluators = new Map<string, Promise<Evaluator>>();

/**
 * Returns the evaluator a configuration names: a benchmark table, an ONNX
 * supernet, or the bundled supernet. Evaluators are cached by their
 * settings, so a table is read once per server and repeated architectures
 * are not evaluated again. Throws a `RangeError` when no evaluator applies.
 */
export function configuredEvaluator(
  settings: EvaluatorSettings,
  space: SearchSpace,
): Promise<Evaluator> {
  const key = JSON.stringify([
    settings.space,
    settings.benchmark,
    settings.dataset,
    settings.metric,
    settings.supernet,
    settings.supernetData,
  ]);
  let evaluator = evaluators.get(key);
  if (!evaluator) {
    evaluator = createEvaluator(settings, space).then(
      (inner) => new CachedEvaluator(new GuardedEvaluator(inner)),
    );
    evaluators.set(key, evaluator);
    evaluator.catch(() => evaluators.delete(key));
  }
  return evaluator;
}

/**
 * The supernet a configuration evaluates with: its own, or the bundled one
 * for nb201 when no table is set. Undefined when a table evaluates.
 */
export function configuredSupernet(
  settings: Pick<EvaluatorSettings, "benchmark" | "supernet">,
  spaceName: string,
): string | undefined {
  if (settings.benchmark && settings.supernet) {
    throw new RangeError("set either benchmark or supernet in the configuration, not both");
  }
  if (settings.supernet) return settings.supernet;
  if (!settings.benchmark && spaceName === "nb201" && existsSync(BUNDLED_SUPERNET)) {
    return BUNDLED_SUPERNET;
  }
  return undefined;
}

async function createEvaluator(settings: EvaluatorSettings, space: SearchSpace): Promise<Evaluator> {
  if (settings.benchmark && settings.supernet) {
    throw new RangeError("set either benchmark or supernet in the configuration, not both");
  }
  const supernet = configuredSupernet(settings, space.name);
  if (!settings.benchmark && !supernet) {
    throw new RangeError(
      `no evaluator configured for space ${space.name}; set benchmark to a NAS-Bench-201 ` +
        "table CSV or supernet to an ONNX supernet",
    );
  }
  if (space.name !== "nb201") {
    throw new RangeError(
      `benchmark tables and supernets are for the nb201 space, not "${space.name}"`,
    );
  }
  if (settings.benchmark) {
    const columns = NB201_DATASET_COLUMNS[settings.dataset];
    return TableEvaluator.load({
      path: settings.benchmark,
      metric: settings.metric ?? columns.test,
      toTableKey: (arch) => String(arch),
    });
  }
  const modelPath = supernet as string;
  const evaluator = await OnnxSupernetEvaluator.create({
    modelPath,
    dataDir: settings.supernetData ?? dirname(modelPath),
  });
  return withSpaceArchitectures(evaluator, space);
}

/**
 * Passes architectures to `inner` in the space's parsed form (six
 * operation names for NAS-Bench-201), because the search sends the
 * canonical string and the supernet reads operation lists.
 */
function withSpaceArchitectures(inner: Evaluator, space: SearchSpace): Evaluator {
  const toParsed = (request: EvaluationRequest): EvaluationRequest => {
    const parsed = space.parse(request.arch);
    return parsed.ok ? { ...request, arch: parsed.arch } : request;
  };
  return {
    name: inner.name,
    evaluate: (requests, options) => inner.evaluate(requests.map(toParsed), options),
    close: inner.close ? () => inner.close!() : undefined,
  };
}
