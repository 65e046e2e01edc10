import type { SearchSpace } from "../spaces/types.ts";
import type { EvaluationRecord } from "../graph/state.ts";

/** Statistics of one value of one gene over the evaluated architectures. */
export interface ValueStats {
  value: string | number;
  count: number;
  meanAccuracy: number | null;
  /** How often the value appears among the elite architectures. */
  eliteCount: number;
}

export interface GeneStats {
  gene: string;
  dimension: string;
  values: ValueStats[];
}

/** Successful records, best first. */
export function rankRecords(history: readonly EvaluationRecord[]) {
  return history
    .filter((record) => record.error === undefined && record.metrics.accuracy !== undefined)
    .sort((a, b) => (b.metrics.accuracy ?? 0) - (a.metrics.accuracy ?? 0));
}

/** Size of the elite set: the top fifth, at least 5 architectures. */
export function eliteSize(evaluated: number): number {
  return Math.min(evaluated, Math.max(5, Math.ceil(evaluated / 5)));
}

/**
 * Per gene and value: how often it was evaluated, its mean accuracy, and how
 * often it appears among the elite architectures.
 */
export function geneStatistics(
  space: SearchSpace,
  history: readonly EvaluationRecord[],
): GeneStats[] {
  const ranked = rankRecords(history);
  const elite = new Set(ranked.slice(0, eliteSize(ranked.length)));
  const stats = space.genes.map((gene) => ({
    gene: gene.name,
    dimension: gene.dimension,
    values: gene.choices.map((value) => ({
      value,
      count: 0,
      sum: 0,
      eliteCount: 0,
    })),
  }));
  for (const record of ranked) {
    const parsed = space.parse(record.arch);
    if (!parsed.ok) continue;
    space.encode(parsed.arch).forEach((value, g) => {
      const entry = stats[g].values.find((v) => v.value === value);
      if (!entry) return;
      entry.count += 1;
      entry.sum += record.metrics.accuracy ?? 0;
      if (elite.has(record)) entry.eliteCount += 1;
    });
  }
  return stats.map((gene) => ({
    gene: gene.gene,
    dimension: gene.dimension,
    values: gene.values.map((v) => ({
      value: v.value,
      count: v.count,
      meanAccuracy: v.count > 0 ? v.sum / v.count : null,
      eliteCount: v.eliteCount,
    })),
  }));
}

/** One line per gene: the values seen, their counts and mean accuracies. */
export function formatStatistics(stats: readonly GeneStats[]): string {
  return stats
    .map((gene) => {
      const parts = gene.values
        .filter((v) => v.count > 0)
        .map(
          (v) =>
            `${v.value} n=${v.count} mean=${v.meanAccuracy!.toFixed(2)} elite=${v.eliteCount}`,
        );
      return `- ${gene.gene}: ${parts.length > 0 ? parts.join("; ") : "no data"}`;
    })
    .join("\n");
}
