import type { EvaluationResult } from "../evaluators/types.ts";
import type { Best, Candidate, EvaluationRecord } from "../graph/state.ts";
import { toRecord } from "../search/records.ts";
import type { SearchSpace } from "../spaces/types.ts";
import { Rng } from "../util/random.ts";
import type { BaselineOptions, BaselineResult } from "./common.ts";

/** Options of OFA's evolutionary search; the defaults are OFA's `EvolutionFinder` defaults. */
export interface OfaEvolutionOptions extends BaselineOptions {
  /** Children evaluated per generation, and the size of the initial population (default 100). */
  population?: number;
  /** Generations after the initial population (default 500). */
  generations?: number;
  /** Share of the population kept as parents, best first (default 0.25). */
  parentRatio?: number;
  /**
   * Share of each generation's children made by mutation; crossover makes
   * the rest (default 0.5).
   */
  mutationRatio?: number;
  /** Probability that mutation resamples a gene (default 0.1). */
  mutateProb?: number;
  /** Probability that mutation resamples the input resolution (default 0.5). */
  resolutionMutateProb?: number;
  /**
   * Draws per child before giving up on meeting the constraints (default
   * 10,000). OFA draws without a limit.
   */
  maxAttempts?: number;
}

/** Result of OFA's evolution: the shared baseline result and its query counts. */
export interface OfaEvolutionResult extends BaselineResult {
  /**
   * Accuracy queries, repeats included: the initial population plus one
   * per child. `history` holds only the first query of each architecture,
   * so `history.length` counts distinct architectures.
   */
  queries: number;
  /** Generations completed after the initial population. */
  generations: number;
  /** Children that copy their parent because no draw met the constraints. */
  fallbackCopies: number;
}

/** Member of the population, with the values of genes its architecture leaves unused. */
interface Individual {
  genes: (string | number)[];
  key: string;
  accuracy: number;
}

/** A child before evaluation. */
interface Child {
  genes: (string | number)[];
  arch: unknown;
  key: string;
}

