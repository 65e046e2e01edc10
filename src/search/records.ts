import type { EvaluationResult } from "../evaluators/types.ts";
import type { Candidate, EvaluationRecord } from "../graph/state.ts";

/** Turns a candidate and its evaluation result into a history record. */
export function toRecord(
  round: number,
  candidate: Candidate,
  result: EvaluationResult | undefined,
): EvaluationRecord {
  const base = {
    round,
    key: candidate.key,
    arch: candidate.arch,
    source: candidate.source,
    ...(candidate.repairs.length > 0 ? { repairs: candidate.repairs } : {}),
  };
  if (!result || !result.ok) {
    return {
      ...base,
      metrics: { ...candidate.cost },
      report: {},
      error: result ? result.error : "no result returned",
    };
  }
  if (!Number.isFinite(result.accuracy)) {
    return {
      ...base,
      metrics: { ...candidate.cost },
      report: {},
      error: `evaluator returned a non-finite accuracy (${result.accuracy})`,
    };
  }
  return {
    ...base,
    metrics: { accuracy: result.accuracy, ...result.metrics, ...candidate.cost },
    report: result.report,
  };
}
