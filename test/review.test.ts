import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { BaseMessage } from "@langchain/core/messages";
import { MemorySaver } from "@langchain/langgraph";
import { main } from "../src/cli/main.ts";
import { TableEvaluator } from "../src/evaluators/table.ts";
import type { ReviewDecision, ReviewRequest } from "../src/graph/review.ts";
import type { SearchTask } from "../src/graph/state.ts";
import { contentText } from "../src/llm/call.ts";
import { runSearch, type SearchOutcome } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { navigatorStrategy, sequentialGenerator, strategyMarker } from "./fixtures/llm/replies.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";
import { ScriptedChatModel } from "./helpers/scripted-model.ts";

const space = createNb201Space();
const ROUNDS = 3;
const CANDIDATES = 5;
const EDITED = "[edited-by-reviewer] Use only 3x3 convolutions on every edge.";

function task(overrides: Partial<SearchTask> = {}): SearchTask {
  return {
    space: "nb201",
    objective: "maximize cifar10_test_acc of the network",
    budget: ROUNDS * CANDIDATES,
    candidatesPerRound: CANDIDATES,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 2,
    seed: 0,
    review: true,
    ...overrides,
  };
}

function promptText(messages: readonly BaseMessage[]): string {
  return messages.map((message) => contentText(message)).join("\n");
}

interface ReviewedRun {
  outcome: SearchOutcome;
  requests: ReviewRequest[];
  navigator: ScriptedChatModel;
  generator: ScriptedChatModel;
}

describe("review node", { skip: nb201Skip }, () => {
  let table: TableEvaluator;

  before(async () => {
    table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
  });

  /** Runs a scripted LLM search whose reviews `decide` answers. */
  async function reviewedSearch(
    decide: (request: ReviewRequest) => ReviewDecision,
  ): Promise<ReviewedRun> {
    let round = 0;
    const navigator = new ScriptedChatModel([], () => navigatorStrategy(strategyMarker(++round)));
    const generator = new ScriptedChatModel([], sequentialGenerator(0));
    const requests: ReviewRequest[] = [];
    const outcome = await runSearch({
      strategy: "collm",
      space,
      evaluator: table,
      task: task(),
      navigatorModel: navigator,
      generatorModel: generator,
      checkpointer: new MemorySaver(),
      threadId: "review",
      review: async (request) => {
        requests.push(request);
        return decide(request);
      },
    });
    return { outcome, requests, navigator, generator };
  }

  describe("approve", () => {
    let run: ReviewedRun;
    before(async () => {
      run = await reviewedSearch(() => ({ action: "approve" }));
    });

    test("asks once per round", () => {
      assert.deepEqual(
        run.requests.map((request) => request.round),
        [1, 2, 3],
      );
    });

    test("request carries the strategy", () => {
      for (const request of run.requests) {
        assert.ok(request.strategy.includes(strategyMarker(request.round)), `round ${request.round}`);
        assert.equal(request.author, "llm");
      }
    });

    test("search spends its budget", () => {
      assert.equal(run.outcome.history.length, ROUNDS * CANDIDATES);
      assert.match(run.outcome.stopReason, /budget spent/);
    });

    test("strategies stay the Navigator's", () => {
      assert.ok(run.outcome.strategies.every((entry) => entry.author === "llm"));
      assert.equal(run.outcome.strategies.length, ROUNDS);
    });
  });

  describe("edit", () => {
    let run: ReviewedRun;
    before(async () => {
      run = await reviewedSearch((request) =>
        request.round === 2 ? { action: "edit", strategy: EDITED } : { action: "approve" },
      );
    });

    test("edited strategy reaches the generator", () => {
      // One Generator call per round: every proposal is new and valid.
      assert.equal(run.generator.prompts.length, ROUNDS);
      const roundTwo = promptText(run.generator.prompts[1]);
      assert.ok(roundTwo.includes(EDITED), "edited strategy missing");
      assert.ok(!roundTwo.includes(strategyMarker(2)), "replaced strategy still present");
    });

    test("other rounds keep their strategy", () => {
      assert.ok(promptText(run.generator.prompts[0]).includes(strategyMarker(1)));
      assert.ok(promptText(run.generator.prompts[2]).includes(strategyMarker(3)));
    });

    test("navigator remembers the edited strategy", () => {
      const roundThree = promptText(run.navigator.prompts[2]);
      assert.ok(roundThree.includes(EDITED), "edited strategy not in memory");
      assert.ok(!roundThree.includes(strategyMarker(2)), "replaced strategy in memory");
    });

    test("strategies record the reviewer", () => {
      const roundTwo = run.outcome.strategies.filter((entry) => entry.round === 2);
      assert.deepEqual(
        roundTwo.map((entry) => entry.author),
        ["llm", "reviewer"],
      );
      assert.equal(roundTwo[1].strategy, EDITED);
    });
  });

  describe("stop", () => {
    let run: ReviewedRun;
    before(async () => {
      run = await reviewedSearch((request) =>
        request.round === 2 ? { action: "stop" } : { action: "approve" },
      );
    });

    test("ends with the reviewer's stop reason", () => {
      assert.equal(run.outcome.stopReason, "stopped by reviewer");
    });

    test("keeps only earlier rounds", () => {
      assert.equal(run.outcome.history.length, CANDIDATES);
      assert.ok(run.outcome.history.every((record) => record.round === 1));
    });

    test("generator never sees the stopped round", () => {
      assert.equal(run.generator.prompts.length, 1);
      assert.equal(run.navigator.prompts.length, 2);
    });
  });

  test("empty edit is rejected", async () => {
    await assert.rejects(
      reviewedSearch(() => ({ action: "edit", strategy: "   " })),
      /an edited strategy must not be empty/,
    );
  });

  test("review without checkpointer is rejected", async () => {
    await assert.rejects(
      runSearch({ strategy: "collm", space, evaluator: table, task: task() }),
      /a reviewed search needs a checkpointer and a thread id/,
    );
  });
});

