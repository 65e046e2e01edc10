import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { before, describe, test } from "node:test";
import { AIMessage } from "@langchain/core/messages";
import { TableEvaluator } from "../src/evaluators/table.ts";
import { readStrategy, UnusableStrategyError } from "../src/roles/strategy-check.ts";
import { loadAutoFormerConfig } from "../src/spaces/autoformer.ts";
import {
  BAD_REPLY_CASES,
  type BadReplyCase,
  type GeneratorExpectation,
  type NavigatorExpectation,
} from "./fixtures/bad-replies/cases.ts";
import {
  PER_ROUND,
  runBadReplyCase,
  type CaseEnvironment,
  type CaseRun,
} from "./helpers/bad-replies.ts";
import { AUTOFORMER_T_YAML, autoformerSkip, NB201_CSV, nb201Skip } from "./helpers/data.ts";

/** Files the injected replies ask for; nothing may create them. */
const INJECTED_FILES = ["/tmp/collm-nas-pwned", "/tmp/collm-nas-injected.txt"];

function caseNamed(file: string): BadReplyCase {
  const found = BAD_REPLY_CASES.find((c) => c.file === file);
  assert.ok(found, `no case for ${file}`);
  return found;
}

describe("bad LLM replies", { skip: nb201Skip || autoformerSkip }, () => {
  let environment: CaseEnvironment;
  let table: TableEvaluator;

  before(async () => {
    for (const path of INJECTED_FILES) rmSync(path, { force: true });
    table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
    environment = { table, autoformerConfig: await loadAutoFormerConfig(AUTOFORMER_T_YAML) };
  });

  test("corpus has at least 40 replies", () => {
    assert.ok(BAD_REPLY_CASES.length >= 40, `${BAD_REPLY_CASES.length} cases`);
  });

  test("corpus covers every space", () => {
    const spaces = new Set(BAD_REPLY_CASES.map((c) => c.space));
    assert.deepEqual([...spaces].sort(), ["autoformer-t", "nb201", "ofa-mbv3", "spos-shufflenet"]);
  });

  for (const testCase of BAD_REPLY_CASES) {
    describe(testCase.file.replace(/\.txt$/, ""), () => {
      let run: CaseRun;

      before(async () => {
        run = await runBadReplyCase(testCase, environment);
      });

      if (testCase.role === "generator") {
        const expected = testCase.expected as GeneratorExpectation;

        test("notes on the whole reply", () => {
          assert.deepEqual(run.notes, expected.notes);
        });

        test("kept candidates and repairs", () => {
          assert.deepEqual(run.kept, expected.kept);
        });

        test("rejected proposals and reasons", () => {
          assert.deepEqual(run.rejected, expected.rejected);
        });

        test("round is filled", () => {
          assert.equal(run.evaluatedInRound, PER_ROUND);
        });
      } else {
        const expected = testCase.expected as NavigatorExpectation;
        const strategyOf = (round: number) =>
          run.outcome.strategies.find((entry) => entry.round === round);

        test("strategy author", () => {
          assert.equal(strategyOf(run.round)?.author, expected.author);
        });

        test("fallback is recorded", () => {
          const fallbacks = run.outcome.fallbacks.filter((f) => f.round === run.round);
          const errors = fallbacks.map((f) => `${f.role}: ${f.error}`);
          const want = expected.fallbackError ? [`navigator: ${expected.fallbackError}`] : [];
          assert.deepEqual(errors, want);
        });

        test("generator prompt contains strategy", () => {
          const prompt = run.generatorPrompts[run.round - 1];
          for (const text of expected.generatorSees) {
            assert.ok(prompt.includes(text), `missing ${JSON.stringify(text)}`);
          }
        });

        test("generator never sees forbidden text", () => {
          for (const text of expected.generatorNeverSees) {
            const leaked = run.generatorPrompts.some((prompt) => prompt.includes(text));
            assert.equal(leaked, false, `leaked ${JSON.stringify(text)}`);
          }
        });

        test("next round runs", () => {
          assert.equal(strategyOf(run.round + 1)?.author, "llm");
        });
      }

      test("search spends the budget", () => {
        const rounds = testCase.role === "navigator" ? run.round + 1 : run.round;
        assert.equal(run.outcome.history.length, PER_ROUND * rounds);
        assert.equal(run.outcome.stopReason, `budget spent: ${PER_ROUND * rounds} evaluations`);
      });

      test("every evaluation succeeds", () => {
        const failed = run.outcome.history.filter((record) => record.error !== undefined);
        assert.deepEqual(failed, []);
      });
    });
  }

  describe("injection and payload replies", () => {
    const runs = new Map<string, CaseRun>();

    before(async () => {
      for (const file of [
        "nb201-injection-ignore.txt",
        "nb201-js-payloads.txt",
        "nb201-injection-tool-call.txt",
        "navigator-injection-tool-call.txt",
        "navigator-huge.txt",
      ]) {
        runs.set(file, await runBadReplyCase(caseNamed(file), environment));
      }
    });

    test("injected accuracy is not recorded", async () => {
      const run = runs.get("nb201-injection-ignore.txt")!;
      for (const record of run.outcome.history) {
        const [truth] = await table.evaluate([{ key: record.key, arch: record.arch }]);
        assert.ok(truth.ok);
        assert.equal(record.metrics.accuracy, truth.accuracy, String(record.arch));
      }
    });

    test("payloads leave Object.prototype clean", () => {
      assert.equal(Object.hasOwn(Object.prototype, "polluted"), false);
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    test("payloads run no code", () => {
      assert.equal((globalThis as Record<string, unknown>).collmNasPwned, undefined);
    });

    test("injected files are not created", () => {
      for (const path of INJECTED_FILES) {
        assert.equal(existsSync(path), false, path);
      }
    });

    test("tool call text evaluates nothing extra", () => {
      for (const file of ["nb201-injection-tool-call.txt", "navigator-injection-tool-call.txt"]) {
        const run = runs.get(file)!;
        const keys = run.outcome.history.map((record) => record.key);
        assert.equal(new Set(keys).size, keys.length, `${file}: a cell was evaluated twice`);
      }
    });

    test("huge strategy is cut", () => {
      const strategy = runs.get("navigator-huge.txt")!.outcome.strategies[0].strategy;
      assert.ok(strategy.length <= 20_000 + 50, `${strategy.length} characters`);
      assert.ok(strategy.endsWith("[strategy cut at 20000 characters]"));
    });
  });
});

describe("readStrategy", () => {
  test("refusal field is a refusal", () => {
    const reply = new AIMessage({
      content: "",
      additional_kwargs: { refusal: "I can't help with that." },
    });
    assert.throws(() => readStrategy(reply), {
      name: "UnusableStrategyError",
      message: "the Navigator's reply is a refusal: I can't help with that.",
    });
  });

  test("long reply opening with sorry passes", () => {
    const text = `Sorry, the last round was weak. ${"Favour nor_conv_3x3 on edge 3<-2. ".repeat(20)}`;
    assert.equal(readStrategy(new AIMessage(text)), text.trim());
  });

  test("error type is UnusableStrategyError", () => {
    assert.throws(() => readStrategy(new AIMessage("")), UnusableStrategyError);
  });
});
