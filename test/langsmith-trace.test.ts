import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { STRATEGY_EXCERPT_CHARS } from "../src/graph/trace-metadata.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";
import {
  startLangSmithRecorder,
  type LangSmithRecorder,
  type RecordedRun,
} from "./helpers/langsmith-server.ts";
import { startOpenAIServer, type OpenAITestServer } from "./helpers/openai-server.ts";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(REPO_ROOT, "bin/collm-nas.js");
const OPENAI_KEY = "sk-test-SECRET-123";
const LANGSMITH_KEY = "lsv2-SECRET-456";
const PROJECT = "collm-nas-trace-test";
/** Maximum time a CLI run of these tests may take before it is killed. */
const CLI_TIMEOUT_MS = 60_000;
const BUDGET = 20;
const PER_ROUND = 10;

interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the collm-nas command as a child process with tracing aimed at the
 * recorder. `onStderr` receives the standard error as it arrives and may
 * signal the child.
 */
function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  onStderr?: (text: string, signal: (name: NodeJS.Signals) => void) => void,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`collm-nas ${args.join(" ")} did not exit within ${CLI_TIMEOUT_MS} ms; stderr:\n${stderr}`));
    }, CLI_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      onStderr?.(stderr, (name) => child.kill(name));
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function tracingEnv(recorder: LangSmithRecorder): NodeJS.ProcessEnv {
  return {
    LANGSMITH_TRACING: "true",
    LANGSMITH_ENDPOINT: recorder.url,
    LANGSMITH_API_KEY: LANGSMITH_KEY,
    LANGSMITH_PROJECT: PROJECT,
    OPENAI_API_KEY: OPENAI_KEY,
  };
}

/** Returns the recorded runs in execution order. */
function ordered(recorder: LangSmithRecorder): RecordedRun[] {
  return [...recorder.runs.values()].sort((a, b) =>
    String(a.dotted_order).localeCompare(String(b.dotted_order)),
  );
}

function rootOf(recorder: LangSmithRecorder): RecordedRun {
  const roots = [...recorder.runs.values()].filter((run) => !run.parent_run_id);
  assert.equal(roots.length, 1, `root runs: ${roots.map((run) => `${run.name} (${run.run_type})`).join(", ")}`);
  return roots[0];
}

/** Finds the graph node run that contains `run`: the nearest ancestor tagged with a graph step. */
function nodeOf(recorder: LangSmithRecorder, run: RecordedRun): RecordedRun | undefined {
  let parent = run.parent_run_id ? recorder.runs.get(run.parent_run_id) : undefined;
  while (parent && !(parent.tags ?? []).some((tag) => tag.startsWith("graph:step:"))) {
    parent = parent.parent_run_id ? recorder.runs.get(parent.parent_run_id) : undefined;
  }
  return parent;
}

/** Returns the names of the root's child runs in order, without LangGraph's hidden input step. */
function nodeSequence(recorder: LangSmithRecorder): string[] {
  const root = rootOf(recorder);
  return ordered(recorder)
    .filter((run) => run.parent_run_id === root.id && run.name !== "__start__")
    .map((run) => String(run.name));
}

function metadataOf(run: RecordedRun): Record<string, unknown> {
  return run.extra?.metadata ?? {};
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "collm-trace-"));
}

