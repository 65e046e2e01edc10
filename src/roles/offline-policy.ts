import type { SearchSpace } from "../spaces/types.ts";
import type { Rng } from "../util/random.ts";
import type {
  EvaluationRecord,
  Guidance,
  SearchTask,
} from "../graph/state.ts";
import {
  eliteSize,
  formatStatistics,
  geneStatistics,
  rankRecords,
} from "./statistics.ts";
import { PrefixSumPicker } from "../util/prefix-sum-picker.ts";
import { historyIndex, parseRecordArch } from "./history-index.ts";

/**
 * Pseudo-count of the prior against the elite counts: with 5, the prior
 * weighs as much as five elite architectures.
 */
const PRIOR_STRENGTH = 5;

/**
 * Writes a strategy from the statistics of the results, with no LLM.
 *
 * The per-gene weights are the posterior of a Dirichlet whose mean is the
 * space's prior, updated with the value counts among the elite
 * architectures: an estimation-of-distribution step, the same role the
 * Navigator's "values to favour" play.
 */
export function offlineStrategy(
  space: SearchSpace,
  task: SearchTask,
  history: readonly EvaluationRecord[],
): { strategy: string; guidance: Guidance } {
  const stats = geneStatistics(space, history);
  const ranked = rankRecords(history);
  const elite = eliteSize(ranked.length);
  const guidance: Guidance = {};
  space.genes.forEach((gene, g) => {
    const prior = normalize(
      space.prior?.[g] ?? gene.choices.map(() => 1),
    );
    guidance[gene.name] = stats[g].values.map(
      (v, i) => (PRIOR_STRENGTH * prior[i] + v.eliteCount) / (PRIOR_STRENGTH + elite),
    );
  });

  const best = ranked[0];
  const summary =
    ranked.length === 0
      ? `No results yet. Start from the prior knowledge of the space, ` +
        `with diverse architectures around its most promising values.`
      : `${ranked.length} architectures evaluated; best ${best.metrics.accuracy!.toFixed(2)}% ` +
        `(${space.format(parseRecordOrThrow(space, best))}). Refine around the ` +
        `top ${elite} while sampling the favoured values elsewhere.`;
  const directions = space.genes
    .map((gene) => {
      const weights = guidance[gene.name];
      const order = weights
        .map((w, i) => ({ value: gene.choices[i], w }))
        .sort((a, b) => b.w - a.w);
      const favour = order.slice(0, 2).map((o) => `${o.value} (${o.w.toFixed(2)})`);
      const avoid = order.slice(-1).map((o) => `${o.value} (${o.w.toFixed(2)})`);
      return `### ${gene.name}\nFavour ${favour.join(", ")}; avoid ${avoid.join(", ")}.`;
    })
    .join("\n\n");
  const strategy = [
    "## Summary",
    summary,
    "",
    "## Key patterns",
    ranked.length === 0 ? "No data yet." : formatStatistics(stats),
    "",
    "## Directions",
    directions,
    task.constraints ? `\n## Constraints to respect\n${task.constraints}` : "",
  ]
    .join("\n")
    .trim();
  return { strategy, guidance };
}

/**
 * Proposes `count` new architectures from a guidance, with no LLM.
 *
 * Half of each round is a local search: the unvisited single-gene
 * neighbours of the best architecture, most favoured first. The rest are
 * mutations of elite architectures and samples, both drawn from the
 * guidance weights. The first round, with no results, samples the prior
 * and includes its mode.
 */
