import type { SearchSpace } from "../spaces/types.ts";
import type { EvaluationRecord } from "../graph/state.ts";
import { historyIndex } from "./history-index.ts";

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

/**
 * Successful records, best first; records of equal accuracy keep history
 * order. The list is shared with later calls, so callers must not change it.
 */
export function rankRecords(history: readonly EvaluationRecord[]): readonly EvaluationRecord[] {
  return historyIndex(history).ranked;
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
  const index = historyIndex(history);
  const tallies = index.choiceTallies(space, eliteSize(index.ranked.length));
  return space.genes.map((gene, g) => ({
    gene: gene.name,
    dimension: gene.dimension,
    values: gene.choices.map((value, c) => {
      const count = tallies.counts[g][c];
      return {
        value,
        count,
        meanAccuracy: count > 0 ? tallies.sums[g][c] / count : null,
        eliteCount: tallies.eliteCounts[g][c],
      };
    }),
  }));
}

/** Formats one line per gene: the values seen, their counts and mean accuracies. */
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

/**
 * Items of round `round`, in their order, from a list kept in round order
 * (as the state's append reducer keeps history and rejections). Reads
 * from the end, so it costs the size of the round, not of the list.
 */
export function latestOfRound<T extends { round: number }>(items: readonly T[], round: number): T[] {
  let start = items.length;
  while (start > 0 && items[start - 1].round >= round) start--;
  return items.slice(start).filter((item) => item.round === round);
}
