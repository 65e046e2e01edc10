import { Annotation, messagesStateReducer } from "@langchain/langgraph";
import type { BaseMessage } from "@langchain/core/messages";
import type { Cost } from "../spaces/types.ts";

/** Node the Coordinator routes the search to next. */
export type CoordinatorRoute =
  | "generator"
  | "evaluate_architectures"
  | "navigator"
  | "__end__";

/** Origin of a candidate: the Generator, a fallback mutation or a baseline. */
export type CandidateSource =
  | "generator"
  | "fallback mutation"
  | "random"
  | "rea"
  | "ofa-evolution";

/** A candidate accepted by the Coordinator and waiting for evaluation. */
export interface Candidate {
  key: string;
  /** The space's JSON form. */
  arch: unknown;
  cost: Cost;
  source: CandidateSource;
  /** Repairs the Coordinator applied to the proposal. */
  repairs: string[];
}

/** One evaluated architecture. */
export interface EvaluationRecord {
  round: number;
  key: string;
  arch: unknown;
  source: CandidateSource;
  /** Search signal and visible metrics, including the cost. */
  metrics: { accuracy?: number } & Record<string, number | undefined>;
  /** Report-only metrics (held-out columns); never shown to the search. */
  report: Record<string, number>;
  /** Repairs the Coordinator applied to the proposal; absent when none. */
  repairs?: string[];
  /** Present when the evaluation failed. */
  error?: string;
}

/** A proposal the Coordinator did not send to evaluation, with the reason. */
export interface Rejection {
  round: number;
  /** The proposal as received, shortened for storage. */
  proposal: string;
  reason: string;
}

/** Prompt and completion tokens of one role. */
export interface RoleUsage {
  calls: number;
  promptTokens: number;
  completionTokens: number;
}

export type Usage = Record<"navigator" | "generator", RoleUsage>;

/** Tokens of one LLM call, for counts per round. */
export interface CallUsage {
  /** The round the call served: the Navigator's call for round r writes its strategy. */
  round: number;
  role: "navigator" | "generator";
  promptTokens: number;
  completionTokens: number;
}

/** An LLM call that failed and was replaced by the offline policy. */
export interface Fallback {
  round: number;
  role: "navigator" | "generator";
  error: string;
}

/** One Navigator exchange kept in memory. */
export interface Exchange {
  round: number;
  request: string;
  /**
   * The request's results in one paragraph, which later prompts show in
   * place of the request. Absent for round 1, whose request is the task,
   * and in threads checkpointed before summaries existed.
   */
  summary?: string;
  strategy: string;
}

/** Everything a search needs that is fixed for its whole run. */
export interface SearchTask {
  space: string;
  /** Search objective in words, for the prompts. */
  objective: string;
  budget: number;
  candidatesPerRound: number;
  /** Stop as soon as the best accuracy reaches this value (percent). */
  target: number | null;
  /** Stop after this many rounds. */
  maxRounds: number | null;
  /** Constraint expression, e.g. "flops<=400,params<=5". */
  constraints: string;
  /** Generator calls per round before the round is filled by mutation. */
  maxGeneratorRetries: number;
  seed: number;
  /** Interrupt after each Navigator strategy for a human review. */
  review?: boolean;
}

/** The strategy of one round and who wrote it. */
export interface RoundStrategy {
  round: number;
  strategy: string;
  /**
   * "llm", "offline", "offline fallback" after a failed LLM call, or
   * "reviewer" when a reviewer replaced the round's strategy.
   */
  author: "llm" | "offline" | "offline fallback" | "reviewer";
}

/** Best architecture so far. */
export interface Best {
  key: string;
  arch: unknown;
  accuracy: number;
  round: number;
}

/** Per-gene preference weights written by the offline Navigator. */
export type Guidance = Record<string, number[]>;

const replace = <T>(fallback: () => T) =>
  Annotation<T>({ reducer: (_old, next) => next, default: fallback });

const append = <T>() =>
  Annotation<T[]>({
    reducer: (old, next) => old.concat(next),
    default: () => [],
  });

/**
 * Channels whose value only grows at the end (the `append` reducer). The
 * SQLite checkpointer stores them as segments of new items.
 */
export const APPEND_CHANNELS = [
  "strategies",
  "history",
  "rejections",
  "fallbacks",
  "roundUsage",
] as const;

/** State of a CoLLM-NAS search. */
export const SearchState = Annotation.Root({
  /** Fixed settings of the search. */
  task: Annotation<SearchTask>(),
  /** Current round, from 1. */
  round: replace<number>(() => 0),
  /** Current strategy, as the Navigator last wrote it. */
  strategy: replace<string>(() => ""),
  /** Every strategy the Navigator wrote, by round. */
  strategies: append<RoundStrategy>(),
  /** Structured per-gene weights behind an offline strategy. */
  guidance: replace<Guidance>(() => ({})),
  /** Navigator memory: its last exchanges, bounded in number. */
  navigatorMemory: replace<Exchange[]>(() => []),
  /** Raw proposals of the latest Generator call. */
  proposals: replace<unknown[]>(() => []),
  /** Author of `proposals`: the Generator, or the offline policy after a failed call. */
  proposalSource: replace<CandidateSource>(() => "generator"),
  /** Generator calls made in the current round. */
  generatorCalls: replace<number>(() => 0),
  /** Candidates accepted this round, waiting for evaluation. */
  pending: replace<Candidate[]>(() => []),
  /** Every evaluation, in order. */
  history: append<EvaluationRecord>(),
  /** Every rejected proposal with its reason. */
  rejections: append<Rejection>(),
  /** LLM calls replaced by the offline policy. */
  fallbacks: append<Fallback>(),
  best: replace<Best | null>(() => null),
  usage: replace<Usage>(() => ({
    navigator: { calls: 0, promptTokens: 0, completionTokens: 0 },
    generator: { calls: 0, promptTokens: 0, completionTokens: 0 },
  })),
  /** Tokens of every LLM call that returned, in order. */
  roundUsage: append<CallUsage>(),
  /** State of the seeded random stream. */
  rngState: replace<number>(() => 0),
  /** The Coordinator's routing decision. */
  route: replace<CoordinatorRoute>(() => "generator"),
  /** Stop reason of the search, or null while it runs. */
  stopReason: replace<string | null>(() => null),
  /** Tool-call messages between the Coordinator and the evaluation tool. */
  messages: Annotation<BaseMessage[]>({
    reducer: messagesStateReducer,
    default: () => [],
  }),
});

export type SearchStateType = typeof SearchState.State;
export type SearchUpdate = typeof SearchState.Update;
