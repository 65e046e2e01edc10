import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { ChainValues } from "@langchain/core/utils/types";
import { TableEvaluator } from "../src/evaluators/table.ts";
import { createSearchGraph, recursionLimitFor } from "../src/graph/build.ts";
import type { SearchTask } from "../src/graph/state.ts";
import { createChatModel } from "../src/llm/models.ts";
import { readResultFile } from "../src/report/read-result.ts";
import { buildResult, writeFileAtomic } from "../src/search/result.ts";
import { runSearch, type SearchOutcome } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";
import {
  startOpenAIServer,
  type Fault,
  type OpenAITestServer,
  type RecordedRequest,
} from "./helpers/openai-server.ts";

const PER_ROUND = 5;
const space = createNb201Space();

function task(budget = PER_ROUND): SearchTask {
  return {
    space: "nb201",
    objective: "maximize cifar10_test_acc of the network",
    budget,
    candidatesPerRound: PER_ROUND,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 2,
    seed: 0,
  };
}

/** Settings of the models in one scenario; small, so the suite stays fast. */
interface Limits {
  timeoutMs: number;
  maxRetries: number;
}

function modelFor(server: OpenAITestServer, limits: Limits) {
  return createChatModel({
    spec: "openai:test-model",
    temperature: 0,
    baseURL: server.baseURL,
    apiKey: "sk-test-local-key",
    timeoutMs: limits.timeoutMs,
    maxRetries: limits.maxRetries,
  });
}

/** A search whose Navigator and Generator both call one faulty server. */
interface Scenario {
  server: OpenAITestServer;
  outcome: SearchOutcome;
  /** Wall time of the search in milliseconds. */
  elapsedMs: number;
  requestsBy(role: "navigator" | "generator"): RecordedRequest[];
}

function byRole(server: OpenAITestServer, role: "navigator" | "generator") {
  return server.requests.filter((request) => request.role === role);
}

/** Records the runs of a graph invocation as a tracer would see them. */
class TraceRecorder extends BaseCallbackHandler {
  name = "trace-recorder";
  readonly llmErrors: string[] = [];
  private readonly runNames = new Map<string, string>();
  private readonly outputs: { name: string; outputs: ChainValues }[] = [];

  // With @langchain/core 1.4 this receives the parent run id fourth and the
  // run name eighth, unlike the order its type declares.
  override handleChainStart(
    _chain: unknown,
    _inputs: ChainValues,
    runId: string,
    ...rest: unknown[]
  ): void {
    const runName = rest[4];
    if (typeof runName === "string") this.runNames.set(runId, runName);
  }

  override handleChainEnd(outputs: ChainValues, runId: string): void {
    this.outputs.push({ name: this.runNames.get(runId) ?? "", outputs });
  }

  override handleLLMError(error: Error): void {
    this.llmErrors.push(`${error.name}: ${error.message.split("\n")[0]}`);
  }

  outputsOf(name: string): ChainValues[] {
    return this.outputs.filter((run) => run.name === name).map((run) => run.outputs);
  }
}