describe("LangSmith trace of an LLM search", { skip: nb201Skip }, () => {
  let recorder: LangSmithRecorder;
  let llm: OpenAITestServer;
  let result: CliResult;
  let strategies: { round: number; strategy: string }[];

  before(async () => {
    recorder = await startLangSmithRecorder();
    llm = await startOpenAIServer();
    const out = tempDir();
    result = await runCli(
      [
        "search", "--benchmark", NB201_CSV, "--budget", String(BUDGET),
        "--llm", "openai:test-model", "--base-url", llm.baseURL, "--out", out, "--quiet",
      ],
      tracingEnv(recorder),
    );
    strategies = JSON.parse(readFileSync(join(out, "result.json"), "utf8")).strategies;
  });

  after(async () => {
    await recorder?.close();
    await llm?.close();
  });

  test("search succeeds", () => {
    assert.equal(result.code, 0, result.stderr);
  });

  test("runs are sent to the configured project", () => {
    const projects = new Set([...recorder.runs.values()].map((run) => run.session_name));
    assert.deepEqual([...projects], [PROJECT]);
  });

  test("root run is named and tagged", () => {
    const root = rootOf(recorder);
    assert.equal(root.name, "collm_nas");
    assert.ok(root.tags?.includes("space:nb201"), `tags: ${root.tags}`);
    assert.ok(root.tags?.includes("strategy:collm"), `tags: ${root.tags}`);
    assert.equal(metadataOf(root).space, "nb201");
    assert.equal(metadataOf(root).budget, BUDGET);
  });

  test("one run per node in graph order", () => {
    const round = ["navigator", "review", "generator", "coordinator", "evaluate_architectures", "coordinator"];
    assert.deepEqual(nodeSequence(recorder), [...round, ...round]);
  });

  test("every run ended", () => {
    const open = [...recorder.runs.values()].filter((run) => !run.end_time).map((run) => run.name);
    assert.deepEqual(open, []);
  });

  test("navigator LLM runs sit under navigator nodes", () => {
    const runs = ordered(recorder).filter((run) => run.name === "navigator_llm");
    assert.equal(runs.length, 2);
    for (const run of runs) {
      assert.equal(run.run_type, "llm");
      assert.equal(recorder.runs.get(String(run.parent_run_id))?.name, "navigator");
    }
  });

  test("navigator LLM runs carry the round", () => {
    const runs = ordered(recorder).filter((run) => run.name === "navigator_llm");
    assert.deepEqual(
      runs.map((run) => [metadataOf(run).round, metadataOf(run).evaluations]),
      [
        [1, 0],
        [2, PER_ROUND],
      ],
    );
  });

  test("generator LLM runs sit under generator nodes", () => {
    const generatorRuns = ordered(recorder).filter((run) => run.name === "generator_llm");
    assert.equal(generatorRuns.length, 2);
    for (const run of generatorRuns) {
      assert.equal(recorder.runs.get(String(run.parent_run_id))?.name, "generator");
    }
    const chatRuns = ordered(recorder).filter(
      (run) => run.run_type === "llm" && run.name !== "navigator_llm",
    );
    assert.equal(chatRuns.length, 2);
    for (const run of chatRuns) assert.equal(nodeOf(recorder, run)?.name, "generator");
  });

  test("generator LLM runs carry round, candidates and strategy", () => {
    const runs = ordered(recorder).filter((run) => run.name === "generator_llm");
    runs.forEach((run, i) => {
      const metadata = metadataOf(run);
      assert.equal(metadata.round, i + 1);
      assert.equal(metadata.candidates, PER_ROUND);
      const excerpt = String(metadata.strategy_excerpt);
      assert.ok(excerpt.length > 0 && excerpt.length <= STRATEGY_EXCERPT_CHARS + 3, excerpt);
      const strategy = strategies[i].strategy.replace(/\s+/g, " ");
      assert.ok(strategy.startsWith(excerpt.replace(/\.\.\.$/, "")), `${excerpt} / ${strategy}`);
    });
  });

  test("tool runs sit under evaluate_architectures nodes", () => {
    const tools = ordered(recorder).filter((run) => run.run_type === "tool");
    assert.equal(tools.length, 2);
    for (const run of tools) {
      assert.equal(run.name, "evaluate_architectures");
      const parent = recorder.runs.get(String(run.parent_run_id));
      assert.equal(parent?.name, "evaluate_architectures");
      assert.equal(parent?.run_type, "chain");
    }
  });

  test("tool runs carry round, candidates and strategy", () => {
    const tools = ordered(recorder).filter((run) => run.run_type === "tool");
    assert.deepEqual(
      tools.map((run) => [metadataOf(run).round, metadataOf(run).candidates]),
      [
        [1, PER_ROUND],
        [2, PER_ROUND],
      ],
    );
    for (const run of tools) {
      assert.equal(typeof metadataOf(run).strategy_excerpt, "string");
    }
  });

  test("tags reach the LLM and tool runs", () => {
    const leaves = ordered(recorder).filter((run) => run.run_type === "llm" || run.run_type === "tool");
    for (const run of leaves) {
      assert.ok(run.tags?.includes("space:nb201"), `${run.name} tags: ${run.tags}`);
    }
  });

  test("no secret in what arrived", () => {
    const received = recorder.bodies.join("\n");
    assert.ok(received.length > 0);
    assert.ok(!received.includes(OPENAI_KEY), "the OpenAI API key was sent to LangSmith");
    assert.ok(!received.includes(LANGSMITH_KEY), "the LangSmith API key was sent in a body");
    assert.ok(!received.includes("SECRET"), "a secret was sent to LangSmith");
  });
});

