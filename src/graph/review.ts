import { END, interrupt } from "@langchain/langgraph";
import { z } from "zod";
import type { RoundStrategy, SearchStateType, SearchUpdate } from "./state.ts";

/** The stop reason of a search that a reviewer ended. */
export const REVIEWER_STOP_REASON = "stopped by reviewer";

/** Interrupt payload: the strategy the Navigator wrote for a round. */
export interface ReviewRequest {
  round: number;
  strategy: string;
  author: RoundStrategy["author"];
}

/** Resume value of a review interrupt, passed as `new Command({ resume })`. */
export const ReviewDecisionSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("approve") }),
  z.object({
    action: z.literal("edit"),
    strategy: z.string().trim().min(1, { message: "an edited strategy must not be empty" }),
  }),
  z.object({ action: z.literal("stop") }),
]);

export type ReviewDecision = z.infer<typeof ReviewDecisionSchema>;

/**
 * Review node between the Navigator and the Generator. When the task has
 * `review: true` it interrupts the graph with the round's strategy and
 * applies the reviewer's decision: approve keeps the strategy, edit
 * replaces it (also in the Navigator's memory, so the next round builds on
 * the strategy that ran), stop ends the search. Without review it passes.
 *
 * An interrupt needs a checkpointer, because the resumed run reloads the
 * state from the checkpoint saved at the interrupt.
 */
export function reviewStrategy(state: SearchStateType): SearchUpdate {
  if (!state.task.review) return {};

  const latest = state.strategies.at(-1);
  const request: ReviewRequest = {
    round: state.round,
    strategy: state.strategy,
    author: latest?.round === state.round ? latest.author : "offline",
  };
  const decision = interrupt<ReviewRequest, ReviewDecision>(request, {
    responseSchema: ReviewDecisionSchema,
  });

  if (decision.action === "stop") {
    return { stopReason: REVIEWER_STOP_REASON };
  }
  if (decision.action === "approve") {
    return {};
  }
  const strategy = decision.strategy.trim();
  return {
    strategy,
    strategies: [{ round: state.round, strategy, author: "reviewer" }],
    navigatorMemory: state.navigatorMemory.map((exchange) =>
      exchange.round === state.round ? { ...exchange, strategy } : exchange,
    ),
  };
}

/** Sends the search on to the Generator unless the reviewer stopped it. */
export function routeAfterReview(state: SearchStateType): "generator" | typeof END {
  return state.stopReason ? END : "generator";
}
