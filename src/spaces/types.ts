import type { z } from "zod";
import type { Rng } from "../util/random.ts";

/** Cost of one architecture. Missing fields are unknown for the space. */
export interface Cost {
  /** Millions of multiply-adds at the space's input resolution. */
  flopsM?: number;
  /** Millions of parameters. */
  paramsM?: number;
  /** Milliseconds, from a latency table where the space has one. */
  latencyMs?: number;
}

/** Outcome of parsing one proposal from an LLM or a user. */
export type ParseResult<A> =
  | {
      ok: true;
      arch: A;
      /** Repairs applied to make the proposal valid; empty when none. */
      repairs: string[];
    }
  | { ok: false; reason: string };

/**
 * One design dimension of a space seen as a categorical gene. Policies that
 * know nothing of the space (random search, evolution, the offline
 * Navigator) work on genes.
 */
export interface Gene {
  /** Name used in prompts and strategies, e.g. "edge 1<-0" or "stage 2 depth". */
  name: string;
  /** Dimension group for the Navigator's per-dimension directions. */
  dimension: string;
  /** Allowed values in a fixed order. */
  choices: readonly (string | number)[];
}

/**
 * A search space: encoding, validation, sampling, mutation and cost. It
 * knows nothing of LLMs, prompts or LangGraph.
 *
 * `A` is the in-memory architecture. `toJSON` gives the JSON form written
 * to results and expected from the Generator; `format` gives the compact
 * string used in prompts.
 */
export interface SearchSpace<A = unknown> {
  /** Registry name, e.g. "nb201" or "ofa-mbv3". */
  readonly name: string;
  /** Text describing the space for the Navigator and Generator prompts. */
  readonly description: string;
  /** Design dimensions, one Navigator direction each. */
  readonly dimensions: readonly string[];
  /** Categorical encoding of an architecture. */
  readonly genes: readonly Gene[];
  /**
   * zod schema of one candidate as the Generator writes it. It must be
   * accepted by OpenAI's strict structured output: objects with every
   * field required, no optional fields.
   */
  readonly candidateSchema: z.ZodType;
  /** One-line example of a candidate in the Generator's output format. */
  readonly candidateExample: string;
  /**
   * Prior weights per gene over its choices, from what is known about such
   * networks. The offline policy starts from them; absent means uniform.
   */
  readonly prior?: readonly (readonly number[])[];

  /** Validates and repairs a proposal (JSON form or string). */
  parse(input: unknown): ParseResult<A>;
  /** Canonical key; two architectures with the same key are one network. */
  key(arch: A): string;
  /** Compact string for prompts and logs. */
  format(arch: A): string;
  /** JSON form for results and the Generator's output. */
  toJSON(arch: A): unknown;

  /** Gene values of an architecture, one per entry of `genes`. */
  encode(arch: A): (string | number)[];
  /** Architecture from gene values; repairs what the genes leave open. */
  decode(values: readonly (string | number)[]): A;

  /** Uniform random architecture. */
  sample(rng: Rng): A;
  /** Changes one gene, or more where the space needs it to stay valid. */
  mutate(arch: A, rng: Rng): A;
  /** Uniform crossover of two parents. */
  crossover(a: A, b: A, rng: Rng): A;

  /** Analytic cost, or an empty object where the space has none. */
  cost(arch: A): Cost;
}

/** Search-space options that do not change the encoding. */
export interface SpaceOptions {
  /** Dataset whose network size the cost model uses, where it matters. */
  dataset?: string;
  /** Treat isomorphic cells as one architecture in `key` (nb201). */
  isomorphicDedup?: boolean;
}
