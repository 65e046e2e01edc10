import { createAutoFormerSpace, type AutoFormerConfig } from "./autoformer.ts";
import { createOfaMbv3Space, type OfaLatencyTable } from "./ofa-mbv3.ts";
import { createSposSpace } from "./spos-shufflenet.ts";
import type { Cost, SearchSpace } from "./types.ts";

/** Cost of one proposal, with what a caller should see besides the numbers. */
export interface CostReport {
  cost: Cost;
  /** Repairs applied to read the proposal, as in `ParseResult`. */
  repairs: string[];
  /**
   * Notes on values outside the space's choice lists and on cost parts
   * that could not be computed.
   */
  warnings: string[];
}

/** Outcome of costing a proposal that may lie outside a space's choices. */
export type StructuralCostResult = ({ ok: true } & CostReport) | { ok: false; reason: string };

/**
 * A search space whose cost model also covers structurally valid networks
 * outside its choice lists, such as published subnets evaluated at a
 * resolution or with a layer setting the space does not offer.
 */
export interface MacroSearchSpace<A> extends SearchSpace<A> {
  /**
   * Costs a proposal that only has to describe a network the cost model
   * can build. Values outside the choice lists become warnings, and a
   * proposal the model cannot build is rejected with a reason.
   */
  structuralCost(input: unknown): StructuralCostResult;
}

/** Names of the spaces that `createMacroSpace` and `costOf` accept. */
export const MACRO_SPACE_NAMES = [
  "ofa-mbv3",
  "spos-shufflenet",
  "autoformer-t",
  "autoformer-s",
  "autoformer-b",
] as const;

export type MacroSpaceName = (typeof MACRO_SPACE_NAMES)[number];

/** Options of the macro spaces; each space reads the ones that apply. */
export interface MacroSpaceOptions {
  /** OFA MobileNetV3 width multiplier, 1.0 or 1.2 (default 1.2). */
  width?: number;
  /** OFA per-layer latency table; without it the cost has no latency. */
  latencyTable?: OfaLatencyTable;
  /** AutoFormer supernet configuration; required for autoformer-*. */
  autoformerConfig?: AutoFormerConfig;
}

/** A proposal whose cost cannot be computed, with the reason. */
export class ArchitectureCostError extends Error {
  override name = "ArchitectureCostError";
}

/**
 * Creates a macro space by name. Throws `RangeError` for an unknown name
 * and `TypeError` when an AutoFormer space has no configuration.
 */
export function createMacroSpace(
  name: string,
  options: MacroSpaceOptions = {},
): MacroSearchSpace<unknown> {
  switch (name) {
    case "ofa-mbv3":
      return createOfaMbv3Space({
        width: options.width,
        latencyTable: options.latencyTable,
      }) as MacroSearchSpace<unknown>;
    case "spos-shufflenet":
      return createSposSpace() as MacroSearchSpace<unknown>;
    case "autoformer-t":
    case "autoformer-s":
    case "autoformer-b":
      if (!options.autoformerConfig) {
        throw new TypeError(
          `space "${name}" needs an AutoFormer supernet configuration ` +
            `(a YAML file with SUPERNET and SEARCH_SPACE sections)`,
        );
      }
      return createAutoFormerSpace(options.autoformerConfig, {
        name,
      }) as MacroSearchSpace<unknown>;
    default:
      throw new RangeError(
        `unknown space "${name}"; expected one of: ${MACRO_SPACE_NAMES.join(", ")}`,
      );
  }
}

/**
 * Computes the cost of an architecture in its JSON form. An architecture
 * outside the space's choice lists but structurally valid (a published
 * subnet at another resolution, say) still gets a cost, with a warning for
 * each value outside the lists.
 *
 * @param space a space object, or a name from `MACRO_SPACE_NAMES`
 * @param input the architecture's JSON form, or a string the space parses
 * @param options space options, used only when `space` is a name
 * @throws ArchitectureCostError when the input describes no network the
 *   cost model can build; the message gives the reason
 * @example
 * const { cost, warnings } = costOf("spos-shufflenet", [2, 1, 0, 1, ...]);
 */
export function costOf(
  space: SearchSpace<unknown> | string,
  input: unknown,
  options: MacroSpaceOptions = {},
): CostReport {
  const target = typeof space === "string" ? createMacroSpace(space, options) : space;

  if ("structuralCost" in target && typeof target.structuralCost === "function") {
    const result = (target as MacroSearchSpace<unknown>).structuralCost(input);
    if (!result.ok) throw new ArchitectureCostError(result.reason);
    return { cost: result.cost, repairs: result.repairs, warnings: result.warnings };
  }

  const parsed = target.parse(input);
  if (!parsed.ok) throw new ArchitectureCostError(parsed.reason);
  return { cost: target.cost(parsed.arch), repairs: parsed.repairs, warnings: [] };
}
