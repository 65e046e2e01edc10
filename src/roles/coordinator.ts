import { AIMessage, RemoveMessage, ToolMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import type { SearchRuntime } from "../graph/runtime.ts";
import type {
  CoordinatorRoute,
  Best,
  Candidate,
  EvaluationRecord,
  Rejection,
  SearchStateType,
  SearchUpdate,
} from "../graph/state.ts";
import { EVALUATE_TOOL_NAME, type ToolEvaluation } from "../../tools/evaluate-architectures.ts";
import { Rng } from "../util/random.ts";
import { toRecord } from "../search/records.ts";
import { candidatesNeeded, visitedKeys, type VisitedKeys } from "./generator.ts";
import { historyIndex } from "./history-index.ts";
import { latestOfRound, rankRecords } from "./statistics.ts";

/** Maximum length of the proposal text kept in a rejection record. */
const PROPOSAL_CHARS = 200;

/**
 * Consecutive rounds in which every evaluation failed after which the
 * search stops, because the evaluator has most likely stopped working.
 */
export const FAILED_ROUNDS_TO_STOP = 3;

/** Start of the stop reason written when the evaluator keeps failing. */
export const EVALUATOR_FAILING = "evaluator failing";

/** Progress event written to the custom stream after every round. */
export interface RoundEvent {
  type: "round";
  round: number;
  evaluations: number;
  budget: number;
  bestAccuracy: number | null;
  bestArch: unknown;
  evaluatedThisRound: number;
  rejectedThisRound: number;
  stopReason: string | null;
}

/**
 * Coordinator node. After the Generator it validates the proposals and
 * sends candidates to evaluation; after evaluation it records the results
 * and decides whether to stop.
 */
export async function runCoordinator(
  state: SearchStateType,
  runtime: SearchRuntime,
  config: LangGraphRunnableConfig,
): Promise<SearchUpdate & { route: CoordinatorRoute }> {
  const last = state.messages.at(-1);
  if (last && ToolMessage.isInstance(last)) {
    return recordResults(state, runtime, last, config);
  }
  return screenProposals(state, runtime);
}

/**
 * Validates, repairs, de-duplicates and checks the constraints of each
 * proposal; asks the Generator again when too few remain; otherwise fills
 * the round with mutations and calls the evaluation tool.
 */
function screenProposals(
  state: SearchStateType,
  runtime: SearchRuntime,
): SearchUpdate & { route: CoordinatorRoute } {
  const { space } = runtime;
  const needed = candidatesNeeded(state);
  const visited = visitedKeys(state);
  const index = historyIndex(state.history);
  const pending: Candidate[] = [...state.pending];
  const rejections: Rejection[] = [];
  const reject = (proposal: unknown, reason: string) =>
    rejections.push({ round: state.round, proposal: describe(proposal), reason });

  for (const proposal of state.proposals) {
    if (pending.length >= needed) {
      reject(proposal, "not evaluated: the round already has enough candidates");
      continue;
    }
    const schemaCheck = space.candidateSchema.safeParse(proposal);
    const parsed = space.parse(proposal);
    if (!parsed.ok) {
      reject(proposal, parsed.reason);
      continue;
    }
    const repairs = [...parsed.repairs];
    // The space's own JSON form (what the offline policy writes) needs no note.
    const canonical = JSON.stringify(proposal) === JSON.stringify(space.toJSON(parsed.arch));
    if (!schemaCheck.success && !canonical) repairs.unshift("not in the requested output form");

    const key = space.key(parsed.arch);
    if (visited.has(key)) {
      const round = index.roundOf(key);
      reject(
        proposal,
        round !== undefined
          ? `duplicate of an architecture evaluated in round ${round}`
          : "duplicate of a candidate already in this round",
      );
      continue;
    }

    const cost = space.cost(parsed.arch);
    const violation = runtime.checkCost?.(cost) ?? null;
    if (violation !== null) {
      reject(proposal, `violates the constraints: ${violation}`);
      continue;
    }

    visited.add(key);
    pending.push({ key, arch: space.toJSON(parsed.arch), cost, source: state.proposalSource, repairs });
  }

  const retriesLeft = state.generatorCalls <= state.task.maxGeneratorRetries;
  if (pending.length < needed && retriesLeft) {
    return { pending, proposals: [], rejections, route: "generator" };
  }

  const rng = new Rng(state.rngState);
  fillWithMutations(state, runtime, pending, visited, needed, rng);
  if (pending.length === 0) {
    return {
      pending,
      proposals: [],
      rejections,
      rngState: rng.seed,
      stopReason: "search space exhausted: no new architecture meets the constraints",
      route: "__end__",
    };
  }
  const call = new AIMessage({
    content: "",
    tool_calls: [
      {
        id: `evaluate-round-${state.round}`,
        name: EVALUATE_TOOL_NAME,
        args: { architectures: pending.map((c) => c.arch) },
        type: "tool_call",
      },
    ],
  });
  return {
    pending,
    proposals: [],
    rejections,
    rngState: rng.seed,
    messages: [call],
    route: "evaluate_architectures",
  };
}

/**
 * Fills the round with mutations of the best architectures, then with
 * random samples, so that a round never stalls on a Generator that keeps
 * failing. Every added candidate is new and meets the constraints.
 */
function fillWithMutations(
  state: SearchStateType,
  runtime: SearchRuntime,
  pending: Candidate[],
  visited: VisitedKeys,
  needed: number,
  rng: Rng,
): void {
  const { space } = runtime;
  const parents = rankRecords(state.history)
    .slice(0, 5)
    .map((record) => space.parse(record.arch))
    .flatMap((parsed) => (parsed.ok ? [parsed.arch] : []));
  const attempts = needed * 200;
  for (let i = 0; i < attempts && pending.length < needed; i++) {
    const arch =
      parents.length > 0 && i < attempts / 2
        ? space.mutate(parents[i % parents.length], rng)
        : space.sample(rng);
    const key = space.key(arch);
    if (visited.has(key)) continue;
    const cost = space.cost(arch);
    if (runtime.checkCost?.(cost)) continue;
    visited.add(key);
    pending.push({ key, arch: space.toJSON(arch), cost, source: "fallback mutation", repairs: [] });
  }
}

/** Records the evaluation results, tracks the best and applies the stop rules. */
function recordResults(
  state: SearchStateType,
  runtime: SearchRuntime,
  message: ToolMessage,
  config: LangGraphRunnableConfig,
): SearchUpdate & { route: CoordinatorRoute } {
  const evaluations = readEvaluations(message, state.pending);
  const records: EvaluationRecord[] = state.pending.map((candidate, i) =>
    toRecord(state.round, candidate, evaluations[i]?.result),
  );

  let best: Best | null = state.best;
  for (const record of records) {
    const accuracy = record.metrics.accuracy;
    if (accuracy === undefined || !Number.isFinite(accuracy)) continue;
    if (!best || accuracy > best.accuracy) {
      best = { key: record.key, arch: record.arch, accuracy, round: state.round };
    }
  }

  const evaluated = state.history.length + records.length;
  const { task } = state;
  let stopReason: string | null = null;
  if (task.target !== null && best && best.accuracy >= task.target) {
    stopReason = `target reached: ${best.accuracy.toFixed(2)}% >= ${task.target}%`;
  } else if (evaluated >= task.budget) {
    stopReason = `budget spent: ${evaluated} evaluations`;
  } else if (task.maxRounds !== null && state.round >= task.maxRounds) {
    stopReason = `round cap reached: ${state.round} rounds`;
  } else if (
    (historyIndex(state.history).failedRoundStreak(records) ??
      countFailedRounds(state.history, records)) >= FAILED_ROUNDS_TO_STOP
  ) {
    stopReason =
      `${EVALUATOR_FAILING}: every evaluation failed in the last ${FAILED_ROUNDS_TO_STOP} rounds ` +
      `(last error: ${records.at(-1)?.error})`;
  }

  const event: RoundEvent = {
    type: "round",
    round: state.round,
    evaluations: evaluated,
    budget: task.budget,
    bestAccuracy: best?.accuracy ?? null,
    bestArch: best?.arch ?? null,
    evaluatedThisRound: records.length,
    rejectedThisRound: latestOfRound(state.rejections, state.round).length,
    stopReason,
  };
  config.writer?.(event);

  return {
    history: records,
    pending: [],
    best,
    stopReason,
    messages: state.messages.map((m) => new RemoveMessage({ id: m.id! })),
    route: stopReason ? "__end__" : "navigator",
  };
}

/**
 * Counts the latest rounds, this one included, in which every evaluation
 * failed, stopping at the first round with a success. The history index
 * keeps this count as rounds are added; this full count serves records
 * out of round order.
 */
function countFailedRounds(
  history: readonly EvaluationRecord[],
  current: readonly EvaluationRecord[],
): number {
  const allFailed = new Map<number, boolean>();
  for (const record of [...history, ...current]) {
    const failedSoFar = allFailed.get(record.round) ?? true;
    allFailed.set(record.round, failedSoFar && record.error !== undefined);
  }
  const latestFirst = [...allFailed.entries()].sort((a, b) => b[0] - a[0]);
  let count = 0;
  for (const [, failed] of latestFirst) {
    if (!failed) break;
    count++;
  }
  return count;
}

/** Reads the tool's artifact, matching results to candidates by key. */
function readEvaluations(
  message: ToolMessage,
  pending: readonly Candidate[],
): (ToolEvaluation | undefined)[] {
  const artifact = message.artifact as ToolEvaluation[] | undefined;
  if (!Array.isArray(artifact)) {
    const error = `evaluation tool failed: ${String(message.content).slice(0, 300)}`;
    return pending.map((c) => ({ key: c.key, arch: c.arch, cost: c.cost, result: { key: c.key, ok: false, error } }));
  }
  const byKey = new Map(artifact.map((e) => [e.key, e]));
  return pending.map((c) => byKey.get(c.key));
}

function describe(proposal: unknown): string {
  let text: string;
  try {
    text = typeof proposal === "string" ? proposal : JSON.stringify(proposal) ?? String(proposal);
  } catch {
    text = String(proposal);
  }
  return text.length > PROPOSAL_CHARS ? `${text.slice(0, PROPOSAL_CHARS)}...` : text;
}
