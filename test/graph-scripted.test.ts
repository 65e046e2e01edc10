import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import { TableEvaluator } from "../src/evaluators/table.ts";
import { createSearchGraph, recursionLimitFor } from "../src/graph/build.ts";
import type { EvaluationRecord, Rejection, SearchTask } from "../src/graph/state.ts";
import { contentText } from "../src/llm/call.ts";
import { runSearch, type SearchOutcome } from "../src/search/run.ts";
import type { Cost } from "../src/spaces/types.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import {
  NO_JSON_REPLY,
  TRUNCATED_REPLY,
  generatorReply,
  navigatorStrategy,
  sequentialGenerator,
  strategyMarker,
  truncatedAfter,
} from "./fixtures/llm/replies.ts";
import { cellAt, cellString, requestedCount } from "./helpers/cells.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";
import { ScriptedChatModel } from "./helpers/scripted-model.ts";

const space = createNb201Space();

/** The best cell of the table on CIFAR-10 (94.37% test accuracy). */
const BEST_CELL =
  "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

function task(overrides: Partial<SearchTask> = {}): SearchTask {
  return {
    space: "nb201",
    objective: "maximize cifar10_test_acc of the network",
    budget: 20,
    candidatesPerRound: 5,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 2,
    seed: 0,
    ...overrides,
  };
}

/** Creates a Navigator that writes the marked strategy of each round it is called in. */
function markedNavigator(): ScriptedChatModel {
  let round = 0;
  return new ScriptedChatModel([], () => navigatorStrategy(strategyMarker(++round)));
}

function promptText(messages: readonly BaseMessage[]): string {
  return messages.map((message) => contentText(message)).join("\n");
}

function archs(outcome: SearchOutcome): unknown[] {
  return outcome.history.map((record) => record.arch);
}

function countOf(values: readonly unknown[], value: unknown): number {
  return values.filter((v) => v === value).length;
}

