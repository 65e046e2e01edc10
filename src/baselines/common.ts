import type { Evaluator } from "../evaluators/types.ts";
import type {
  Best,
  Candidate,
  CandidateSource,
  EvaluationRecord,
} from "../graph/state.ts";
import { toRecord } from "../search/records.ts";
import type { Cost, SearchSpace } from "../spaces/types.ts";
import type { Rng } from "../util/random.ts";

/** Settings shared by the baseline searches. */
export interface BaselineOptions {
  space: SearchSpace;
  evaluator: Evaluator;
  budget: number;
  seed: number;
  /** Returns why a cost violates the constraints, or null. */
  checkCost?: (cost: Cost) => string | null;
  /** Stop once the best accuracy reaches this value. */
  target?: number | null;
  /** Called after every evaluation. */
  onEvaluation?: (record: EvaluationRecord, best: Best | null) => void;
}

export interface BaselineResult {
  history: EvaluationRecord[];
  best: Best | null;
  stopReason: string;
}

/**
 * Book-keeping shared by the baselines: the visited set, the history, the
 * best, and the stop rules. Each evaluation is one step ("round").
 */
export class BaselineRun {
  readonly history: EvaluationRecord[] = [];
  best: Best | null = null;
  private readonly visited = new Set<string>();

  constructor(
    private readonly options: BaselineOptions,
    private readonly source: CandidateSource,
  ) {}

  get done(): boolean {
    return this.stopReason() !== null;
  }

  stopReason(): string | null {
    const { target, budget } = this.options;
    if (target != null && this.best && this.best.accuracy >= target) {
      return `target reached: ${this.best.accuracy.toFixed(2)}% >= ${target}%`;
    }
    if (this.history.length >= budget) {
      return `budget spent: ${this.history.length} evaluations`;
    }
    return null;
  }

  /** True when the architecture is new and meets the constraints. */
  admissible(arch: unknown): boolean {
    const { space, checkCost } = this.options;
    if (this.visited.has(space.key(arch))) return false;
    return !checkCost || checkCost(space.cost(arch)) === null;
  }

  /** Draws architectures until one is admissible; null when none is found. */
  draw(next: () => unknown, attempts = 10_000): unknown | null {
    for (let i = 0; i < attempts; i++) {
      const arch = next();
      if (this.admissible(arch)) return arch;
    }
    return null;
  }

  /** Evaluates one architecture and records it. */
  async evaluate(arch: unknown): Promise<EvaluationRecord> {
    const { space, evaluator } = this.options;
    const key = space.key(arch);
    this.visited.add(key);
    const candidate: Candidate = {
      key,
      arch: space.toJSON(arch),
      cost: space.cost(arch),
      source: this.source,
      repairs: [],
    };
    const [result] = await evaluator.evaluate([{ key, arch: candidate.arch }]);
    const record = toRecord(this.history.length + 1, candidate, result);
    this.history.push(record);
    const accuracy = record.metrics.accuracy;
    if (accuracy !== undefined && (!this.best || accuracy > this.best.accuracy)) {
      this.best = { key, arch: record.arch, accuracy, round: record.round };
    }
    this.options.onEvaluation?.(record, this.best);
    return record;
  }

  result(fallbackReason: string): BaselineResult {
    return {
      history: this.history,
      best: this.best,
      stopReason: this.stopReason() ?? fallbackReason,
    };
  }
}

export type { Rng };
