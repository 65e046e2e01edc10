import type { RoundStrategy } from "../graph/state.ts";

/** Fields that a round summary reads from a search state or a result file. */
export interface RoundsSource {
  history: readonly { round: number; metrics: { accuracy?: number }; error?: string }[];
  strategies: readonly RoundStrategy[];
  rejections: readonly { round: number }[];
}

/** One round of a search, as `collm-nas history` lists it. */
export interface RoundSummary {
  round: number;
  /** Evaluations up to and including this round. */
  evaluations: number;
  /** Best accuracy up to and including this round; null before any success. */
  bestAccuracy: number | null;
  /** Architectures evaluated in this round, failed evaluations included. */
  evaluated: number;
  failed: number;
  rejected: number;
  /** The strategy the round ran with; null when none was recorded. */
  strategy: RoundStrategy | null;
  /** The Navigator's strategy when a reviewer replaced it. */
  replaced: RoundStrategy | null;
}

/** Summarizes every round that has a strategy, an evaluation or a rejection. */
export function summarizeRounds(source: RoundsSource): RoundSummary[] {
  const rounds = new Set<number>();
  for (const item of [...source.strategies, ...source.history, ...source.rejections]) {
    rounds.add(item.round);
  }

  const summaries: RoundSummary[] = [];
  let evaluations = 0;
  let bestAccuracy: number | null = null;
  for (const round of [...rounds].sort((a, b) => a - b)) {
    const records = source.history.filter((record) => record.round === round);
    for (const record of records) {
      const accuracy = record.metrics.accuracy;
      if (record.error === undefined && accuracy !== undefined && Number.isFinite(accuracy)) {
        bestAccuracy = bestAccuracy === null ? accuracy : Math.max(bestAccuracy, accuracy);
      }
    }
    evaluations += records.length;

    // A reviewer's edit is appended after the Navigator's strategy.
    const strategies = source.strategies.filter((entry) => entry.round === round);
    const strategy = strategies.at(-1) ?? null;
    const replaced =
      strategy?.author === "reviewer"
        ? (strategies.filter((entry) => entry.author !== "reviewer").at(-1) ?? null)
        : null;

    summaries.push({
      round,
      evaluations,
      bestAccuracy,
      evaluated: records.length,
      failed: records.filter((record) => record.error !== undefined).length,
      rejected: source.rejections.filter((rejection) => rejection.round === round).length,
      strategy,
      replaced,
    });
  }
  return summaries;
}
