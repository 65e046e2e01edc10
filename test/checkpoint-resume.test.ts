import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { MemorySaver } from "@langchain/langgraph";
import { main } from "../src/cli/main.ts";
import { CachedEvaluator } from "../src/evaluators/cache.ts";
import { TableEvaluator } from "../src/evaluators/table.ts";
import type { SearchTask } from "../src/graph/state.ts";
import { runSearch } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";
import { postgresSkip, startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(REPO_ROOT, "bin", "collm-nas.js");
const BUDGET = 200;
const CANDIDATES = 10;
const SEED = 4;
/** Progress line after which the spawned search is killed. */
const KILL_AT_ROUND = 3;

async function runCli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "collm-resume-"));
}

function readResult(outDir: string) {
  return JSON.parse(readFileSync(join(outDir, "result.json"), "utf8"));
}

function searchArgs(outDir: string, extra: string[] = []): string[] {
  return [
    "search",
    "--benchmark",
    NB201_CSV,
    "--budget",
    String(BUDGET),
    "--candidates",
    String(CANDIDATES),
    "--seed",
    String(SEED),
    "--out",
    outDir,
    ...extra,
  ];
}

/**
 * Spawns `collm-nas search` and kills it with SIGKILL as soon as it prints
 * the progress line of round KILL_AT_ROUND, so earlier rounds are
 * checkpointed and the run is cut short without any cleanup.
 */
function searchUntilKilled(args: string[]): Promise<{ signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      stderr += text;
      if (new RegExp(`^round ${KILL_AT_ROUND} `, "m").test(stderr)) child.kill("SIGKILL");
    });
    child.once("error", reject);
    child.once("exit", (_code, signal) => resolve({ signal, stderr }));
  });
}

/** Architectures in order of evaluation. */
function archsOf(result: { history: { arch: unknown }[] }): unknown[] {
  return result.history.map((record) => record.arch);
}

/**
 * Kills a search, resumes it and compares it with an uninterrupted run of
 * the same seed. Returns the run folder of the resumed search.
 */