/** Rounds half to even, as the Python `round` that OFA sizes its groups with. */
function roundCount(value: number): number {
  const floor = Math.floor(value);
  if (value - floor !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

function checkOptions(options: OfaEvolutionOptions) {
  const settings = {
    population: options.population ?? 100,
    generations: options.generations ?? 500,
    parentRatio: options.parentRatio ?? 0.25,
    mutationRatio: options.mutationRatio ?? 0.5,
    mutateProb: options.mutateProb ?? 0.1,
    resolutionMutateProb: options.resolutionMutateProb ?? 0.5,
    maxAttempts: options.maxAttempts ?? 10_000,
  };
  const integers = ["population", "maxAttempts"] as const;
  for (const name of integers) {
    const value = settings[name];
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }
  if (!Number.isInteger(settings.generations) || settings.generations < 0) {
    throw new RangeError(`generations must be a non-negative integer, got ${settings.generations}`);
  }
  const probabilities = ["mutationRatio", "mutateProb", "resolutionMutateProb"] as const;
  for (const name of probabilities) {
    const value = settings[name];
    if (!(value >= 0 && value <= 1)) {
      throw new RangeError(`${name} must be a number from 0 to 1, got ${value}`);
    }
  }
  if (!(settings.parentRatio > 0 && settings.parentRatio <= 1)) {
    throw new RangeError(`parentRatio must be above 0 and at most 1, got ${settings.parentRatio}`);
  }
  const parents = roundCount(settings.parentRatio * settings.population);
  if (parents < 1) {
    throw new RangeError(
      `parentRatio ${settings.parentRatio} of population ${settings.population} ` +
        `keeps no parent; raise either`,
    );
  }
  const mutations = roundCount(settings.mutationRatio * settings.population);
  return { ...settings, parents, mutations };
}

/**
 * Runs OFA's evolutionary search (Cai et al., "Once for All", ICLR 2020,
 * and the `EvolutionFinder` of github.com/mit-han-lab/once-for-all) over
 * the space's genes.
 *
 * It evaluates a random population, then each generation keeps the best
 * `parentRatio` of the population as parents and adds `population`
 * children: `mutationRatio` of them resample each gene of a random parent
 * with probability `mutateProb` (the resolution with
 * `resolutionMutateProb`), and the rest take each gene from one of two
 * random parents. Every random sample, mutation and crossover is drawn
 * again until it meets the constraints, at most `maxAttempts` times. A
 * child whose draws all miss copies its first parent.
 *
 * Individuals keep the values of genes their architecture does not use,
 * such as the kernel size of a block past its stage's depth, as OFA's
 * encoding does, so a later depth change can reactivate them.
 *
 * Unlike the other baselines, a repeated architecture is queried again, as
 * in OFA. The repeat costs no evaluator call and adds no history record;
 * `queries` counts it. The budget caps distinct architectures.
 *
 * NOTE: OFA draws one coin per block for its kernel size and expand ratio
 * together; here each gene has its own coin. OFA reports the best parent
 * before the last generation's children; here the best covers every
 * evaluated architecture.
 */
export async function ofaEvolution(options: OfaEvolutionOptions): Promise<OfaEvolutionResult> {
  const settings = checkOptions(options);
  const rng = new Rng(options.seed);
  const run = new EvolutionRun(options, settings.maxAttempts);
  const randomGenes = () => options.space.genes.map((gene) => rng.pick(gene.choices));

  const initial: Child[] = [];
  for (let i = 0; i < settings.population; i++) {
    const sample = run.draw(randomGenes);
    if (sample === null) {
      return run.result(
        0,
        `no random architecture met the constraints in ${settings.maxAttempts} draws`,
      );
    }
    initial.push(sample);
  }
  let population = await run.score(initial, 0);

  let generation = 0;
  while (generation < settings.generations && run.stopReason() === null) {
    if (population.length === 0) {
      return run.result(generation, "no architecture in the population could be evaluated");
    }
    generation++;
    const parents = [...population]
      .sort((a, b) => b.accuracy - a.accuracy)
      .slice(0, settings.parents);
    const pickParent = () => parents[rng.int(parents.length)];

    const children: Child[] = [];
    for (let j = 0; j < settings.population; j++) {
      const first = pickParent();
      const next =
        j < settings.mutations
          ? () => mutateGenes(options.space, first.genes, settings, rng)
          : crossoverOf(first, pickParent(), rng);
      children.push(run.draw(next) ?? run.copyOf(first));
    }
    population = parents.concat(await run.score(children, generation));
  }
  return run.result(generation, `generations done: ${generation}`);
}

/**
 * Book-keeping of one evolution: the evaluated architectures, the best,
 * the counters and the stop rules.
 */
class EvolutionRun {
  readonly history: EvaluationRecord[] = [];
  best: Best | null = null;
  queries = 0;
  fallbackCopies = 0;
  /** Accuracy of each evaluated key; null when its evaluation failed. */
  private readonly accuracyByKey = new Map<string, number | null>();

  constructor(
    private readonly options: OfaEvolutionOptions,
    private readonly maxAttempts: number,
  ) {}

  stopReason(): string | null {
    const { target, budget } = this.options;
    if (target != null && this.best && this.best.accuracy >= target) {
      return `target reached: ${this.best.accuracy.toFixed(2)}% >= ${target}%`;
    }
    if (this.history.length >= budget) return `budget spent: ${this.history.length} evaluations`;
    return null;
  }

  /** Draws gene values until their architecture meets the constraints; null when none does. */
  draw(next: () => (string | number)[]): Child | null {
    const { space, checkCost } = this.options;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const candidate = this.child(next());
      if (!checkCost || checkCost(space.cost(candidate.arch)) === null) return candidate;
    }
    return null;
  }

  /** Copies a parent into a child, for when no draw met the constraints. */
  copyOf(parent: Individual): Child {
    this.fallbackCopies++;
    return this.child([...parent.genes]);
  }

  /**
   * Scores children, sending new architectures to the evaluator in one
   * batch. When the budget runs out, the new architectures past it stay
   * unscored and out of the population.
   */
  async score(children: readonly Child[], generation: number): Promise<Individual[]> {
    const { space, evaluator, budget } = this.options;
    const fresh = new Map<string, Child>();
    for (const candidate of children) {
      if (!this.accuracyByKey.has(candidate.key)) fresh.set(candidate.key, candidate);
    }
    const batch = [...fresh.values()].slice(0, Math.max(0, budget - this.history.length));
    const results = await evaluator.evaluate(
      batch.map((candidate) => ({ key: candidate.key, arch: space.toJSON(candidate.arch) })),
    );
    batch.forEach((candidate, i) => this.record(candidate, results[i], generation));

    const scored: Individual[] = [];
    for (const candidate of children) {
      if (!this.accuracyByKey.has(candidate.key)) continue;
      this.queries++;
      const accuracy = this.accuracyByKey.get(candidate.key);
      // A failed evaluation leaves the child out of the population.
      if (accuracy != null) scored.push({ genes: candidate.genes, key: candidate.key, accuracy });
    }
    return scored;
  }

  result(generations: number, fallbackReason: string): OfaEvolutionResult {
    return {
      history: this.history,
      best: this.best,
      stopReason: this.stopReason() ?? fallbackReason,
      queries: this.queries,
      generations,
      fallbackCopies: this.fallbackCopies,
    };
  }

  private child(genes: (string | number)[]): Child {
    const arch = this.options.space.decode(genes);
    return { genes, arch, key: this.options.space.key(arch) };
  }

  private record(candidate: Child, result: EvaluationResult | undefined, generation: number): void {
    const { space } = this.options;
    const evaluated: Candidate = {
      key: candidate.key,
      arch: space.toJSON(candidate.arch),
      cost: space.cost(candidate.arch),
      source: "ofa-evolution",
      repairs: [],
    };
    const record = toRecord(generation, evaluated, result);
    this.history.push(record);
    const accuracy = record.metrics.accuracy;
    this.accuracyByKey.set(candidate.key, accuracy ?? null);
    if (accuracy !== undefined && (!this.best || accuracy > this.best.accuracy)) {
      this.best = { key: candidate.key, arch: record.arch, accuracy, round: generation };
    }
    this.options.onEvaluation?.(record, this.best);
  }
}

/** Resamples each gene with its mutation probability; a resample may draw the same value. */
function mutateGenes(
  space: SearchSpace,
  genes: readonly (string | number)[],
  settings: { mutateProb: number; resolutionMutateProb: number },
  rng: Rng,
): (string | number)[] {
  return genes.map((value, g) => {
    const gene = space.genes[g];
    const probability =
      gene.dimension === "resolution" ? settings.resolutionMutateProb : settings.mutateProb;
    return rng.next() < probability ? rng.pick(gene.choices) : value;
  });
}

/** Creates a uniform crossover draw that takes each gene from one of the two parents. */
function crossoverOf(a: Individual, b: Individual, rng: Rng): () => (string | number)[] {
  return () => a.genes.map((value, g) => (rng.next() < 0.5 ? value : b.genes[g]));
}
