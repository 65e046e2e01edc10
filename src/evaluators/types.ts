/** One architecture sent for evaluation. */
export interface EvaluationRequest {
  /** Canonical key from the search space. */
  key: string;
  /** The space's JSON form of the architecture. */
  arch: unknown;
}

/** Result of evaluating one architecture. */
export type EvaluationResult =
  | {
      key: string;
      ok: true;
      /** The search signal, in percent. */
      accuracy: number;
      /**
       * Metrics the search may see besides the accuracy (top-5, image
       * count, wall time).
       */
      metrics: Record<string, number>;
      /**
       * Metrics recorded in results only. They never reach a prompt, a
       * strategy or a baseline, so that a held-out test accuracy cannot
       * leak into the search.
       */
      report: Record<string, number>;
    }
  | { key: string; ok: false; error: string };

/**
 * An accuracy oracle for architectures: a benchmark table, an ONNX
 * supernet or an ONNX predictor.
 */
export interface Evaluator {
  /** Short name for logs and results, e.g. "table:cifar10_test_acc". */
  readonly name: string;
  /**
   * Evaluates a batch. Returns one result per request in request order. A
   * failure of one architecture is an error result, not a thrown error.
   */
  evaluate(
    requests: readonly EvaluationRequest[],
    options?: { signal?: AbortSignal },
  ): Promise<EvaluationResult[]>;
  /** Releases sessions and files. */
  close?(): Promise<void>;
}