async function checkKillAndResume(extra: string[], forbidden?: string): Promise<string> {
  const outDir = tempDir();
  const killed = await searchUntilKilled(searchArgs(outDir, extra));
  assert.equal(killed.signal, "SIGKILL", `the search ended before it was killed:\n${killed.stderr}`);

  const partial = readResult(outDir);
  assert.equal(partial.stopReason, "in progress");
  assert.ok(partial.evaluations >= (KILL_AT_ROUND - 1) * CANDIDATES, `${partial.evaluations}`);
  assert.ok(partial.evaluations < BUDGET, `${partial.evaluations}`);
  if (forbidden) {
    const settings = readFileSync(join(outDir, "search.json"), "utf8");
    assert.ok(!settings.includes(forbidden), "search.json contains a secret");
  }

  const resumed = await runCli(["resume", "--out", outDir, "--quiet"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const result = readResult(outDir);

  const referenceDir = tempDir();
  const reference = await runCli(searchArgs(referenceDir, ["--checkpoint", "none", "--quiet"]));
  assert.equal(reference.code, 0, reference.stderr);
  const expected = readResult(referenceDir);

  const archs = archsOf(result);
  assert.equal(archs.length, BUDGET);
  assert.equal(new Set(archs.map((arch) => JSON.stringify(arch))).size, BUDGET, "duplicates");
  assert.deepEqual(archs, archsOf(expected));
  assert.deepEqual(
    result.history.map((record: { round: number }) => record.round),
    expected.history.map((record: { round: number }) => record.round),
  );
  assert.equal(result.stopReason, expected.stopReason);
  assert.deepEqual(result.strategies, expected.strategies);
  return outDir;
}

describe("sqlite checkpoints", { skip: nb201Skip }, () => {
  let resumedDir: string;

  before(async () => {
    resumedDir = await checkKillAndResume([]);
  });

  test("killed search resumes to the same history", () => {
    // The checks run in before(); this test reports them.
    assert.ok(existsSync(join(resumedDir, "checkpoints.sqlite")));
  });

  test("result.json records the thread", () => {
    const result = readResult(resumedDir);
    const settings = JSON.parse(readFileSync(join(resumedDir, "search.json"), "utf8"));
    assert.equal(typeof result.settings.threadId, "string");
    assert.equal(result.settings.threadId, settings.threadId);
  });

  test("resume of a finished search evaluates nothing", async () => {
    const before = readResult(resumedDir);
    const { code, stderr } = await runCli(["resume", "--out", resumedDir]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Resuming thread/);
    assert.doesNotMatch(stderr, /^round /m);
    const after = readResult(resumedDir);
    assert.deepEqual(archsOf(after), archsOf(before));
    assert.equal(after.settings.evaluationCache.misses, 0);
  });

  test("resume by thread and checkpoint file", async () => {
    const { threadId } = readResult(resumedDir).settings;
    const { code, stderr } = await runCli([
      "resume",
      "--thread",
      threadId,
      "--checkpoint",
      join(resumedDir, "checkpoints.sqlite"),
      "--quiet",
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(readResult(resumedDir).evaluations, BUDGET);
  });

  test("history lists every round with its strategy", async () => {
    const result = readResult(resumedDir);
    const { code, stdout, stderr } = await runCli(["history", "--out", resumedDir]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Source: checkpoints in .*checkpoints\.sqlite, thread /m);
    assert.match(stdout, /^Status: finished: budget spent: 200 evaluations$/m);
    const rounds = BUDGET / CANDIDATES;
    for (let round = 1; round <= rounds; round++) {
      const evaluations = round * CANDIDATES;
      const row = new RegExp(
        `^Round ${round} {2}evaluations ${evaluations} {2}best \\d+\\.\\d\\d% {2}evaluated 10 {2}rejected 0$`,
        "m",
      );
      assert.match(stdout, row);
    }
    assert.equal(stdout.match(/^ {2}Strategy \(offline\):$/gm)?.length, rounds);
    const firstLine = result.strategies[0].strategy.split("\n")[0];
    assert.ok(stdout.includes(`    ${firstLine}`), "first strategy line missing");
    assert.match(stdout, /more lines \(--full prints them\)/);
  });

  test("history --full prints whole strategies", async () => {
    const result = readResult(resumedDir);
    const { stdout } = await runCli(["history", "--out", resumedDir, "--full"]);
    for (const entry of result.strategies) {
      const indented = entry.strategy
        .split("\n")
        .map((line: string) => `    ${line}`)
        .join("\n");
      assert.ok(stdout.includes(indented), `strategy of round ${entry.round} not in full`);
    }
    assert.doesNotMatch(stdout, /more lines/);
  });

  test("history --json gives round summaries", async () => {
    const { stdout } = await runCli(["history", "--out", resumedDir, "--json"]);
    const history = JSON.parse(stdout);
    assert.equal(history.rounds.length, BUDGET / CANDIDATES);
    assert.equal(history.rounds.at(-1).evaluations, BUDGET);
    assert.equal(history.rounds[0].strategy.author, "offline");
  });

  test("history reads result.json without checkpoints", async () => {
    const outDir = tempDir();
    await runCli(searchArgs(outDir, ["--budget", "30", "--checkpoint", "none", "--quiet"]));
    assert.ok(!existsSync(join(outDir, "checkpoints.sqlite")));
    const { code, stdout } = await runCli(["history", "--out", outDir]);
    assert.equal(code, 0);
    assert.match(stdout, /^Source: .*result\.json$/m);
    assert.match(stdout, /^Round 3 {2}evaluations 30 /m);
  });

  test("resume rejects a search without checkpoints", async () => {
    const outDir = tempDir();
    await runCli(searchArgs(outDir, ["--budget", "10", "--checkpoint", "none", "--quiet"]));
    const { code, stderr } = await runCli(["resume", "--out", outDir]);
    assert.equal(code, 2);
    assert.match(stderr, /ran with --checkpoint none, so there is nothing to resume/);
  });

  test("resume rejects a folder without search.json", async () => {
    const { code, stderr } = await runCli(["resume", "--out", tempDir()]);
    assert.equal(code, 2);
    assert.match(stderr, /search\.json not found/);
  });

  test("resume rejects an unknown thread", async () => {
    const { code, stderr } = await runCli(["resume", "--out", resumedDir, "--thread", "no-such-thread"]);
    assert.equal(code, 2);
    assert.match(stderr, /thread no-such-thread has no checkpoint/);
  });

  test("search rejects an invalid checkpoint", async () => {
    const { code, stderr } = await runCli(searchArgs(tempDir(), ["--checkpoint", "mysql://x"]));
    assert.equal(code, 2);
    assert.match(stderr, /invalid checkpoint "mysql:\/\/x"; expected sqlite, none/);
  });

  test("search.json keeps no API key", async () => {
    const outDir = tempDir();
    const key = "sk-test-key-that-must-not-be-stored";
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = key;
    try {
      // Port 9 refuses connections, so both roles fall back to the offline policy at once.
      const { code, stderr } = await runCli(
        searchArgs(outDir, [
          "--budget", "10", "--llm", "openai:test-model", "--base-url", "http://127.0.0.1:9/v1",
          "--llm-retries", "0", "--quiet",
        ]),
      );
      assert.equal(code, 0, stderr);
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
    const settings = readFileSync(join(outDir, "search.json"), "utf8");
    assert.ok(!settings.includes(key), "search.json contains the API key");
    assert.equal(JSON.parse(settings).options.llm, "openai:test-model");
  });
});

/**
 * Memory checkpointer whose checkpoint saves never finish after the first
 * `savesBeforeStall`, as if the process died there. The writes of the
 * step's finished tasks are saved before that, so a resume has to apply
 * them instead of running the tasks again.
 */
class StallingSaver extends MemorySaver {
  saves = 0;
  /** Resolves when the first save stalls. */
  readonly stalled: Promise<void>;
  private markStalled!: () => void;

  constructor(public savesBeforeStall: number) {
    super();
    this.stalled = new Promise((resolve) => (this.markStalled = resolve));
  }

  override async put(...args: Parameters<MemorySaver["put"]>) {
    if (this.saves++ >= this.savesBeforeStall) {
      this.markStalled();
      return new Promise<never>(() => {});
    }
    return super.put(...args);
  }
}

describe("resume at every step", { skip: nb201Skip }, () => {
  const space = createNb201Space();
  const task: SearchTask = {
    space: "nb201",
    objective: "maximize cifar10_test_acc of the network",
    budget: 40,
    candidatesPerRound: CANDIDATES,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 2,
    seed: SEED,
  };
  let table: TableEvaluator;
  let expected: unknown[];

  before(async () => {
    table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
    const reference = await runSearch({ strategy: "collm", space, evaluator: table, task });
    expected = reference.history.map((record) => record.arch);
  });

  test("stalled saves resume to the same history", async () => {
    // Four rounds save about 30 checkpoints; stall before each of them.
    let resumes = 0;
    for (let saves = 1; saves <= 40; saves++) {
      const saver = new StallingSaver(saves);
      const threadId = `stall-${saves}`;
      const options = {
        strategy: "collm" as const,
        space,
        evaluator: new CachedEvaluator(table),
        task,
        checkpointer: saver,
        threadId,
      };
      const stalled = runSearch(options).then(() => "finished");
      const settled = await Promise.race([stalled, saver.stalled.then(() => "stalled")]);
      if (settled === "finished") break;

      saver.savesBeforeStall = Infinity;
      const resumed = await runSearch({ ...options, resume: true });
      const archs = resumed.history.map((record) => record.arch);
      assert.deepEqual(archs, expected, `stalled after ${saves} saves`);
      resumes++;
    }
    assert.ok(resumes >= 20, `only ${resumes} stalls before the search finished`);
  });
});

describe("cli progress bar", { skip: nb201Skip }, () => {
  test("draws a bar on a terminal", async () => {
    let stderr = "";
    const code = await main(searchArgs(tempDir(), ["--budget", "30", "--checkpoint", "none"]), {
      stdout: () => {},
      stderr: (text) => (stderr += text),
      isTTY: true,
    });
    assert.equal(code, 0);
    assert.match(stderr, /\r\[#{10}-{20}\] {2}33% 10\/30 {2}round 1 {2}best \d+\.\d\d%\x1b\[K/);
    assert.match(stderr, /\r\[#{30}\] 100% 30\/30 {2}round 3 {2}best \d+\.\d\d%\x1b\[K\n/);
    assert.doesNotMatch(stderr, /^round 1 {2}evaluations/m);
  });
});

describe("postgres checkpoints", { skip: nb201Skip || postgresSkip }, () => {
  let postgres: TestPostgres;
  let resumedDir: string;

  before(async () => {
    postgres = await startTestPostgres();
  });

  after(() => postgres?.stop());

  test("killed search resumes to the same history", async () => {
    // The cluster trusts local users, so the password only tests that none is stored.
    const password = "not-stored-anywhere";
    const url = postgres.url.replace(/^postgres:\/\/([^@:]+)@/, `postgres://$1:${password}@`);
    resumedDir = await checkKillAndResume(["--checkpoint", url], password);
    assert.ok(!existsSync(join(resumedDir, "checkpoints.sqlite")));
  });

  test("resume by thread reads settings from postgres", async () => {
    const { threadId } = readResult(resumedDir).settings;
    const { code, stderr } = await runCli([
      "resume", "--thread", threadId, "--checkpoint", postgres.url,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, new RegExp(`Resuming thread ${threadId}`));
    assert.equal(readResult(resumedDir).evaluations, BUDGET);
  });

  test("history reads rounds from postgres", async () => {
    const { threadId } = readResult(resumedDir).settings;
    const { code, stdout, stderr } = await runCli([
      "history", "--thread", threadId, "--checkpoint", postgres.url,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Source: checkpoints in postgres:\/\//m);
    assert.match(stdout, /^Round 20 {2}evaluations 200 /m);
    assert.equal(stdout.match(/^ {2}Strategy \(offline\):$/gm)?.length, BUDGET / CANDIDATES);
  });

  test("unreachable server fails with the URL", async () => {
    // Nothing listens on port 9 (discard), so the connection is refused.
    const { code, stderr } = await runCli(
      searchArgs(tempDir(), ["--checkpoint", "postgres://collm@127.0.0.1:9/postgres"]),
    );
    assert.equal(code, 2);
    assert.match(stderr, /failed to open the PostgreSQL checkpointer at postgres:\/\/collm@127\.0\.0\.1/);
  });
});
