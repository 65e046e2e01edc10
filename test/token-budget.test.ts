import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { BaseMessage } from "@langchain/core/messages";
import type { SearchTask } from "../src/graph/state.ts";
import { contentText, countTokens } from "../src/llm/call.ts";
import { LISTED_BEST, LISTED_RECENT } from "../src/roles/generator.ts";
import { buildResult } from "../src/search/result.ts";
import { runSearch, type SearchOutcome } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { navigatorStrategy, sequentialGenerator, strategyMarker } from "./fixtures/llm/replies.ts";
import { ScriptedChatModel } from "./helpers/scripted-model.ts";
import { SyntheticEvaluator } from "./helpers/synthetic-evaluator.ts";

const BUDGET = 500;
const PER_ROUND = 10;
const ROUNDS = BUDGET / PER_ROUND;

/** Largest Navigator prompt at round 50 as a multiple of its prompt at round 3. */
const NAVIGATOR_GROWTH_LIMIT = 1.5;

function promptTokens(messages: readonly BaseMessage[]): number {
  return messages.reduce((sum, message) => sum + countTokens(contentText(message)), 0);
}

/** Lines of the Generator's prompt that list an evaluated architecture. */
function listedArchitectures(messages: readonly BaseMessage[]): number {
  const text = contentText(messages.at(-1)!);
  return text.split("\n").filter((line) => line.startsWith("- |")).length;
}

/** Tokens of the Generator's prompt without the lines that list architectures. */
function unlistedTokens(messages: readonly BaseMessage[]): number {
  const request = contentText(messages.at(-1)!)
    .split("\n")
    .filter((line) => !line.startsWith("- |"))
    .join("\n");
  return countTokens(contentText(messages[0])) + countTokens(request);
}

describe("token budget", () => {
  let navigator: ScriptedChatModel;
  let generator: ScriptedChatModel;
  let outcome: SearchOutcome;

  before(async () => {
    let round = 0;
    navigator = new ScriptedChatModel([], () => navigatorStrategy(strategyMarker(++round)));
    generator = new ScriptedChatModel([], sequentialGenerator(0));
    const task: SearchTask = {
      space: "nb201",
      objective: "maximize synthetic accuracy",
      budget: BUDGET,
      candidatesPerRound: PER_ROUND,
      target: null,
      maxRounds: null,
      constraints: "",
      maxGeneratorRetries: 2,
      seed: 0,
    };
    outcome = await runSearch({
      strategy: "collm",
      space: createNb201Space(),
      evaluator: new SyntheticEvaluator(),
      task,
      navigatorModel: navigator,
      generatorModel: generator,
    });
  });

  test("search runs fifty rounds", () => {
    assert.equal(outcome.history.length, BUDGET);
    assert.equal(navigator.prompts.length, ROUNDS);
    assert.equal(generator.prompts.length, ROUNDS);
  });

  test("navigator prompt stays bounded", () => {
    const round3 = promptTokens(navigator.prompts[2]);
    const round50 = promptTokens(navigator.prompts[ROUNDS - 1]);

    assert.ok(
      round50 <= NAVIGATOR_GROWTH_LIMIT * round3,
      `round 50 prompt has ${round50} tokens, round 3 has ${round3}`,
    );
  });

  test("generator lists the compact form", () => {
    // The best and the latest lists overlap, so the union may be shorter
    // than their sum but never shorter than the latest list.
    for (const [i, prompt] of generator.prompts.entries()) {
      const evaluated = i * PER_ROUND;
      const listed = listedArchitectures(prompt);
      assert.ok(listed <= LISTED_BEST + LISTED_RECENT, `round ${i + 1}: ${listed} listed`);
      assert.ok(listed >= Math.min(evaluated, LISTED_RECENT), `round ${i + 1}: ${listed} listed`);
    }
  });

  test("generator prompt outside the list stays flat", () => {
    // The listed architectures are bounded by the test above; the rest of
    // the prompt must not grow with the number evaluated either.
    const round7 = unlistedTokens(generator.prompts[6]);
    const round50 = unlistedTokens(generator.prompts[ROUNDS - 1]);

    assert.ok(
      round50 <= round7 * 1.05,
      `round 50 prompt has ${round50} tokens outside the list, round 7 has ${round7}`,
    );
  });

  test("usage recorded per round", () => {
    const result = buildResult(outcome, {
      strategy: "collm",
      space: "nb201",
      budget: BUDGET,
      llm: { navigator: "scripted", generator: "scripted" },
      settings: {},
    });
    const byRound = result.usageByRound!;
    const sum = (role: "navigator" | "generator", field: "calls" | "promptTokens") =>
      byRound.reduce((total, entry) => total + entry[role][field], 0);

    assert.equal(byRound.length, ROUNDS);
    assert.deepEqual(
      byRound.map((entry) => entry.round),
      Array.from({ length: ROUNDS }, (_v, i) => i + 1),
    );
    assert.equal(sum("navigator", "calls"), outcome.usage!.navigator.calls);
    assert.equal(sum("generator", "calls"), outcome.usage!.generator.calls);
    assert.equal(sum("navigator", "promptTokens"), outcome.usage!.navigator.promptTokens);
    assert.equal(sum("generator", "promptTokens"), outcome.usage!.generator.promptTokens);
  });
});
