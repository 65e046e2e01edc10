import { Rng } from "../util/random.ts";
import {
  checkConstraints,
  ConstraintParseError,
  formatConstraint,
  parseConstraints,
} from "./constraints.ts";
import { createNb201Space } from "./nb201.ts";
import type { Cost, SearchSpace, SpaceOptions } from "./types.ts";

/** Names of the spaces the CLI and the graph accept. */
export const SPACE_NAMES = ["nb201"] as const;

/** Creates a search space by name; throws `RangeError` for an unknown one. */
export function createSpace(name: string, options: SpaceOptions = {}): SearchSpace {
  switch (name) {
    case "nb201":
      return createNb201Space(options) as SearchSpace;
    default:
      throw new RangeError(
        `unknown search space "${name}"; expected one of: ${SPACE_NAMES.join(", ")}`,
      );
  }
}

/**
 * Builds the constraint check of a search: it returns why a cost violates
 * the constraints, with by how much, or null when the cost meets them.
 * Returns undefined when the expression is empty. Throws
 * `ConstraintParseError` for an expression that does not parse.
 */
export function buildCostCheck(
  expression: string,
  space?: SearchSpace,
): ((cost: Cost) => string | null) | undefined {
  if (expression.trim() === "") return undefined;
  const constraints = parseConstraints(expression);
  if (space) {
    // A metric the space's cost model lacks can never be checked, so every
    // proposal would be rejected: fail before the search starts.
    const sample = space.cost(space.sample(new Rng(0)));
    const unknown = checkConstraints(sample, constraints).unknown;
    if (unknown.length > 0) {
      throw new ConstraintParseError(
        `constraint ${formatConstraint(unknown[0])} cannot be checked in space ${space.name}: ` +
          `its cost model has no ${unknown[0].metric}` +
          (unknown[0].metric === "latency" ? "; pass a latency table where the space supports one" : ""),
      );
    }
  }
  return (cost) => {
    const check = checkConstraints(cost, constraints);
    if (check.ok) return null;
    const reasons = check.violations.map((v) => v.message);
    for (const constraint of check.unknown) {
      reasons.push(`${formatConstraint(constraint)} cannot be checked: the space has no ${constraint.metric} model`);
    }
    return reasons.join("; ");
  };
}
