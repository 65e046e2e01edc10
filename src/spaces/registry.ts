import { Rng } from "../util/random.ts";
import {
  checkConstraints,
  ConstraintParseError,
  formatConstraint,
  parseConstraints,
} from "./constraints.ts";
import { loadAutoFormerConfig } from "./autoformer.ts";
import { createMacroSpace, MACRO_SPACE_NAMES, type MacroSpaceOptions } from "./cost.ts";
import { createNb201Space, type Nb201Network } from "./nb201.ts";
import { loadOfaLatencyTable } from "./ofa-mbv3.ts";
import type { Cost, SearchSpace, SpaceOptions } from "./types.ts";

/** Names of the spaces the CLI and the graph accept. */
export const SPACE_NAMES = ["nb201", ...MACRO_SPACE_NAMES] as const;

/** Options of every space; each space reads the ones that apply. */
export type AnySpaceOptions = SpaceOptions & MacroSpaceOptions & { network?: Nb201Network };

/**
 * Creates a search space by name. Throws `RangeError` for an unknown name
 * and `TypeError` when an AutoFormer space has no configuration.
 */
export function createSpace(name: string, options: AnySpaceOptions = {}): SearchSpace {
  if (name === "nb201") return createNb201Space(options) as SearchSpace;
  if ((MACRO_SPACE_NAMES as readonly string[]).includes(name)) {
    return createMacroSpace(name, options) as SearchSpace;
  }
  throw new RangeError(
    `unknown search space "${name}"; expected one of: ${SPACE_NAMES.join(", ")}`,
  );
}

/** Files that some spaces read, by path. */
export interface SpaceFiles {
  /** OFA per-layer latency table (JSON). */
  latencyTable?: string;
  /** AutoFormer supernet configuration (YAML). */
  autoformerConfig?: string;
}

/**
 * Creates a space by name after loading the files it reads. The loaders'
 * errors name the file; a `RangeError` says which file a space needs.
 */
export async function createSpaceWithFiles(
  name: string,
  options: SpaceOptions & { width?: number; network?: Nb201Network },
  files: SpaceFiles,
): Promise<SearchSpace> {
  const macro: MacroSpaceOptions = { width: options.width };
  if (files.latencyTable) {
    if (name !== "ofa-mbv3") {
      throw new RangeError(`a latency table applies to --space ofa-mbv3 only, not "${name}"`);
    }
    macro.latencyTable = await loadOfaLatencyTable(files.latencyTable);
  }
  if (name.startsWith("autoformer-")) {
    if (!files.autoformerConfig) {
      throw new RangeError(
        `space "${name}" needs its supernet configuration: pass --autoformer-config FILE ` +
          `(a YAML file with SUPERNET and SEARCH_SPACE sections)`,
      );
    }
    macro.autoformerConfig = await loadAutoFormerConfig(files.autoformerConfig);
  }
  return createSpace(name, { ...options, ...macro });
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
