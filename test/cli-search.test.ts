import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { main } from "../src/cli/main.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

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
  return mkdtempSync(join(tmpdir(), "collm-cli-"));
}

describe("cli search", { skip: nb201Skip }, () => {
  test("writes result.json with the required fields", async () => {
    const out = tempDir();
    const { code, stderr } = await runCli([
      "search", "--benchmark", NB201_CSV, "--budget", "30", "--seed", "1", "--out", out,
      "--report", "cifar10_valid_acc_hp12",
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    assert.equal(result.strategy, "collm");
    assert.equal(result.space, "nb201");
    assert.equal(result.budget, 30);
    assert.equal(result.evaluations, 30);
    assert.equal(result.history.length, 30);
    assert.equal(typeof result.best.metrics.accuracy, "number");
    assert.equal(typeof result.best.report.cifar10_valid_acc_hp12, "number");
    assert.deepEqual(Object.keys(result.history[0]).sort(), ["arch", "metrics", "report", "round", "source"]);
    assert.equal(result.llm, "offline");
    assert.equal(result.usage, null);
  });

  test("prints a progress line per round and a summary", async () => {
    const { stderr } = await runCli(["search", "--benchmark", NB201_CSV, "--budget", "20", "--out", tempDir()]);
    assert.match(stderr, /No LLM in use/);
    assert.match(stderr, /--llm openai:MODEL/);
    assert.match(stderr, /round 1 {2}evaluations 10\/20 {2}best \d+\.\d\d%/);
    assert.match(stderr, /round 2 {2}evaluations 20\/20/);
    assert.match(stderr, /Best: \d+\.\d\d% \|/);
  });

  test("same seed gives an identical result", async () => {
    const read = async (out: string) => {
      await runCli(["search", "--benchmark", NB201_CSV, "--budget", "40", "--seed", "3", "--out", out, "--quiet"]);
      const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
      delete result.settings.seconds;
      // Every run gets a new checkpoint thread in its own folder.
      delete result.settings.threadId;
      delete result.settings.checkpoint;
      return result;
    };
    assert.deepEqual(await read(tempDir()), await read(tempDir()));
  });

  for (const strategy of ["random", "rea"]) {
    test(`${strategy} baseline runs from the CLI`, async () => {
      const out = tempDir();
      const { code } = await runCli(["search", "--benchmark", NB201_CSV, "--strategy", strategy, "--budget", "25", "--out", out, "--quiet"]);
      assert.equal(code, 0);
      const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
      assert.equal(result.evaluations, 25);
      assert.equal(result.history[0].source, strategy);
    });
  }

  test("constraint bounds every evaluated cost", async () => {
    const out = tempDir();
    const { code } = await runCli(["search", "--benchmark", NB201_CSV, "--budget", "30", "--constraint", "flops<=60,params<=0.5", "--out", out, "--quiet"]);
    assert.equal(code, 0);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    assert.equal(result.evaluations, 30);
    assert.ok(result.history.every((r: { metrics: { flopsM: number } }) => r.metrics.flopsM <= 60));
    assert.ok(result.history.every((r: { metrics: { paramsM: number } }) => r.metrics.paramsM <= 0.5));
  });

  test("refuses an --out that holds a search", async () => {
    const out = tempDir();
    const first = await runCli(["search", "--benchmark", NB201_CSV, "--budget", "10", "--out", out, "--quiet"]);
    assert.equal(first.code, 0);
    const before = readFileSync(join(out, "result.json"), "utf8");
    const second = await runCli(["search", "--benchmark", NB201_CSV, "--budget", "20", "--out", out]);
    assert.equal(second.code, 2);
    assert.match(second.stderr, /already contains a search \(result\.json\); continue it with collm-nas resume --out/);
    assert.equal(readFileSync(join(out, "result.json"), "utf8"), before);
  });

  test("exits 1 when nothing is evaluated", async () => {
    const { code, stderr } = await runCli(["search", "--benchmark", NB201_CSV, "--constraint", "flops<=5", "--out", tempDir()]);
    assert.equal(code, 1);
    assert.match(stderr, /No architecture was evaluated successfully/);
  });

  test("warns about options a baseline ignores", async () => {
    const { code, stderr } = await runCli(["search", "--benchmark", NB201_CSV, "--strategy", "random", "--rounds", "2", "--budget", "10", "--out", tempDir()]);
    assert.equal(code, 0);
    assert.match(stderr, /warning: --rounds has no effect on --strategy random/);
  });

  test("--json prints the result", async () => {
    const { stdout } = await runCli(["search", "--benchmark", NB201_CSV, "--budget", "10", "--out", tempDir(), "--json", "--quiet"]);
    assert.equal(JSON.parse(stdout).evaluations, 10);
  });
});

describe("cli errors", () => {
  const cases: [string, string[], RegExp][] = [
    ["zero budget", ["--budget", "0"], /--budget must be a positive integer, got "0"/],
    ["negative budget", ["--budget", "-5"], /--budget must be a positive integer, got "-5"/],
    ["unknown strategy", ["--strategy", "bayes"], /--strategy must be collm, random or rea, got "bayes"/],
    ["unknown option", ["--budgte", "3"], /Unknown option '--budgte'/],
    ["bad llm spec", ["--llm", "gpt-4"], /--llm must be none or openai:MODEL, got "gpt-4"/],
    ["target above 100", ["--target", "140"], /--target must be a number from 0 to 100, got "140"/],
    ["unknown dataset", ["--dataset", "mnist"], /--dataset must be cifar10, cifar100 or imagenet16-120, got "mnist"/],
    ["unknown space", ["--space", "darts", "--benchmark", "x.csv"], /--space must be one of: nb201, .*got "darts"/],
    ["missing table", ["--benchmark", "/no/such.csv"], /benchmark table \/no\/such.csv not found/],
    ["directory as table", ["--benchmark", tmpdir()], /is a directory/],
    ["unparsable constraint", ["--benchmark", NB201_CSV, "--constraint", "flops<<3"], /invalid constraint "flops<<3"/],
    ["unknown constraint metric", ["--benchmark", NB201_CSV, "--constraint", "latency<=3"], /latency<=3ms cannot be checked in space nb201/],
  ];
  for (const [name, args, message] of cases) {
    test(`rejects ${name}`, async () => {
      const { code, stderr } = await runCli(["search", ...args]);
      assert.equal(code, 2);
      assert.match(stderr, message);
    });
  }

  test("rejects a table with missing columns", async () => {
    const path = join(tempDir(), "t.csv");
    writeFileSync(path, "arch_str,acc\na,1\n");
    const { code, stderr } = await runCli(["search", "--benchmark", path, "--out", tempDir()]);
    assert.equal(code, 2);
    assert.match(stderr, /column "cifar10_test_acc" \(metric\) not found/);
  });

  test("rejects an unknown command", async () => {
    const { code, stderr } = await runCli(["serach"]);
    assert.equal(code, 2);
    assert.match(stderr, /unknown command "serach"/);
  });

  test("rejects an LLM without key or URL", async () => {
    const saved = { key: process.env.OPENAI_API_KEY, url: process.env.OPENAI_BASE_URL };
    delete process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_BASE_URL;
    const { code, stderr } = await runCli(["search", "--benchmark", NB201_CSV, "--llm", "openai:gpt-4o-mini", "--out", tempDir()]).finally(() => {
      if (saved.key !== undefined) process.env.OPENAI_API_KEY = saved.key;
      if (saved.url !== undefined) process.env.OPENAI_BASE_URL = saved.url;
    });
    assert.equal(code, 2);
    assert.match(stderr, /no API key and no base URL/);
  });
});
