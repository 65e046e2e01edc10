import type {
  EvaluationRequest,
  EvaluationResult,
  Evaluator,
} from "./types.ts";

/**
 * Wraps an evaluator so that a canonical key evaluated successfully is
 * never evaluated again. Failures are not cached, so a transient error can
 * be retried.
 */
export class CachedEvaluator implements Evaluator {
  readonly name: string;
  hits = 0;
  misses = 0;
  private readonly cache = new Map<string, EvaluationResult>();

  constructor(private readonly inner: Evaluator) {
    this.name = inner.name;
  }

  async evaluate(
    requests: readonly EvaluationRequest[],
    options?: { signal?: AbortSignal },
  ): Promise<EvaluationResult[]> {
    const missing: EvaluationRequest[] = [];
    const seen = new Set<string>();
    for (const request of requests) {
      if (this.cache.has(request.key)) {
        this.hits++;
      } else if (!seen.has(request.key)) {
        seen.add(request.key);
        missing.push(request);
      } else {
        this.hits++;
      }
    }
    this.misses += missing.length;
    const fresh = missing.length > 0 ? await this.inner.evaluate(missing, options) : [];
    const byKey = new Map<string, EvaluationResult>();
    fresh.forEach((result, i) => {
      byKey.set(missing[i].key, result);
      if (result.ok) this.cache.set(missing[i].key, result);
    });
    return requests.map(
      (request) => this.cache.get(request.key) ?? byKey.get(request.key)!,
    );
  }

  /** Share of lookups served from the cache. */
  get hitRate(): number {
    const total = this.hits + this.misses;
    return total === 0 ? 0 : this.hits / total;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
