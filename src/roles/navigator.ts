import { AIMessage, HumanMessage, SystemMessage } from "@langchain/core/messages";
import type { BaseMessage } from "@langchain/core/messages";
import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { renderPrompt } from "../prompts.ts";
import { normalizeTask } from "../graph/task.ts";
import type { SearchRuntime } from "../graph/runtime.ts";
import type {
  Exchange,
  SearchStateType,
  SearchUpdate,
} from "../graph/state.ts";
import { addUsage, callTokens } from "../llm/call.ts";
import { withRoundMetadata } from "../graph/trace-metadata.ts";
import { redactSecrets } from "../util/redact.ts";
import { offlineStrategy } from "./offline-policy.ts";
import { formatArch, formatBest, formatRejections, formatResults } from "./format.ts";
import { formatStatistics, geneStatistics, latestOfRound, rankRecords } from "./statistics.ts";
import { readStrategy } from "./strategy-check.ts";

/** Top architectures listed in the Navigator's summary of all results. */
const SUMMARY_TOP = 5;

/**
 * Builds the Navigator's prompt: the system prompt, the task, the last
 * exchanges, then this round's request. A remembered exchange shows its
 * strategy verbatim but its request as a one-paragraph summary, and older
 * rounds live only in the summary of all results inside the request, so
 * the prompt does not grow with the number of rounds.
 */
export function navigatorMessages(
  state: SearchStateType,
  runtime: SearchRuntime,
  request: string,
): BaseMessage[] {
  const { space } = runtime;
  const keep = runtime.memoryExchanges ?? 3;
  const messages: BaseMessage[] = [
    new SystemMessage(
      renderPrompt("navigator-system", {
        space_description: space.description,
        dimensions: space.dimensions.join(", "),
      }),
    ),
    new HumanMessage(initialRequest(state)),
  ];
  const recent = state.navigatorMemory.slice(-keep);
  recent.forEach((exchange, i) => {
    // The first exchange's request is the task message already above.
    if (!(exchange.round === 1 && i === 0)) {
      messages.push(new HumanMessage(exchange.summary ?? exchange.request));
    }
    messages.push(new AIMessage(exchange.strategy));
  });
  messages.push(new HumanMessage(request));
  return messages;
}

function initialRequest(state: SearchStateType): string {
  const { task } = state;
  return renderPrompt("navigator-initial", {
    objective: task.objective,
    target: task.target === null ? "none; maximize accuracy" : `${task.target}%`,
    constraints: task.constraints || "none",
    budget: task.budget,
    candidates: task.candidatesPerRound,
  });
}

/** Summarizes the results of round `state.round` in one paragraph, for the Navigator's memory. */
export function roundSummary(state: SearchStateType, runtime: SearchRuntime): string {
  const records = latestOfRound(state.history, state.round);
  const roundBest = rankRecords(records)[0];
  return renderPrompt("navigator-round-summary", {
    round: state.round,
    evaluated: state.history.length,
    budget: state.task.budget,
    count: records.length,
    failed: records.filter((record) => record.error !== undefined).length,
    rejected: latestOfRound(state.rejections, state.round).length,
    round_best: roundBest
      ? `${roundBest.metrics.accuracy!.toFixed(2)}% (${formatArch(runtime.space, roundBest.arch)})`
      : "none",
    best: formatBest(runtime.space, state.best),
  });
}

/** Builds the request for a round after the first: last round's results and a summary. */
export function updateRequest(state: SearchStateType, runtime: SearchRuntime): string {
  const { space } = runtime;
  const { task } = state;
  const lastRound = latestOfRound(state.history, state.round);
  const ranked = rankRecords(state.history);
  const top = formatResults(space, ranked.slice(0, SUMMARY_TOP));
  const summary = [
    `Evaluated: ${state.history.length}; failed: ${state.history.length - ranked.length}.`,
    `Top ${Math.min(SUMMARY_TOP, ranked.length)}:`,
    top,
    "Per design dimension (value, count, mean accuracy, count among the top fifth):",
    formatStatistics(geneStatistics(space, state.history)),
  ].join("\n");
  return renderPrompt("navigator-update", {
    round: state.round,
    evaluated: state.history.length,
    budget: task.budget,
    round_results: formatResults(space, lastRound),
    rejections: formatRejections(latestOfRound(state.rejections, state.round)),
    best: formatBest(space, state.best),
    target: task.target === null ? "none; maximize accuracy" : `${task.target}%`,
    constraints: task.constraints || "none",
    summary,
    next_round: state.round + 1,
  });
}

/**
 * Navigator node: writes the strategy for the next round. With an LLM it
 * revises its strategy from its memory and the new results; without one,
 * or when the LLM call fails, the offline policy writes it from statistics.
 */
export async function runNavigator(
  state: SearchStateType,
  runtime: SearchRuntime,
  config: LangGraphRunnableConfig,
): Promise<SearchUpdate> {
  let seeded: SearchUpdate = {};
  if (state.round === 0) {
    // The first step fills the defaults of a task given only in part and
    // seeds the random stream from the task.
    state = { ...state, task: normalizeTask(state.task, runtime.taskDefaults) };
    seeded = { rngState: state.task.seed };
  }
  const round = state.round + 1;
  const offline = offlineStrategy(runtime.space, state.task, state.history);
  const base: SearchUpdate = {
    task: state.task,
    ...seeded,
    round,
    guidance: offline.guidance,
    generatorCalls: 0,
    proposals: [],
    pending: [],
  };
  const model = runtime.navigatorModel;
  if (!model) {
    return {
      ...base,
      strategy: offline.strategy,
      strategies: [{ round, strategy: offline.strategy, author: "offline" }],
    };
  }

  const request = round === 1 ? initialRequest(state) : updateRequest(state, runtime);
  const messages =
    round === 1
      ? navigatorMessages(state, runtime, request).slice(0, 2)
      : navigatorMessages(state, runtime, request);
  try {
    const reply = (await model.invoke(
      messages,
      withRoundMetadata(
        { ...config, runName: "navigator_llm" },
        { round, evaluations: state.history.length },
      ),
    )) as AIMessage;
    const strategy = readStrategy(reply);
    const keep = runtime.memoryExchanges ?? 3;
    const summary = round === 1 ? undefined : roundSummary(state, runtime);
    const memory: Exchange[] = [
      ...state.navigatorMemory,
      { round, request, ...(summary === undefined ? {} : { summary }), strategy },
    ].slice(-keep);
    return {
      ...base,
      strategy,
      strategies: [{ round, strategy, author: "llm" }],
      navigatorMemory: memory,
      usage: {
        ...state.usage,
        navigator: addUsage(state.usage.navigator, reply, messages),
      },
      roundUsage: [{ round, role: "navigator", ...callTokens(reply, messages) }],
    };
  } catch (error) {
    return {
      ...base,
      strategy: offline.strategy,
      strategies: [{ round, strategy: offline.strategy, author: "offline fallback" }],
      fallbacks: [{ round, role: "navigator", error: errorText(error) }],
    };
  }
}

/** Error text for the history: one line of at most 300 characters, with secrets redacted. */
export function errorText(error: unknown): string {
  const raw = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const text = redactSecrets(raw).replace(/\s+/g, " ").trim();
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
