import { Command, type StateSnapshot } from "@langchain/langgraph";
import { createSearchGraph, recursionLimitFor } from "../graph/build.ts";
import type { ReviewRequest } from "../graph/review.ts";
import type { SearchStateType } from "../graph/state.ts";
import { searchTraceConfig } from "../graph/trace-metadata.ts";
import type { RoundEvent } from "../roles/coordinator.ts";
import type { SearchOptions, SearchOutcome } from "./run.ts";

/** Stop reason of a partial outcome, read while the search still runs. */
export const IN_PROGRESS = "in progress";

type SearchGraph = ReturnType<typeof createSearchGraph>;
type GraphInput = Record<string, unknown> | Command | null;

/**
 * Runs the CoLLM-NAS graph. With a checkpointer and a thread id, every step
 * is saved, `resume` continues the thread from its last checkpoint, and
 * `options.review` decides each review interrupt, which is then resumed
 * with `Command({ resume })`.
 */
export async function runCollmGraph(options: SearchOptions): Promise<SearchOutcome> {
  const { checkpointer, threadId, task } = options;
  if ((task.review || options.resume) && !(checkpointer && threadId)) {
    throw new RangeError(
      `${task.review ? "a reviewed" : "a resumed"} search needs a checkpointer and a thread id`,
    );
  }

  const graph = createSearchGraph({
    runtime: {
      space: options.space,
      evaluator: options.evaluator,
      navigatorModel: options.navigatorModel,
      generatorModel: options.generatorModel,
      structuredOutput: options.structuredOutput,
      checkCost: options.checkCost,
    },
    checkpointer,
  });
  const config = {
    recursionLimit: recursionLimitFor(task),
    configurable: threadId ? { thread_id: threadId } : undefined,
    // Each step waits until its checkpoint is saved, so a killed run loses
    // no evaluation it reported. The default "async" lets a slow saver fall
    // behind: PostgreSQL was still saving for seconds after a 0.5 s search.
    durability: "sync" as const,
    signal: options.signal,
    ...searchTraceConfig(task, "collm"),
  };

  // undefined: ask the reviewer first, because the thread waits at an interrupt.
  let input: GraphInput | undefined = { task, rngState: task.seed };
  if (options.resume) {
    const snapshot = await graph.getState(config);
    const state = snapshot.values as Partial<SearchStateType>;
    const waiting = pendingReview(snapshot) !== null;
    // `next` leaves out tasks whose writes were saved before the run
    // stopped, but LangGraph still has to apply those writes, so a thread
    // with any task left is unfinished.
    if (waiting) {
      input = undefined;
    } else if (snapshot.tasks.length > 0) {
      input = null;
    } else if (state.stopReason) {
      return toOutcome(state as SearchStateType, "stopped");
    }
    // Otherwise no step has run on the thread, and it starts from the task.
  }

  let final: SearchStateType | undefined;
  for (;;) {
    if (input !== undefined) {
      final = (await streamSearch(graph, input, config, options)) ?? final;
    }
    if (!checkpointer) break;

    const snapshot = await graph.getState(config);
    final = snapshot.values as SearchStateType;
    const request = pendingReview(snapshot);
    if (request === null) break;
    if (!options.review) {
      throw new Error(
        `the search waits for a review of round ${request.round} on thread ${threadId}, ` +
          "but no reviewer was given",
      );
    }
    input = new Command({ resume: await options.review(request) });
  }
  if (!final) throw new Error("the search graph returned no state");
  return toOutcome(final, "stopped");
}

/**
 * Streams one run of the graph, reporting each round's event and the state
 * after it. Returns the last state, or undefined when the run emitted none.
 */
async function streamSearch(
  graph: SearchGraph,
  input: GraphInput,
  config: Record<string, unknown>,
  options: SearchOptions,
): Promise<SearchStateType | undefined> {
  const stream = await graph.stream(input as never, {
    ...config,
    streamMode: ["custom", "values"],
  });
  let last: SearchStateType | undefined;
  let roundEvent: RoundEvent | null = null;
  for await (const [mode, chunk] of stream) {
    if (mode === "custom") {
      roundEvent = chunk as RoundEvent;
      options.onProgress?.(roundEvent);
      continue;
    }
    // A run that stops at an interrupt also emits its payload here.
    if ("__interrupt__" in (chunk as object)) continue;
    last = chunk as SearchStateType;
    // The values after the Coordinator's step include the round's records.
    if (roundEvent) {
      await options.onRound?.(toOutcome(last, IN_PROGRESS), roundEvent);
      roundEvent = null;
    }
  }
  return last;
}

/** Returns the payload of the review interrupt the thread waits at, if any. */
function pendingReview(snapshot: StateSnapshot): ReviewRequest | null {
  for (const task of snapshot.tasks) {
    for (const pending of task.interrupts ?? []) {
      return pending.value as ReviewRequest;
    }
  }
  return null;
}

function toOutcome(state: SearchStateType, stopReason: string): SearchOutcome {
  return {
    history: state.history,
    best: state.best,
    stopReason: state.stopReason ?? stopReason,
    usage: state.usage,
    // A thread checkpointed before per-round counts existed has none.
    roundUsage: state.roundUsage ?? [],
    rejections: state.rejections,
    fallbacks: state.fallbacks,
    strategies: state.strategies,
  };
}
