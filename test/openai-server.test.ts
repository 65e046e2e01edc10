import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TableEvaluator } from "../src/evaluators/table.ts";
import type { SearchTask } from "../src/graph/state.ts";
import type { StructuredOutputMode } from "../src/llm/call.ts";
import { createChatModel } from "../src/llm/models.ts";
import { buildResult } from "../src/search/result.ts";
import { runSearch, type SearchOutcome } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";
import { SERVER_USAGE, startOpenAIServer, type OpenAITestServer } from "./helpers/openai-server.ts";
import { strictSchemaViolations, type StrictRule } from "./helpers/strict-schema.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
/** A made-up key that the server only records. */
const API_KEY = "sk-test-local-7f3a9c";
const BUDGET = 20;
const PER_ROUND = 10;

const space = createNb201Space();
const runFile = promisify(execFile);

function task(): SearchTask {
  return {
    space: "nb201",
    objective: "maximize cifar10_test_acc of the network",
    budget: BUDGET,
    candidatesPerRound: PER_ROUND,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 2,
    seed: 0,
  };
}

function model(server: OpenAITestServer) {
  return createChatModel({
    spec: "openai:test-model",
    temperature: 0,
    baseURL: server.baseURL,
    apiKey: API_KEY,
    timeoutMs: 10_000,
    maxRetries: 0,
  });
}

function violationsOf(schema: Record<string, unknown>, rule: StrictRule) {
  return strictSchemaViolations(schema).filter((v) => v.rule === rule);
}

