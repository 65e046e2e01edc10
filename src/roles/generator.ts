import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { renderPrompt } from "../prompts.ts";
import type { SearchRuntime } from "../graph/runtime.ts";
import type { SearchStateType, SearchUpdate } from "../graph/state.ts";
import { addUsage, callGenerator, callTokens } from "../llm/call.ts";
import { strategyExcerpt, withRoundMetadata } from "../graph/trace-metadata.ts";
import { Rng } from "../util/random.ts";
import { offlineCandidates } from "./offline-policy.ts";
import { formatArch } from "./format.ts";
import { errorText } from "./navigator.ts";
import { historyIndex } from "./history-index.ts";
import { rankRecords } from "./statistics.ts";

/**
 * Evaluated architectures listed in the Generator's prompt: the best ones
 * and the most recent ones, so its prompt stays bounded however long the
 * search runs. Repeats of unlisted ones are still dropped by the
 * Coordinator.
 */
export const LISTED_BEST = 30;
export const LISTED_RECENT = 30;

/** Candidates the current round still needs. */
export function candidatesNeeded(state: SearchStateType): number {
  const left = state.task.budget - state.history.length;
  return Math.max(0, Math.min(state.task.candidatesPerRound, left));
}

/** Keys that no new candidate may repeat; `add` marks one more. */
export interface VisitedKeys {
  has(key: string): boolean;
  add(key: string): void;
}

/**
 * Keys evaluated or pending, which no new candidate may repeat. Keys added
 * to the result stay local to it; the history's keys are looked up in its
 * index, not copied.
 */
export function visitedKeys(state: SearchStateType): VisitedKeys {
  const index = historyIndex(state.history);
  const added = new Set(state.pending.map((candidate) => candidate.key));
  return {
    has: (key) => added.has(key) || index.has(key),
    add: (key) => {
      added.add(key);
    },
  };
}

/**
 * The Generator's user prompt: the strategy, the constraints and the
 * evaluated architectures in compact form. It carries no earlier
 * Generator exchange: the Generator is stateless.
 */
export function generatorRequest(
  state: SearchStateType,
  runtime: SearchRuntime,
  count: number,
): string {
  const { space } = runtime;
  const ranked = rankRecords(state.history);
  const listed = new Map<string, string>();
  for (const record of ranked.slice(0, LISTED_BEST)) {
    listed.set(record.key, formatArch(space, record.arch));
  }
  for (const record of state.history.slice(-LISTED_RECENT)) {
    listed.set(record.key, formatArch(space, record.arch));
  }
  const omitted = state.history.length - listed.size;
  return renderPrompt("generator-user", {
    strategy: state.strategy,
    constraints: state.task.constraints || "none",
    evaluated_count: state.history.length,
    evaluated_note:
      omitted > 0
        ? `the best ${LISTED_BEST} and the latest ${LISTED_RECENT} are listed`
        : "all are listed",
    evaluated: listed.size > 0 ? [...listed.values()].map((a) => `- ${a}`).join("\n") : "(none)",
    count,
  });
}

/**
 * Generator node: turns the current strategy into candidate
 * architectures. With an LLM it sees only the strategy, the space, the
 * constraints and the evaluated list; without one, or when the call fails,
 * the offline policy proposes mutations biased by the strategy's weights.
 */
export async function runGenerator(
  state: SearchStateType,
  runtime: SearchRuntime,
  config: LangGraphRunnableConfig,
): Promise<SearchUpdate> {
  const { space } = runtime;
  const count = candidatesNeeded(state) - state.pending.length;
  const calls = state.generatorCalls + 1;
  const model = runtime.generatorModel;
  const offline = (): SearchUpdate => {
    const rng = new Rng(state.rngState);
    const proposals = offlineCandidates(space, {
      history: state.history,
      guidance: state.guidance,
      count,
      rng,
      visited: visitedKeys(state),
      feasible: (arch) => !runtime.checkCost || runtime.checkCost(space.cost(arch)) === null,
      cacheKey: runtime,
    }).map((arch) => space.toJSON(arch));
    return { proposals, proposalSource: "generator", generatorCalls: calls, rngState: rng.seed };
  };
  if (!model) return offline();

  const messages = [
    new SystemMessage(
      renderPrompt("generator-system", {
        space_description: space.description,
        candidate_example: space.candidateExample,
      }),
    ),
    new HumanMessage(generatorRequest(state, runtime, count)),
  ];
  try {
    const { proposals, message, note } = await callGenerator(
      model,
      messages,
      space.candidateSchema,
      runtime.structuredOutput ?? "auto",
      withRoundMetadata(
        { ...config, runName: "generator_llm" },
        {
          round: state.round,
          candidates: count,
          evaluations: state.history.length,
          strategy_excerpt: strategyExcerpt(state.strategy),
        },
      ),
    );
    return {
      proposals,
      proposalSource: "generator",
      generatorCalls: calls,
      usage: { ...state.usage, generator: addUsage(state.usage.generator, message, messages) },
      roundUsage: [{ round: state.round, role: "generator", ...callTokens(message, messages) }],
      rejections: note
        ? [{ round: state.round, proposal: "(whole reply)", reason: note }]
        : [],
    };
  } catch (error) {
    return {
      ...offline(),
      // The offline policy's candidates stand in for the failed call.
      proposalSource: "fallback mutation",
      fallbacks: [{ round: state.round, role: "generator", error: errorText(error) }],
    };
  }
}
