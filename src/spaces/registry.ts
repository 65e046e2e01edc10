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

/** Builds the constraint check of a search; undefined when unconstrained. */
export function buildCostCheck(
  expression: string,
): ((cost: Cost) => string | null) | undefined {
  if (expression.trim() === "") return undefined;
  throw new RangeError("constraints are not supported yet");
}
