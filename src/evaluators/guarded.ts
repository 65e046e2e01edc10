import type { EvaluationRequest, EvaluationResult, Evaluator } from "./types.ts";

/** Options of `GuardedEvaluator`. */
export interface GuardedEvaluatorOptions {
  /** Maximum time one batch may take, in milliseconds. Absent means no limit. */
  timeoutMs?: number;
}

/** A batch that did not finish within the guard's timeout. */
export class EvaluationTimeoutError extends Error {
  override name = "EvaluationTimeoutError";

  constructor(readonly timeoutMs: number) {
    super(`evaluation timed out after ${timeoutMs} ms`);
  }
}

/**
 * Wraps an evaluator so that every batch returns one well-formed result
 * per request, whatever the evaluator does:
 *
 * - a thrown error or a rejected promise gives every request of the batch
 *   an error result with the error's message;
 * - a batch that takes longer than `timeoutMs` gives error results, and
 *   the evaluator's signal is aborted;
 * - NaN or an infinite accuracy, metric or report value gives that request
 *   an error result naming the value;
 * - a missing or malformed result, or a result list of the wrong length,
 *   gives error results.
 *
 * An abort of the caller's own signal is not turned into results: it is
 * rethrown, so that a cancelled search stops.
 *
 * NOTE: a timed-out batch keeps running in the background, because a
 * promise cannot be cancelled from outside; its late results are dropped.
 * A synchronous busy loop in the evaluator blocks the event loop, and no
 * timer can interrupt it.
 */
export class GuardedEvaluator implements Evaluator {
  readonly name: string;

  constructor(
    private readonly inner: Evaluator,
    private readonly options: GuardedEvaluatorOptions = {},
  ) {
    const { timeoutMs } = options;
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new RangeError(`invalid evaluation timeout ${timeoutMs} ms; expected a positive number`);
    }
    this.name = inner.name;
  }

  async evaluate(
    requests: readonly EvaluationRequest[],
    options?: { signal?: AbortSignal },
  ): Promise<EvaluationResult[]> {
    if (requests.length === 0) return [];
    let results: unknown;
    try {
      results = await this.runBatch(requests, options?.signal);
    } catch (error) {
      if (options?.signal?.aborted) throw error;
      const message = describeError(error);
      return requests.map((request) => ({ key: request.key, ok: false, error: message }));
    }
    if (!Array.isArray(results) || results.length !== requests.length) {
      const count = Array.isArray(results) ? `${results.length} results` : "no result list";
      const error = `evaluator ${this.name} returned ${count} for ${requests.length} requests`;
      return requests.map((request) => ({ key: request.key, ok: false, error }));
    }
    return requests.map((request, i) => checkResult(request.key, results[i]));
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  /** Runs the inner evaluator, rejecting with a timeout or the caller's abort. */
  private runBatch(
    requests: readonly EvaluationRequest[],
    outer: AbortSignal | undefined,
  ): Promise<unknown> {
    const controller = new AbortController();
    const { timeoutMs } = this.options;
    return new Promise<unknown>((resolve, reject) => {
      const stop = (reason: unknown) => {
        controller.abort(reason);
        reject(reason);
      };
      const onOuterAbort = () => stop(outer?.reason);
      if (outer?.aborted) {
        onOuterAbort();
        return;
      }
      outer?.addEventListener("abort", onOuterAbort, { once: true });
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => stop(new EvaluationTimeoutError(timeoutMs)), timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        outer?.removeEventListener("abort", onOuterAbort);
      };
      // The inner call runs inside a promise chain, so a synchronous throw
      // becomes a rejection as well.
      Promise.resolve()
        .then(() => this.inner.evaluate(requests, { signal: controller.signal }))
        .then(
          (value) => {
            settle();
            resolve(value);
          },
          (error: unknown) => {
            settle();
            reject(error);
          },
        );
    });
  }
}

/** Checks one result and returns it, or an error result naming the problem. */
function checkResult(key: string, result: unknown): EvaluationResult {
  if (!result || typeof result !== "object") {
    return { key, ok: false, error: `evaluator returned ${String(result)} instead of a result` };
  }
  const record = result as Partial<EvaluationResult> & { ok?: unknown };
  if (record.ok === false) {
    const error = typeof record.error === "string" ? record.error : "evaluation failed";
    return { key, ok: false, error };
  }
  if (record.ok !== true) {
    return { key, ok: false, error: "evaluator returned a result without ok: true or false" };
  }
  const { accuracy, metrics = {}, report = {} } = record as Extract<EvaluationResult, { ok: true }>;
  if (typeof accuracy !== "number" || !Number.isFinite(accuracy)) {
    return { key, ok: false, error: `evaluator returned a non-finite accuracy (${accuracy})` };
  }
  for (const [group, values] of [
    ["metric", metrics],
    ["report value", report],
  ] as const) {
    for (const [name, value] of Object.entries(values)) {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        return { key, ok: false, error: `evaluator returned a non-finite ${group} ${name} (${value})` };
      }
    }
  }
  return { key, ok: true, accuracy, metrics: { ...metrics }, report: { ...report } };
}

function describeError(error: unknown): string {
  if (error instanceof EvaluationTimeoutError) return error.message;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const message = `evaluator failed: ${text}`;
  return message.length > 300 ? `${message.slice(0, 300)}...` : message;
}