describe("failing LLM endpoints", { skip: nb201Skip }, () => {
  let table: TableEvaluator;

  before(async () => {
    table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
  });

  /** Registers hooks that run one search against a server with `fault`. */
  function scenario(
    fault: (request: RecordedRequest, index: number) => Fault | undefined,
    limits: Limits,
    budget = PER_ROUND,
  ): Scenario {
    const run = { requestsBy: (role) => byRole(run.server, role) } as Scenario;
    before(async () => {
      run.server = await startOpenAIServer({ fault });
      const model = modelFor(run.server, limits);
      const started = Date.now();
      run.outcome = await runSearch({
        strategy: "collm",
        space,
        evaluator: table,
        task: task(budget),
        navigatorModel: model,
        generatorModel: model,
      });
      run.elapsedMs = Date.now() - started;
    });
    after(() => run.server.close());
    return run;
  }

  function assertBudgetSpent(run: Scenario, budget = PER_ROUND) {
    assert.equal(run.outcome.history.length, budget);
    assert.equal(run.outcome.stopReason, `budget spent: ${budget} evaluations`);
    const failed = run.outcome.history.filter((record) => record.error !== undefined);
    assert.deepEqual(failed, []);
  }

  function fallbackErrors(run: Scenario): string[] {
    return run.outcome.fallbacks.map((f) => `${f.round} ${f.role}: ${f.error}`);
  }

  describe("500 once", () => {
    const run = scenario(
      (_request, index) => (index === 0 ? { kind: "status", status: 500 } : undefined),
      { timeoutMs: 5_000, maxRetries: 1 },
    );

    test("navigator call is retried", () => {
      assert.equal(run.requestsBy("navigator").length, 2);
    });

    test("retry waits for backoff", () => {
      const [first, second] = run.requestsBy("navigator");
      assert.ok(second.receivedAt - first.receivedAt >= 900, "retried without backoff");
    });

    test("no fallback after success", () => {
      assert.deepEqual(run.outcome.fallbacks, []);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("503 on every request", () => {
    const run = scenario(() => ({ kind: "status", status: 503 }), {
      timeoutMs: 5_000,
      maxRetries: 1,
    });

    test("each role tries twice", () => {
      assert.equal(run.requestsBy("navigator").length, 2);
      assert.equal(run.requestsBy("generator").length, 2);
    });

    test("both roles fall back", () => {
      assert.deepEqual(fallbackErrors(run), [
        "1 navigator: Error: 503 status 503",
        "1 generator: Error: 503 status 503",
      ]);
    });

    test("offline strategy is recorded", () => {
      assert.deepEqual(
        run.outcome.strategies.map((s) => s.author),
        ["offline fallback"],
      );
    });

    test("candidates come from the offline policy", () => {
      const sources = new Set(run.outcome.history.map((record) => record.source));
      assert.deepEqual([...sources], ["fallback mutation"]);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("429 with Retry-After", () => {
    const RETRY_AFTER_S = 2;
    const run = scenario(
      (_request, index) =>
        index === 0
          ? { kind: "status", status: 429, headers: { "retry-after": String(RETRY_AFTER_S) } }
          : undefined,
      { timeoutMs: 5_000, maxRetries: 1 },
    );

    test("retry waits for Retry-After", () => {
      const [first, second] = run.requestsBy("navigator");
      assert.ok(second, "the call was not retried");
      const waitedMs = second.receivedAt - first.receivedAt;
      assert.ok(waitedMs >= RETRY_AFTER_S * 1000 - 50, `retried after ${waitedMs} ms`);
    });

    test("no fallback after success", () => {
      assert.deepEqual(run.outcome.fallbacks, []);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("429 with long Retry-After", () => {
    const run = scenario(
      (request) =>
        request.role === "navigator"
          ? { kind: "status", status: 429, headers: { "retry-after": "120" } }
          : undefined,
      { timeoutMs: 5_000, maxRetries: 3 },
    );

    test("call is not retried", () => {
      assert.equal(run.requestsBy("navigator").length, 1);
    });

    test("navigator falls back at once", () => {
      assert.deepEqual(fallbackErrors(run), ["1 navigator: RateLimitCapacityError: 429 status 429 Troubleshooting URL: https://docs.langchain.com/oss/javascript/langchain/errors/MODEL_RATE_LIMIT/"]);
      assert.ok(run.elapsedMs < 5_000, `search took ${run.elapsedMs} ms`);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("429 without Retry-After", () => {
    const run = scenario(
      (request) => (request.role === "generator" ? { kind: "status", status: 429 } : undefined),
      { timeoutMs: 5_000, maxRetries: 3 },
    );

    test("call is not retried", () => {
      assert.equal(run.requestsBy("generator").length, 1);
    });

    test("generator falls back", () => {
      assert.deepEqual(fallbackErrors(run), ["1 generator: RateLimitCapacityError: 429 status 429 Troubleshooting URL: https://docs.langchain.com/oss/javascript/langchain/errors/MODEL_RATE_LIMIT/"]);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("request timeout", () => {
    const TIMEOUT_MS = 300;
    const run = scenario(() => ({ kind: "hang" }), { timeoutMs: TIMEOUT_MS, maxRetries: 1 });

    test("each role tries twice", () => {
      assert.equal(run.requestsBy("navigator").length, 2);
      assert.equal(run.requestsBy("generator").length, 2);
    });

    test("both roles fall back", () => {
      assert.deepEqual(fallbackErrors(run), [
        "1 navigator: TimeoutError: Request timed out.",
        "1 generator: TimeoutError: Request timed out.",
      ]);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("connection reset", () => {
    const run = scenario(() => ({ kind: "reset" }), { timeoutMs: 5_000, maxRetries: 1 });

    test("each role tries twice", () => {
      assert.equal(run.requestsBy("navigator").length, 2);
      assert.equal(run.requestsBy("generator").length, 2);
    });

    test("both roles fall back", () => {
      assert.deepEqual(fallbackErrors(run), [
        "1 navigator: Error: Connection error.",
        "1 generator: Error: Connection error.",
      ]);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("slow response body", () => {
    const TIMEOUT_MS = 400;
    // One byte every 50 ms: the full body would take about 30 s.
    const run = scenario(
      (request) => (request.role === "navigator" ? { kind: "slow-body", delayMs: 50 } : undefined),
      { timeoutMs: TIMEOUT_MS, maxRetries: 0 },
    );

    test("deadline covers the body", () => {
      assert.deepEqual(fallbackErrors(run), ["1 navigator: TimeoutError: Request timed out."]);
    });

    test("search does not wait for the body", () => {
      assert.ok(run.elapsedMs < 5_000, `search took ${run.elapsedMs} ms`);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("invalid JSON body", () => {
    const run = scenario(
      (request) => (request.role === "generator" ? { kind: "invalid-json" } : undefined),
      { timeoutMs: 5_000, maxRetries: 1 },
    );

    test("call is retried", () => {
      assert.equal(run.requestsBy("generator").length, 2);
    });

    test("generator falls back", () => {
      assert.deepEqual(fallbackErrors(run), [
        "1 generator: SyntaxError: Unexpected end of JSON input",
      ]);
    });

    test("budget is spent", () => assertBudgetSpent(run));
  });

  describe("outage in the middle round", () => {
    const ROUNDS = 3;
    let navigatorCalls = 0;
    const run = scenario(
      (request) => {
        if (request.role === "navigator") navigatorCalls++;
        return navigatorCalls === 2 ? { kind: "status", status: 503 } : undefined;
      },
      { timeoutMs: 5_000, maxRetries: 0 },
      PER_ROUND * ROUNDS,
    );

    test("only round 2 falls back", () => {
      assert.deepEqual(fallbackErrors(run), [
        "2 navigator: Error: 503 status 503",
        "2 generator: Error: 503 status 503",
      ]);
    });

    test("every round is evaluated", () => {
      for (let round = 1; round <= ROUNDS; round++) {
        const records = run.outcome.history.filter((record) => record.round === round);
        assert.equal(records.length, PER_ROUND, `round ${round}`);
      }
    });

    test("LLM rounds keep LLM candidates", () => {
      const llmRounds = run.outcome.history.filter((record) => record.round !== 2);
      assert.ok(llmRounds.every((record) => record.source === "generator"));
    });

    test("result file records fallbacks", async () => {
      const dir = await mkdtemp(join(tmpdir(), "collm-nas-endpoints-"));
      try {
        const result = buildResult(run.outcome, {
          strategy: "collm",
          space: "nb201",
          budget: PER_ROUND * ROUNDS,
          llm: { navigator: "openai:test-model", generator: "openai:test-model" },
          settings: {},
        });
        await writeFileAtomic(join(dir, "result.json"), JSON.stringify(result));
        const read = await readResultFile(dir);
        assert.deepEqual(read.fallbacks, run.outcome.fallbacks);
        assert.equal(read.history.length, PER_ROUND * ROUNDS);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    test("budget is spent", () => assertBudgetSpent(run, PER_ROUND * ROUNDS));
  });

  describe("trace of a fallback", () => {
    let server: OpenAITestServer;
    const trace = new TraceRecorder();

    before(async () => {
      server = await startOpenAIServer({
        fault: (request) => (request.role === "navigator" ? { kind: "status", status: 503 } : undefined),
      });
      const model = modelFor(server, { timeoutMs: 5_000, maxRetries: 0 });
      const graph = createSearchGraph({
        runtime: { space, evaluator: table, navigatorModel: model, generatorModel: model },
      });
      await graph.invoke(
        { task: task(), rngState: 0 },
        { recursionLimit: recursionLimitFor(task()), callbacks: [trace] },
      );
    });
    after(() => server.close());

    test("trace has the LLM error", () => {
      assert.deepEqual(trace.llmErrors, ["Error: 503 status 503"]);
    });

    test("navigator run outputs the fallback", () => {
      const outputs = trace.outputsOf("navigator");
      assert.equal(outputs.length, 1);
      assert.deepEqual(outputs[0].fallbacks, [
        { round: 1, role: "navigator", error: "Error: 503 status 503" },
      ]);
    });
  });
});
