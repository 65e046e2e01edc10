import type { AIMessage } from "@langchain/core/messages";
import { contentText } from "../llm/call.ts";
import { redactSecrets } from "../util/redact.ts";

/**
 * Maximum strategy length in characters. The strategy goes into every
 * Generator prompt and into the Navigator's memory, so a runaway reply is
 * cut to this length. A useful strategy has a few thousand characters.
 */
export const MAX_STRATEGY_CHARS = 20_000;

/** Maximum length of a reply that the refusal check reads as a refusal. */
const MAX_REFUSAL_CHARS = 400;

/** Openings of a model's refusal, in English. */
const REFUSAL_PATTERN =
  /^(?:I['’]m sorry|I am sorry|sorry[,.]|I can(?:no|['’])t|I won['’]t|I will not|I['’]m unable|I am unable|I['’]m not able|I am not able|As an AI)/i;

/** A Navigator reply that cannot serve as a strategy. */
export class UnusableStrategyError extends Error {
  override name = "UnusableStrategyError";
}

/**
 * Reads the strategy from a Navigator reply. The text is data for the
 * Generator's prompt and nothing else: nothing in it is executed or
 * followed by this code.
 *
 * @throws UnusableStrategyError for an empty reply or a refusal (marked by
 *   the API's `refusal` field, or a short reply that opens like one)
 * @returns the trimmed text with secrets redacted, cut to
 *   `MAX_STRATEGY_CHARS` with a marker
 */
export function readStrategy(reply: AIMessage): string {
  const refusal = reply.additional_kwargs?.refusal;
  if (typeof refusal === "string" && refusal.trim() !== "") {
    throw new UnusableStrategyError(`the Navigator's reply is a refusal: ${refusal.trim().slice(0, 200)}`);
  }
  const strategy = redactSecrets(contentText(reply)).trim();
  if (strategy.length === 0) {
    throw new UnusableStrategyError("the Navigator returned an empty strategy");
  }
  // NOTE: a heuristic. A refusal in another language, or a long one, passes
  // as a strategy. The Generator then gets no guidance from it, but the
  // Coordinator still fills the round.
  if (strategy.length <= MAX_REFUSAL_CHARS && REFUSAL_PATTERN.test(strategy)) {
    throw new UnusableStrategyError(`the Navigator's reply is a refusal: ${strategy.slice(0, 200)}`);
  }
  if (strategy.length > MAX_STRATEGY_CHARS) {
    return `${strategy.slice(0, MAX_STRATEGY_CHARS)}\n[strategy cut at ${MAX_STRATEGY_CHARS} characters]`;
  }
  return strategy;
}