export function offlineCandidates(
  space: SearchSpace,
  options: {
    history: readonly EvaluationRecord[];
    guidance: Guidance;
    count: number;
    rng: Rng;
    /** Keys already evaluated or pending. */
    visited: { has(key: string): boolean };
    /** True when an architecture meets every constraint. */
    feasible: (arch: unknown) => boolean;
    /**
     * An object that stays the same while `space` and `feasible` do, such
     * as the search's runtime. With it, each evaluated architecture is
     * checked against the constraints once, not in every round.
     */
    cacheKey?: object;
  },
): unknown[] {
  const { history, guidance, count, rng, visited, feasible, cacheKey } = options;
  const weights = space.genes.map((gene) =>
    guidance[gene.name] ?? normalize(space.prior?.[space.genes.indexOf(gene)] ?? gene.choices.map(() => 1)),
  );
  const taken = new Set<string>();
  const out: unknown[] = [];
  const offer = (arch: unknown) => {
    if (out.length >= count) return;
    const key = space.key(arch);
    if (taken.has(key) || visited.has(key) || !feasible(arch)) return;
    taken.add(key);
    out.push(arch);
  };
  const sampleFromWeights = () =>
    space.decode(space.genes.map((gene, g) => gene.choices[rng.weighted(weights[g])]));

  const meetsConstraints = (record: EvaluationRecord) => feasible(parseRecordOrThrow(space, record));
  const ranked = cacheKey
    ? historyIndex(history).rankedWhere(cacheKey, meetsConstraints)
    : rankRecords(history).filter(meetsConstraints);
  if (ranked.length === 0) {
    offer(space.decode(space.genes.map((gene, g) => gene.choices[argmax(weights[g])])));
  } else {
    const best = parseRecordOrThrow(space, ranked[0]);
    const neighbours = singleGeneNeighbours(space, best, weights, rng);
    const localShare = Math.ceil(count / 2);
    for (const arch of neighbours) {
      if (out.length >= localShare) break;
      offer(arch);
    }
    const elite = ranked.slice(0, eliteSize(ranked.length));
    const picker = rankBiasedPicker(elite.length);
    for (let tries = 0; out.length < count - Math.floor(count / 5) && tries < count * 20; tries++) {
      const parent = parseRecordOrThrow(space, elite[picker.pick(rng)]);
      offer(mutateWithWeights(space, parent, weights, rng, 1 + rng.int(2)));
    }
  }
  for (let tries = 0; out.length < count && tries < count * 50; tries++) {
    offer(sampleFromWeights());
  }
  for (let tries = 0; out.length < count && tries < count * 50; tries++) {
    offer(space.sample(rng));
  }
  return out;
}

/** Lists every single-gene change of `arch`, the most favoured values first. */
function singleGeneNeighbours(
  space: SearchSpace,
  arch: unknown,
  weights: readonly number[][],
  rng: Rng,
): unknown[] {
  const values = space.encode(arch);
  const moves: { arch: unknown; w: number }[] = [];
  space.genes.forEach((gene, g) => {
    gene.choices.forEach((choice, c) => {
      if (choice === values[g]) return;
      const next = [...values];
      next[g] = choice;
      // A small random term breaks ties without changing the order of
      // clearly different weights.
      moves.push({ arch: space.decode(next), w: weights[g][c] + rng.next() * 1e-3 });
    });
  });
  return moves.sort((a, b) => b.w - a.w).map((move) => move.arch);
}

/** Mutates `genes` distinct genes, drawing new values from the weights. */
export function mutateWithWeights(
  space: SearchSpace,
  arch: unknown,
  weights: readonly number[][],
  rng: Rng,
  genes: number,
): unknown {
  const values = space.encode(arch);
  const order = rng.shuffle(space.genes.map((_gene, g) => g));
  for (const g of order.slice(0, genes)) {
    const choices = space.genes[g].choices;
    const masked = weights[g].map((w, c) => (choices[c] === values[g] ? 0 : w));
    if (masked.every((w) => w === 0)) continue;
    values[g] = choices[rng.weighted(masked)];
  }
  return space.decode(values);
}

/** Weights 1/(i+1) and their prefix sums, grown as longer elites need them. */
let rankWeights = { weights: new Float64Array(0), prefixSums: new Float64Array(0) };

/**
 * Returns a picker of an index into a best-first list of `length`, biased
 * to the front with weights 1/(i+1). It picks what `rng.weighted` would
 * pick over those weights.
 */
function rankBiasedPicker(length: number): PrefixSumPicker {
  const known = rankWeights.weights.length;
  if (known < length) {
    const size = Math.max(length, 2 * known);
    const weights = new Float64Array(size);
    const prefixSums = new Float64Array(size);
    weights.set(rankWeights.weights);
    prefixSums.set(rankWeights.prefixSums);
    let sum = known > 0 ? prefixSums[known - 1] : 0;
    for (let i = known; i < size; i++) {
      weights[i] = 1 / (i + 1);
      sum += weights[i];
      prefixSums[i] = sum;
    }
    rankWeights = { weights, prefixSums };
  }
  return new PrefixSumPicker(rankWeights.weights, rankWeights.prefixSums, length);
}

function argmax(values: readonly number[]): number {
  return values.reduce((best, v, i) => (v > values[best] ? i : best), 0);
}

function normalize(values: readonly number[]): number[] {
  const total = values.reduce((sum, v) => sum + v, 0);
  return values.map((v) => v / total);
}

/** Parses a record's architecture (cached per space and record; do not change the result). */
function parseRecordOrThrow(space: SearchSpace, record: EvaluationRecord): unknown {
  const parsed = parseRecordArch(space, record);
  if (!parsed.ok) {
    throw new Error(`stored architecture no longer parses: ${parsed.reason}`);
  }
  return parsed.arch;
}
