import type { EvaluationRequest, EvaluationResult, Evaluator } from "./types.ts";

/**
 * Evaluates the requests of a batch concurrently, one request per worker
 * at a time, and returns the results in request order, so a search gives
 * the same history whatever order the evaluations finish in.
 *
 * Workers may be distinct evaluators (a pool of onnxruntime sessions) or
 * one evaluator listed several times (a benchmark table, which answers
 * each request on its own). When a worker throws, no further request is
 * started and the batch rejects with that error once the running ones
 * end, as a single evaluator that throws would.
 */
export class ConcurrentEvaluator implements Evaluator {
  readonly name: string;

  /**
   * @param workers one evaluator per concurrent evaluation; the same
   *   evaluator may appear more than once
   */
  constructor(private readonly workers: readonly Evaluator[]) {
    if (workers.length === 0) {
      throw new RangeError("a concurrent evaluator needs at least one worker");
    }
    this.name = workers[0].name;
  }

  /** Evaluations that run at once. */
  get concurrency(): number {
    return this.workers.length;
  }

  async evaluate(
    requests: readonly EvaluationRequest[],
    options?: { signal?: AbortSignal },
  ): Promise<EvaluationResult[]> {
    const results = new Array<EvaluationResult>(requests.length);
    let next = 0;
    let failure: { error: unknown } | null = null;
    const work = async (worker: Evaluator) => {
      while (failure === null && next < requests.length) {
        const index = next++;
        try {
          [results[index]] = await worker.evaluate([requests[index]], options);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(this.workers.slice(0, requests.length).map(work));
    if (failure !== null) throw (failure as { error: unknown }).error;
    return results;
  }

  /** Closes every distinct worker once. */
  async close(): Promise<void> {
    await Promise.all([...new Set(this.workers)].map((worker) => worker.close?.()));
  }
}