/** Runs the CLI with scripted lines of standard input, where null is its end. */
async function runCli(args: string[], answers: (string | null)[] = []) {
  let stdout = "";
  let stderr = "";
  const prompts: string[] = [];
  const code = await main(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readLine: async (prompt) => {
      prompts.push(prompt);
      return answers.length > 0 ? answers.shift()! : null;
    },
  });
  return { code, stdout, stderr, prompts };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "collm-review-"));
}

function reviewArgs(outDir: string, extra: string[] = []): string[] {
  return ["search", "--benchmark", NB201_CSV, "--budget", "50", "--out", outDir, "--review", ...extra];
}

function readResult(outDir: string) {
  return JSON.parse(readFileSync(join(outDir, "result.json"), "utf8"));
}

describe("cli review", { skip: nb201Skip }, () => {
  test("approve, paste an edit, then stop", async () => {
    const outDir = tempDir();
    const answers = ["", "e", "First line of the new strategy.", "Second line.", ".", "s"];
    const { code, stderr } = await runCli(reviewArgs(outDir), answers);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Strategy for round 1 \(offline\):/);
    assert.match(stderr, /Paste the new strategy, then a line with only "\."/);
    assert.match(stderr, /Stopped: stopped by reviewer/);

    const result = readResult(outDir);
    assert.equal(result.stopReason, "stopped by reviewer");
    assert.equal(result.evaluations, 20);
    const edited = result.strategies.find((entry: { author: string }) => entry.author === "reviewer");
    assert.equal(edited.round, 2);
    assert.equal(edited.strategy, "First line of the new strategy.\nSecond line.");
  });

  test("history shows the reviewer's edit", async () => {
    const outDir = tempDir();
    await runCli(reviewArgs(outDir, ["--quiet"]), ["e", "Reviewed plan.", ".", "s"]);
    const { code, stdout } = await runCli(["history", "--out", outDir]);
    assert.equal(code, 0);
    assert.match(stdout, /^Status: finished: stopped by reviewer$/m);
    assert.match(stdout, /^ {2}Strategy \(reviewer, replacing the offline strategy\):\n {4}Reviewed plan\.$/m);
    // Round 2 was stopped at its review, before any evaluation.
    assert.match(stdout, /^Round 2 {2}evaluations 10 {2}best \d+\.\d\d% {2}evaluated 0 {2}rejected 0$/m);
  });

  test("invalid choice prompts again", async () => {
    const { code, stderr, prompts } = await runCli(reviewArgs(tempDir(), ["--quiet"]), ["maybe", "s"]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /invalid choice "maybe"; type a \(approve\), e \(edit\) or s \(stop\)/);
    assert.equal(prompts.length, 2);
  });

  test("closed input pauses, resume asks again", async () => {
    const outDir = tempDir();
    const first = await runCli(reviewArgs(outDir, ["--quiet"]), ["a", null]);
    assert.equal(first.code, 2);
    assert.match(first.stderr, /standard input closed during the review of round 2/);
    assert.match(first.stderr, new RegExp(`collm-nas resume --out ${outDir}`));
    assert.equal(readResult(outDir).evaluations, 10);

    const resumed = await runCli(["resume", "--out", outDir], ["a", "s"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Strategy for round 2 \(offline\):/);
    assert.doesNotMatch(resumed.stderr, /Strategy for round 1 /);
    const result = readResult(outDir);
    assert.equal(result.stopReason, "stopped by reviewer");
    assert.equal(result.evaluations, 20);
  });

  const rejected: [string, string[], RegExp][] = [
    ["without checkpoints", ["--checkpoint", "none"], /--review needs a checkpointer/],
    ["for a baseline", ["--strategy", "rea"], /--review needs --strategy collm, not rea/],
  ];
  for (const [name, extra, message] of rejected) {
    test(`rejects review ${name}`, async () => {
      const { code, stderr } = await runCli(reviewArgs(tempDir(), extra));
      assert.equal(code, 2);
      assert.match(stderr, message);
    });
  }

  test("rejects review without input", async () => {
    let stderr = "";
    const code = await main(reviewArgs(tempDir()), {
      stdout: () => {},
      stderr: (text) => (stderr += text),
    });
    assert.equal(code, 2);
    assert.match(stderr, /--review needs standard input/);
  });
});