describe("scripted search graph", { skip: nb201Skip }, () => {
  let table: TableEvaluator;

  before(async () => {
    table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
  });

  describe("navigator memory", () => {
    const MEMORY = 2;
    const ROUNDS = 6;
    let navigator: ScriptedChatModel;
    let generator: ScriptedChatModel;
    let history: EvaluationRecord[];
    /** Round of each Generator prompt, read from the Navigator's call count. */
    const generatorRounds: number[] = [];

    before(async () => {
      navigator = markedNavigator();
      const propose = sequentialGenerator(0);
      generator = new ScriptedChatModel([], (messages) => {
        generatorRounds.push(navigator.prompts.length);
        return propose(messages);
      });
      const graph = createSearchGraph({
        runtime: {
          space,
          evaluator: table,
          navigatorModel: navigator,
          generatorModel: generator,
          memoryExchanges: MEMORY,
        },
      });
      const searchTask = task({ budget: 5 * ROUNDS });
      const final = await graph.invoke(
        { task: searchTask, rngState: searchTask.seed },
        { recursionLimit: recursionLimitFor(searchTask) },
      );
      history = final.history;
    });

    test("runs one navigator call per round", () => {
      assert.equal(navigator.prompts.length, ROUNDS);
    });

    test("round 3 prompt contains earlier strategies", () => {
      const prompt = promptText(navigator.prompts[2]);
      assert.ok(prompt.includes(strategyMarker(1)), "round-1 strategy missing");
      assert.ok(prompt.includes(strategyMarker(2)), "round-2 strategy missing");
    });

    test("round 3 prompt contains round results", () => {
      const prompt = promptText(navigator.prompts[2]);
      assert.ok(prompt.includes("Round 1 results"));
      assert.ok(prompt.includes("Round 2 results"));
      for (const record of history.filter((r) => r.round === 2)) {
        const line = `${record.arch}; ${record.metrics.accuracy!.toFixed(2)}`;
        assert.ok(prompt.includes(line), `round-2 result "${line}" missing`);
      }
    });

    test("memory drops the oldest strategy", () => {
      // Round MEMORY + 2 remembers rounds 2..MEMORY + 1 only.
      const prompt = promptText(navigator.prompts[MEMORY + 1]);
      assert.ok(!prompt.includes(strategyMarker(1)), "round-1 strategy still present");
      assert.ok(prompt.includes(strategyMarker(2)), "round-2 strategy missing");
      assert.ok(prompt.includes("The search starts now."), "task message missing");
    });

    test("prompt length stays bounded", () => {
      // System, task, MEMORY request/strategy pairs, then this round's request.
      const expected = 2 + 2 * MEMORY + 1;
      for (let round = MEMORY + 2; round <= ROUNDS; round++) {
        assert.equal(navigator.prompts[round - 1].length, expected, `round ${round}`);
      }
    });

    test("generator prompt is system plus one request", () => {
      for (const prompt of generator.prompts) {
        assert.equal(prompt.length, 2);
        assert.ok(SystemMessage.isInstance(prompt[0]));
        assert.ok(HumanMessage.isInstance(prompt[1]));
      }
    });

    test("generator sees only the current strategy", () => {
      assert.equal(generator.prompts.length, ROUNDS);
      generator.prompts.forEach((prompt, i) => {
        const round = generatorRounds[i];
        const text = promptText(prompt);
        assert.ok(text.includes(strategyMarker(round)), `round ${round} strategy missing`);
        for (let earlier = 1; earlier < round; earlier++) {
          const leaked = text.includes(strategyMarker(earlier));
          assert.ok(!leaked, `round ${earlier} strategy in round ${round}`);
        }
      });
    });
  });

  describe("rejected proposals", () => {
    const FLOPS_LIMIT = 150;
    const checkCost = (cost: Cost) =>
      cost.flopsM! > FLOPS_LIMIT ? `flopsM ${cost.flopsM!.toFixed(1)} > ${FLOPS_LIMIT}` : null;

    const roundOne = [0, 1, 2, 3, 4].map(cellAt);
    const repeated = cellAt(5);
    const fresh = cellAt(6);
    const roundThree = [7, 8, 9, 10, 11].map(cellAt);
    const unknownOp = cellString([
      "conv_5x5",
      "nor_conv_1x1",
      "skip_connect",
      "nor_conv_1x1",
      "skip_connect",
      "nor_conv_1x1",
    ]);
    const fiveOps = [
      "nor_conv_3x3",
      "skip_connect",
      "nor_conv_1x1",
      "skip_connect",
      "nor_conv_3x3",
    ];
    const otherSpace = { ks: [3, 5, 7], e: [3, 4, 6], d: [2, 3, 4] };
    const tooLarge = cellString(Array(6).fill("nor_conv_3x3"));
    const mixedReply = JSON.stringify({
      candidates: [
        { arch: unknownOp },
        { arch: fiveOps },
        { arch: roundOne[0] },
        { arch: repeated },
        { arch: repeated },
        { arch: otherSpace },
        { arch: tooLarge },
        { arch: fresh },
      ],
    });

    let outcome: SearchOutcome;
    let navigator: ScriptedChatModel;
    let generator: ScriptedChatModel;
    const roundTwo = (all: readonly Rejection[]) => all.filter((r) => r.round === 2);
    const rejectionOf = (fragment: string) => {
      const found = outcome.rejections.filter((r) => r.proposal.includes(fragment));
      assert.equal(found.length, 1, `expected one rejection of ${fragment}`);
      return found[0];
    };

    before(async () => {
      navigator = markedNavigator();
      generator = new ScriptedChatModel([
        generatorReply(roundOne),
        NO_JSON_REPLY,
        TRUNCATED_REPLY,
        mixedReply,
        truncatedAfter(roundThree.slice(0, 2)),
        generatorReply(roundThree.slice(2)),
      ]);
      outcome = await runSearch({
        strategy: "collm",
        space,
        evaluator: table,
        task: task({ budget: 15 }),
        navigatorModel: navigator,
        generatorModel: generator,
        checkCost,
      });
    });

    test("search spends the budget", () => {
      assert.equal(outcome.history.length, 15);
      assert.equal(generator.prompts.length, 6);
    });

    test("reply without JSON is rejected", () => {
      const [first] = roundTwo(outcome.rejections);
      assert.deepEqual(first, {
        round: 2,
        proposal: "(whole reply)",
        reason: "no JSON found in the reply",
      });
    });

    test("truncated JSON is rejected", () => {
      const [, second] = roundTwo(outcome.rejections);
      assert.deepEqual(second, {
        round: 2,
        proposal: "(whole reply)",
        reason: "no JSON found in the reply",
      });
    });

    test("truncated reply keeps complete items", () => {
      const third = outcome.history.filter((r) => r.round === 3).map((r) => r.arch);
      assert.ok(third.includes(roundThree[0]));
      assert.ok(third.includes(roundThree[1]));
    });

    test("unknown operation is rejected", () => {
      const rejection = rejectionOf("conv_5x5");
      assert.equal(rejection.round, 2);
      assert.match(rejection.reason, /unknown operation "conv_5x5" on edge 1<-0/);
    });

    test("wrong edge count is rejected", () => {
      const rejection = rejectionOf(JSON.stringify(fiveOps));
      assert.match(rejection.reason, /cell has 5 operations; expected 6/);
    });

    test("architecture of another space is rejected", () => {
      const rejection = rejectionOf('"ks":[3,5,7]');
      assert.match(rejection.reason, /invalid cell/);
      assert.match(rejection.reason, /expected a cell string/);
    });

    test("constraint violation is rejected", () => {
      const rejection = rejectionOf(tooLarge);
      assert.match(rejection.reason, /^violates the constraints: flopsM 220\.1 > 150$/);
    });

    test("repeat of an evaluated cell is rejected", () => {
      const rejection = roundTwo(outcome.rejections).find((r) => r.proposal.includes(roundOne[0]));
      assert.equal(rejection?.reason, "duplicate of an architecture evaluated in round 1");
    });

    test("repeat within a reply is rejected", () => {
      const found = outcome.rejections.filter((r) => r.proposal.includes(repeated));
      assert.equal(found.length, 1);
      assert.equal(found[0].reason, "duplicate of a candidate already in this round");
    });

    test("rejected proposals are never evaluated", () => {
      const evaluated = archs(outcome);
      assert.equal(countOf(evaluated, roundOne[0]), 1);
      assert.equal(countOf(evaluated, repeated), 1);
      assert.equal(countOf(evaluated, tooLarge), 0);
      assert.ok(evaluated.every((arch) => typeof arch === "string" && !arch.includes("conv_5x5")));
    });

    test("valid proposals of a mixed reply are evaluated", () => {
      const second = outcome.history.filter((r) => r.round === 2);
      assert.equal(second.length, 5);
      assert.ok(second.some((r) => r.arch === repeated && r.source === "generator"));
      assert.ok(second.some((r) => r.arch === fresh && r.source === "generator"));
      assert.equal(second.filter((r) => r.source === "fallback mutation").length, 3);
    });

    test("usage counts calls per role", () => {
      // The scripted model reports 100 prompt and 10 completion tokens a call.
      assert.deepEqual(outcome.usage?.navigator, {
        calls: 3,
        promptTokens: 300,
        completionTokens: 30,
      });
      assert.deepEqual(outcome.usage?.generator, {
        calls: 6,
        promptTokens: 600,
        completionTokens: 60,
      });
    });
  });

  describe("stop rules", () => {
    test("budget is spent exactly", async () => {
      const generator = new ScriptedChatModel([], sequentialGenerator(0));
      const outcome = await runSearch({
        strategy: "collm",
        space,
        evaluator: table,
        task: task({ budget: 23, candidatesPerRound: 10 }),
        navigatorModel: markedNavigator(),
        generatorModel: generator,
      });
      assert.equal(outcome.history.length, 23);
      assert.match(outcome.stopReason, /^budget spent: 23 evaluations$/);
      const requested = generator.prompts.map((prompt) => requestedCount(contentText(prompt[1])));
      assert.deepEqual(requested, [10, 10, 3]);
    });

    test("target stops the search early", async () => {
      const outcome = await runSearch({
        strategy: "collm",
        space,
        evaluator: table,
        task: task({ budget: 100, target: 94.3 }),
        navigatorModel: markedNavigator(),
        generatorModel: new ScriptedChatModel([
          generatorReply([0, 1, 2, 3, 4].map(cellAt)),
          generatorReply([BEST_CELL, ...[5, 6, 7, 8].map(cellAt)]),
        ]),
      });
      assert.match(outcome.stopReason, /^target reached: 94\.37% >= 94\.3%$/);
      assert.equal(outcome.history.length, 10);
      assert.equal(outcome.best?.arch, BEST_CELL);
    });
  });

  describe("LLM errors", () => {
    let outcome: SearchOutcome;

    before(async () => {
      const propose = sequentialGenerator(0);
      outcome = await runSearch({
        strategy: "collm",
        space,
        evaluator: table,
        task: task({ budget: 20 }),
        navigatorModel: new ScriptedChatModel([
          navigatorStrategy(strategyMarker(1)),
          new Error("navigator endpoint unavailable"),
          navigatorStrategy(strategyMarker(3)),
          navigatorStrategy(strategyMarker(4)),
        ]),
        generatorModel: new ScriptedChatModel(
          [propose, propose, new Error("generator request timed out")],
          propose,
        ),
      });
    });

    test("navigator error is recorded", () => {
      const navigatorFallbacks = outcome.fallbacks.filter((f) => f.role === "navigator");
      assert.deepEqual(navigatorFallbacks, [
        { round: 2, role: "navigator", error: "Error: navigator endpoint unavailable" },
      ]);
    });

    test("navigator error uses the offline strategy", () => {
      const authors = outcome.strategies.map((s) => s.author);
      assert.deepEqual(authors, ["llm", "offline fallback", "llm", "llm"]);
      assert.match(outcome.strategies[1].strategy, /^## Summary/);
    });

    test("generator error is recorded", () => {
      const generatorFallbacks = outcome.fallbacks.filter((f) => f.role === "generator");
      assert.deepEqual(generatorFallbacks, [
        { round: 3, role: "generator", error: "Error: generator request timed out" },
      ]);
    });

    test("generator error still fills the round", () => {
      const rounds = outcome.history.map((r) => r.round);
      assert.deepEqual(
        [1, 2, 3, 4].map((round) => countOf(rounds, round)),
        [5, 5, 5, 5],
      );
    });

    test("generator error labels its candidates", () => {
      const third = outcome.history.filter((r) => r.round === 3);
      assert.ok(third.every((r) => r.source === "fallback mutation"));
      const others = outcome.history.filter((r) => r.round !== 3);
      assert.ok(others.every((r) => r.source === "generator"));
    });

    test("failed calls add no usage", () => {
      assert.equal(outcome.usage?.navigator.calls, 3);
      assert.equal(outcome.usage?.generator.calls, 3);
    });
  });
});
