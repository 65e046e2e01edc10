import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, type BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";
import type { EvaluationRequest, EvaluationResult, Evaluator } from "../../src/evaluators/types.ts";
import { contentText } from "../../src/llm/call.ts";
import { cellString } from "../../test/helpers/cells.ts";
import { NB201_OPS } from "../../src/spaces/nb201.ts";

/** Milliseconds spent in the scripted LLMs and in the evaluator, accumulated. */
export interface Stopwatch {
  llmMs: number;
  evaluationMs: number;
}

/**
 * A chat model that returns `reply(prompt)` and adds the time it took to
 * the stopwatch. With `reportUsage` it reports fixed token counts, as an
 * OpenAI-compatible server does, so the search does not count tokens
 * itself. Without it the search counts them with o200k_base.
 */
export class TimedScriptedModel extends BaseChatModel {
  readonly prompts: BaseMessage[][] = [];

  constructor(
    private readonly reply: (messages: BaseMessage[]) => string,
    private readonly stopwatch: Stopwatch,
    private readonly reportUsage: boolean,
  ) {
    super({});
  }

  _llmType(): string {
    return "timed-scripted";
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    const started = performance.now();
    this.prompts.push(messages);
    const text = this.reply(messages);
    const message = new AIMessage({
      content: text,
      ...(this.reportUsage
        ? { usage_metadata: { input_tokens: 1000, output_tokens: 100, total_tokens: 1100 } }
        : {}),
    });
    this.stopwatch.llmMs += performance.now() - started;
    return { generations: [{ text, message }] };
  }
}

/** Wraps an evaluator and adds the time of every batch to the stopwatch. */
export function timedEvaluator(inner: Evaluator, stopwatch: Stopwatch): Evaluator {
  return {
    name: inner.name,
    evaluate: async (requests: readonly EvaluationRequest[], options) => {
      const started = performance.now();
      const results: EvaluationResult[] = await inner.evaluate(requests, options);
      stopwatch.evaluationMs += performance.now() - started;
      return results;
    },
  };
}

/** NAS-Bench-201 cells in all: five operations on each of six edges. */
const CELL_COUNT = NB201_OPS.length ** 6;

/**
 * Multiplier that visits every cell index once, in a scattered order: it
 * is coprime with 15,625 = 5^6.
 */
const STRIDE = 7919;

/**
 * Creates a Generator reply function that proposes, on each call, as many
 * cells as the prompt requests, walking all 15,625 cells in a fixed
 * scattered order, so that no cell is proposed twice.
 */
export function cellWalker(): (messages: BaseMessage[]) => string {
  let next = 0;
  return (messages) => {
    const match = /Propose (\d+) new/.exec(contentText(messages.at(-1)!));
    const count = match ? Number(match[1]) : 10;
    const candidates = Array.from({ length: count }, () => {
      let index = (next++ * STRIDE) % CELL_COUNT;
      const ops: string[] = [];
      for (let edge = 0; edge < 6; edge++) {
        ops.push(NB201_OPS[index % NB201_OPS.length]);
        index = Math.floor(index / NB201_OPS.length);
      }
      return { arch: cellString(ops) };
    });
    return JSON.stringify({ candidates });
  };
}
