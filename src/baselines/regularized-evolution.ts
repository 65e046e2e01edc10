import { Rng } from "../util/random.ts";
import { BaselineRun, type BaselineOptions, type BaselineResult } from "./common.ts";

export interface EvolutionOptions extends BaselineOptions {
  /** Architectures alive at once (default 10). */
  population?: number;
  /** Tournament size: architectures sampled to pick a parent (default 3). */
  sampleSize?: number;
}

/**
 * Regularized evolution (aging evolution; Real et al., "Regularized
 * Evolution for Image Classifier Architecture Search", AAAI 2019): a
 * random initial population, then repeatedly the best of a random sample
 * is mutated and the child replaces the oldest member.
 *
 * The defaults, population 10 and sample 3, are the values that
 * NAS-Bench-201's own runs of this baseline used. NOTE: unlike the
 * original, a child that repeats an evaluated architecture is mutated
 * again instead of being evaluated twice, so each evaluation is new.
 */
export async function regularizedEvolution(
  options: EvolutionOptions,
): Promise<BaselineResult> {
  const populationSize = options.population ?? 10;
  const sampleSize = options.sampleSize ?? 3;
  if (!Number.isInteger(populationSize) || populationSize < 1) {
    throw new RangeError(`population must be a positive integer, got ${populationSize}`);
  }
  if (!Number.isInteger(sampleSize) || sampleSize < 1 || sampleSize > populationSize) {
    throw new RangeError(
      `sample size must be an integer from 1 to the population (${populationSize}), got ${sampleSize}`,
    );
  }
  const { space } = options;
  const rng = new Rng(options.seed);
  const run = new BaselineRun(options, "rea");
  const population: { arch: unknown; accuracy: number }[] = [];

  while (!run.done && population.length < populationSize) {
    const arch = run.draw(() => space.sample(rng));
    if (arch === null) return run.result("search space exhausted");
    const record = await run.evaluate(arch);
    if (record.metrics.accuracy !== undefined) {
      population.push({ arch, accuracy: record.metrics.accuracy });
    }
  }

  while (!run.done && population.length > 0) {
    const sample = Array.from({ length: sampleSize }, () => population[rng.int(population.length)]);
    const parent = sample.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const child =
      run.draw(() => space.mutate(parent.arch, rng), 200) ??
      run.draw(() => space.sample(rng));
    if (child === null) return run.result("search space exhausted");
    const record = await run.evaluate(child);
    if (record.metrics.accuracy !== undefined) {
      population.push({ arch: child, accuracy: record.metrics.accuracy });
      population.shift();
    }
  }
  return run.result("no architecture in the population could be evaluated");
}
