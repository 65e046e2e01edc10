/**
 * Search quality on the NAS-Bench-201 table: the offline CoLLM-NAS policy
 * against random search and regularized evolution, 10 seeds, 100
 * evaluations each, on CIFAR-10, CIFAR-100 and ImageNet16-120, under two
 * protocols:
 *
 * - optimistic: search on the 200-epoch test accuracy, report it;
 * - honest: search on the 12-epoch validation accuracy, report the
 *   200-epoch test accuracy of the architecture found.
 *
 * Usage: node --import tsx benchmarks/nb201-quality.ts [TABLE.csv] [--out docs/benchmarks-nb201.md]
 */
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { CachedEvaluator } from "../src/evaluators/cache.ts";
import { NB201_DATASET_COLUMNS, TableEvaluator } from "../src/evaluators/table.ts";
import type { SearchTask } from "../src/graph/state.ts";
import { runSearch, type StrategyName } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import type { SearchSpace } from "../src/spaces/types.ts";

const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const outPath = outIndex >= 0 ? args[outIndex + 1] : "docs/benchmarks-nb201.md";
const tablePath =
  args.find((a, i) => !a.startsWith("--") && i !== outIndex + 1) ?? "../shared/data/nb201/nb201.csv";

const SEEDS = Array.from({ length: 10 }, (_v, i) => i);
const BUDGET = 100;
const DATASETS = ["cifar10", "cifar100", "imagenet16-120"] as const;
/** Published CoLLM-NAS, REA and random-search means at 100 evaluations. */
const PAPER: Record<string, Record<string, number>> = {
  cifar10: { collm: 94.37, rea: 94.23, random: 93.83, optimum: 94.37 },
  cifar100: { collm: 73.44, rea: 72.82, random: 71.52, optimum: 73.51 },
  "imagenet16-120": { collm: 46.79, rea: 46.49, random: 45.37, optimum: 47.31 },
};

interface Variant {
  label: string;
  strategy: StrategyName;
  space: SearchSpace;
}

const withPrior = createNb201Space();
const variants: Variant[] = [
  { label: "collm (offline)", strategy: "collm", space: withPrior },
  // The same policy with a uniform prior over operations: what the search
  // finds from the statistics alone.
  { label: "collm (offline, uniform prior)", strategy: "collm", space: { ...withPrior, prior: undefined } },
  { label: "rea", strategy: "rea", space: withPrior },
  { label: "random", strategy: "random", space: withPrior },
];

function stats(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(variance) };
}

const lines: string[] = [];
/** Mean best test accuracy by protocol, dataset and variant label. */
const means = new Map<string, number>();
const started = Date.now();
for (const protocol of ["optimistic", "honest"] as const) {
  lines.push(
    protocol === "optimistic"
      ? "### Search on the 200-epoch test accuracy (optimistic protocol)"
      : "### Search on the 12-epoch validation accuracy, report the 200-epoch test accuracy (honest protocol)",
    "",
    "| dataset | strategy | mean best test acc | std | paper | optimum |",
    "| --- | --- | --- | --- | --- | --- |",
  );
  for (const dataset of DATASETS) {
    const columns = NB201_DATASET_COLUMNS[dataset];
    const metric = protocol === "optimistic" ? columns.test : columns.valid12;
    const table = await TableEvaluator.load({ path: tablePath, metric, report: [columns.test] });
    for (const variant of variants) {
      const bests: number[] = [];
      for (const seed of SEEDS) {
        const task: SearchTask = {
          space: "nb201",
          objective: `maximize ${metric}`,
          budget: BUDGET,
          candidatesPerRound: 10,
          target: null,
          maxRounds: null,
          constraints: "",
          maxGeneratorRetries: 2,
          seed,
        };
        const outcome = await runSearch({
          strategy: variant.strategy,
          space: variant.space,
          evaluator: new CachedEvaluator(table),
          task,
        });
        const bestRecord = outcome.history.find((r) => r.key === outcome.best?.key)!;
        bests.push(bestRecord.report[columns.test]);
      }
      const { mean, std } = stats(bests);
      means.set(`${protocol}/${dataset}/${variant.label}`, mean);
      const paperKey = variant.strategy;
      const paper =
        protocol === "optimistic" && variant.label !== "collm (offline, uniform prior)"
          ? PAPER[dataset][paperKey].toFixed(2)
          : "";
      lines.push(
        `| ${dataset} | ${variant.label} | ${mean.toFixed(2)} | ${std.toFixed(2)} | ${paper} | ${PAPER[dataset].optimum.toFixed(2)} |`,
      );
      console.error(`${protocol} ${dataset} ${variant.label}: ${mean.toFixed(3)} +- ${std.toFixed(3)}`);
    }
  }
  lines.push("");
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);

/** One sentence per dataset: collm against the better baseline. */
const comparison = (protocol: string) =>
  DATASETS.map((dataset) => {
    const get = (label: string) => means.get(`${protocol}/${dataset}/${label}`)!;
    const collm = get("collm (offline)");
    const baseline = Math.max(get("rea"), get("random"));
    const name = get("rea") >= get("random") ? "regularized evolution" : "random search";
    const diff = collm - baseline;
    return `- ${dataset}: collm ${collm.toFixed(2)} against ${name} ${baseline.toFixed(2)} (${diff >= 0 ? "+" : ""}${diff.toFixed(2)}).`;
  }).join("\n");

const page = `# NAS-Bench-201 search quality

Written by \`npm run bench:nb201\` (benchmarks/nb201-quality.ts). Each row is
the mean and population standard deviation over seeds ${SEEDS[0]}-${SEEDS.at(-1)} of
the best architecture's 200-epoch test accuracy after ${BUDGET} evaluations,
10 candidates per round for collm. The whole run took ${seconds} s on
${cpus().length} cores (${cpus()[0]?.model ?? "unknown CPU"}).

"paper" gives the means that the CoLLM-NAS paper (Li, Lin and Wang,
arXiv 2509.26037) reports for its LLM-driven search and for the baselines
at the same budget. Our collm rows use the offline policy (no LLM): its
Navigator turns result statistics into per-edge operation weights that
start from a prior (3x3 convolutions first, then skip connections and 1x1
convolutions, pooling and none last), and its Generator spends half of
each round on the unvisited one-edge neighbours of the best cell. The
uniform-prior row shows what the statistics and the local search reach
without that prior.

Regularized evolution uses population 10 and tournament size 3 and never
evaluates a cell twice; random search samples without repeats. Cells that
compute the same function count as one (isomorphic de-duplication on).

${lines.join("\n")}
## Reading the tables

Optimistic protocol, collm against the better baseline:
${comparison("optimistic")}

Honest protocol, collm against the better baseline:
${comparison("honest")}

The honest protocol costs every strategy accuracy, because the 12-epoch
validation ranking is a noisy proxy for the 200-epoch test ranking: the
search finds what is best on the proxy. Margins under it are smaller than
the seed-to-seed standard deviations on CIFAR-100, so the tables support
"collm is at least as good as the baselines" there, not more.
`;
writeFileSync(outPath, page);
console.error(`wrote ${outPath} in ${seconds} s`);
