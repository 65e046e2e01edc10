import type { EvaluationRequest, EvaluationResult, Evaluator } from "../../src/evaluators/types.ts";

/**
 * A deterministic stand-in for an accuracy oracle, for spaces with no
 * benchmark table here: the accuracy is 60-90%, derived from an FNV-1a hash
 * of the key, so equal keys always get equal accuracies.
 */
export class SyntheticEvaluator implements Evaluator {
  readonly name = "synthetic";
  /** Keys of every request, in order, over all batches. */
  readonly requested: string[] = [];

  async evaluate(requests: readonly EvaluationRequest[]): Promise<EvaluationResult[]> {
    return requests.map((request) => {
      this.requested.push(request.key);
      return {
        key: request.key,
        ok: true,
        accuracy: 60 + (fnv1a(request.key) % 3001) / 100,
        metrics: {},
        report: {},
      };
    });
  }
}

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