describe("LangSmith trace with an echoing LLM server", { skip: nb201Skip }, () => {
  let recorder: LangSmithRecorder;
  let llm: OpenAITestServer;
  let result: CliResult;

  before(async () => {
    recorder = await startLangSmithRecorder();
    // The Navigator's calls fail with the key in the error message; the
    // Generator's replies quote it.
    llm = await startOpenAIServer({
      fault: (request) =>
        request.role === "navigator"
          ? { kind: "status", status: 401, message: `invalid key: ${request.headers.authorization}` }
          : { kind: "reply", content: `received ${request.headers.authorization}` },
    });
    result = await runCli(
      [
        "search", "--benchmark", NB201_CSV, "--budget", String(PER_ROUND),
        "--llm", "openai:test-model", "--base-url", llm.baseURL, "--llm-retries", "0",
        "--out", tempDir(), "--quiet",
      ],
      tracingEnv(recorder),
    );
  });

  after(async () => {
    await recorder?.close();
    await llm?.close();
  });

  test("search succeeds with fallbacks", () => {
    assert.equal(result.code, 0, result.stderr);
  });

  test("the failed call is traced", () => {
    const failed = [...recorder.runs.values()].filter((run) => run.name === "navigator_llm" && run.error);
    assert.equal(failed.length, 1);
    assert.match(String(failed[0].error), /invalid key: Bearer/);
  });

  test("echoed key is not in the trace", () => {
    const received = recorder.bodies.join("\n");
    assert.ok(received.includes("Bearer [redacted]"), "the echo did not reach the trace");
    assert.ok(!received.includes(OPENAI_KEY), "the echoed OpenAI API key was sent to LangSmith");
  });
});

describe("LangSmith trace flush on failure", { skip: nb201Skip }, () => {
  let recorder: LangSmithRecorder;

  before(async () => {
    recorder = await startLangSmithRecorder();
  });

  after(async () => {
    await recorder?.close();
  });

  test("no trace without LANGSMITH_TRACING", async () => {
    const { LANGSMITH_TRACING: _, ...env } = tracingEnv(recorder);
    const result = await runCli(
      ["search", "--benchmark", NB201_CSV, "--budget", "10", "--out", tempDir(), "--quiet"],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(recorder.requests, []);
  });

  test("evaluator failure flushes the trace", async () => {
    recorder.runs.clear();
    // A table with one row: every other architecture is missing, so every
    // evaluation fails and the search stops after three rounds.
    const dir = tempDir();
    const table = join(dir, "one-row.csv");
    const lines = readFileSync(NB201_CSV, "utf8").split("\n");
    writeFileSync(table, `${lines[0]}\n${lines[1]}\n`);
    const result = await runCli(
      ["search", "--benchmark", table, "--budget", "100", "--out", join(dir, "run"), "--quiet"],
      tracingEnv(recorder),
    );
    assert.equal(result.code, 1, result.stderr);
    const root = rootOf(recorder);
    assert.ok(root.end_time, "the root run has no end time");
    const tools = [...recorder.runs.values()].filter((run) => run.run_type === "tool");
    assert.equal(tools.length, 3);
    assert.ok(tools.every((run) => run.end_time));
  });

  test("closed review input flushes the trace", async () => {
    recorder.runs.clear();
    const result = await runCli(
      ["search", "--benchmark", NB201_CSV, "--budget", "20", "--review", "--out", tempDir(), "--quiet"],
      tracingEnv(recorder),
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /collm-nas: /);
    const names = nodeSequence(recorder);
    assert.deepEqual(names, ["navigator", "review"]);
    assert.ok([...recorder.runs.values()].every((run) => run.end_time));
  });

  test("SIGINT flushes the trace and exits with 130", async () => {
    recorder.runs.clear();
    let interrupted = false;
    const result = await runCli(
      ["search", "--benchmark", NB201_CSV, "--budget", "5000", "--out", tempDir()],
      tracingEnv(recorder),
      (stderr, signal) => {
        if (!interrupted && /^round 2 /m.test(stderr)) {
          interrupted = true;
          signal("SIGINT");
        }
      },
    );
    assert.ok(interrupted, `no round 2 line before the search ended:\n${result.stderr}`);
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, /collm-nas: interrupted/);
    const root = rootOf(recorder);
    assert.ok(root.end_time, "the root run has no end time");
    assert.match(String(root.error), /abort/i);
    const tools = [...recorder.runs.values()].filter(
      (run) => run.run_type === "tool" && !run.error,
    );
    assert.ok(tools.length >= 2, `completed tool runs: ${tools.length}`);
    assert.ok(
      tools.every((run) => run.end_time),
      "a completed tool run arrived without its end",
    );
  });
});
