import { buildCostCheck } from "../spaces/registry.ts";
import type { SearchRuntime } from "./runtime.ts";
import type { SearchTask } from "./state.ts";

const checked = new WeakMap<SearchRuntime, Map<string, SearchRuntime>>();

/**
 * Returns the runtime with a constraint check built from the task's
 * constraints when the runtime has no check of its own, as with a graph
 * served by the dev server, whose task arrives in the run's input. The
 * result is cached per runtime and constraint text.
 *
 * Throws `ConstraintParseError` when a constraint names a metric the
 * space's cost model lacks.
 */
export function withTaskConstraints(
  runtime: SearchRuntime,
  task: Partial<SearchTask> | undefined,
): SearchRuntime {
  const constraints = typeof task?.constraints === "string" ? task.constraints.trim() : "";
  if (runtime.checkCost || constraints === "") return runtime;

  let byConstraints = checked.get(runtime);
  if (!byConstraints) {
    byConstraints = new Map();
    checked.set(runtime, byConstraints);
  }
  let constrained = byConstraints.get(constraints);
  if (!constrained) {
    constrained = { ...runtime, checkCost: buildCostCheck(constraints, runtime.space) };
    byConstraints.set(constraints, constrained);
  }
  return constrained;
}