describe("OpenAI client against a local server", { skip: nb201Skip }, () => {
  let table: TableEvaluator;

  before(async () => {
    table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
  });

  /** Starts a server, runs one search through it, and closes it after the suite. */
  function searchThrough(mode: StructuredOutputMode | undefined) {
    const run = {
      server: undefined as unknown as OpenAITestServer,
      outcome: undefined as unknown as SearchOutcome,
    };
    before(async () => {
      run.server = await startOpenAIServer();
      run.outcome = await runSearch({
        strategy: "collm",
        space,
        evaluator: table,
        task: task(),
        navigatorModel: model(run.server),
        generatorModel: model(run.server),
        structuredOutput: mode,
      });
    });
    after(() => run.server.close());
    return run;
  }

  const generatorRequests = (server: OpenAITestServer) =>
    server.requests.filter((r) => r.role === "generator");

  describe("json_schema output (auto mode)", () => {
    const run = searchThrough(undefined);

    test("search spends the budget", () => {
      assert.equal(run.outcome.history.length, BUDGET);
      assert.match(run.outcome.stopReason, /^budget spent/);
    });

    test("every candidate comes from the generator", () => {
      assert.deepEqual(run.outcome.fallbacks, []);
      assert.ok(run.outcome.history.every((r) => r.source === "generator"));
    });

    test("server receives both roles", () => {
      const roles = run.server.requests.map((r) => r.role);
      assert.deepEqual(roles, ["navigator", "generator", "navigator", "generator"]);
    });

    test("request names the model", () => {
      assert.ok(run.server.requests.every((r) => r.body.model === "test-model"));
    });

    test("generator requests a strict JSON schema", () => {
      for (const request of generatorRequests(run.server)) {
        const format = request.body.response_format;
        assert.equal(format?.type, "json_schema");
        assert.equal(format.json_schema.name, "propose_architectures");
        assert.equal(format.json_schema.strict, true);
        assert.equal(request.body.tools, undefined);
      }
    });

    test("schema root is an object", () => {
      const schema = generatorRequests(run.server)[0].body.response_format.json_schema.schema;
      assert.deepEqual(violationsOf(schema, "root-object"), []);
    });

    test("schema objects forbid extra properties", () => {
      const schema = generatorRequests(run.server)[0].body.response_format.json_schema.schema;
      assert.deepEqual(violationsOf(schema, "additional-properties"), []);
    });

    test("schema requires every property", () => {
      const schema = generatorRequests(run.server)[0].body.response_format.json_schema.schema;
      assert.deepEqual(violationsOf(schema, "required"), []);
    });

    test("API key goes in the authorization header", () => {
      for (const request of run.server.requests) {
        assert.equal(request.headers.authorization, `Bearer ${API_KEY}`);
      }
    });

    test("API key stays out of the result", () => {
      const result = buildResult(run.outcome, {
        strategy: "collm",
        space: "nb201",
        budget: BUDGET,
        llm: { navigator: "openai:test-model", generator: "openai:test-model" },
        settings: {},
      });
      assert.ok(!JSON.stringify(result).includes(API_KEY));
    });

    test("usage adds the reported tokens", () => {
      const { navigator, generator } = SERVER_USAGE;
      assert.deepEqual(run.outcome.usage?.navigator, {
        calls: 2,
        promptTokens: 2 * navigator.prompt,
        completionTokens: 2 * navigator.completion,
      });
      assert.deepEqual(run.outcome.usage?.generator, {
        calls: 2,
        promptTokens: 2 * generator.prompt,
        completionTokens: 2 * generator.completion,
      });
    });
  });

  describe("tool output", () => {
    const run = searchThrough("tool");

    test("search spends the budget", () => {
      assert.equal(run.outcome.history.length, BUDGET);
      assert.deepEqual(run.outcome.fallbacks, []);
    });

    test("generator forces a strict tool call", () => {
      const requests = generatorRequests(run.server);
      assert.equal(requests.length, 2);
      for (const request of requests) {
        const [tool] = request.body.tools;
        assert.equal(tool.function.name, "propose_architectures");
        assert.equal(tool.function.strict, true);
        assert.deepEqual(request.body.tool_choice, {
          type: "function",
          function: { name: "propose_architectures" },
        });
        assert.equal(request.body.response_format, undefined);
      }
    });

    test("tool parameters are strict", () => {
      const parameters = generatorRequests(run.server)[0].body.tools[0].function.parameters;
      assert.deepEqual(strictSchemaViolations(parameters), []);
    });

    test("every candidate comes from the tool call", () => {
      assert.ok(run.outcome.history.every((r) => r.source === "generator"));
    });
  });

  describe("text output", () => {
    const run = searchThrough("text");

    test("search spends the budget", () => {
      assert.equal(run.outcome.history.length, BUDGET);
      assert.deepEqual(run.outcome.fallbacks, []);
    });

    test("generator asks for plain text", () => {
      for (const request of generatorRequests(run.server)) {
        assert.equal(request.body.response_format, undefined);
        assert.equal(request.body.tools, undefined);
      }
    });

    test("every candidate comes from the text", () => {
      assert.ok(run.outcome.history.every((r) => r.source === "generator"));
    });
  });

  describe("CLI search", () => {
    let server: OpenAITestServer;
    let outDir: string;
    let resultText: string;
    let result: any;

    before(async () => {
      server = await startOpenAIServer();
      outDir = await mkdtemp(join(tmpdir(), "collm-nas-cli-"));
      const env: NodeJS.ProcessEnv = { ...process.env, OPENAI_API_KEY: API_KEY };
      delete env.COLLM_NAS_LLM;
      delete env.OPENAI_BASE_URL;
      delete env.NODE_TEST_CONTEXT;
      await runFile(
        process.execPath,
        [
          "bin/collm-nas.js",
          "search",
          "--benchmark",
          NB201_CSV,
          "--budget",
          "10",
          "--candidates",
          "5",
          "--llm",
          "openai:test-model",
          "--base-url",
          server.baseURL,
          "--llm-retries",
          "0",
          "--out",
          outDir,
          "--quiet",
        ],
        { cwd: REPO_ROOT, env, timeout: 60_000 },
      );
      resultText = await readFile(join(outDir, "result.json"), "utf8");
      result = JSON.parse(resultText);
    });

    after(async () => {
      await server.close();
      await rm(outDir, { recursive: true, force: true });
    });

    test("result names the LLM", () => {
      assert.deepEqual(result.llm, {
        navigator: "openai:test-model",
        generator: "openai:test-model",
      });
    });

    test("result counts usage per role", () => {
      assert.equal(result.usage.navigator.calls, 2);
      assert.equal(result.usage.navigator.promptTokens, 2 * SERVER_USAGE.navigator.prompt);
      assert.equal(result.usage.generator.calls, 2);
      assert.equal(result.usage.generator.promptTokens, 2 * SERVER_USAGE.generator.prompt);
    });

    test("result contains the history", () => {
      assert.equal(result.history.length, 10);
      assert.ok(result.history.every((r: { source: string }) => r.source === "generator"));
    });

    test("API key reaches only the header", () => {
      assert.ok(server.requests.length > 0);
      assert.ok(server.requests.every((r) => r.headers.authorization === `Bearer ${API_KEY}`));
      assert.ok(!resultText.includes(API_KEY));
    });
  });
});
