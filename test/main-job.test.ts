import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { main } from "../src/cli/main.ts";

async function runCli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

describe("main job on the bundled supernet", () => {
  test("searches and reports val and test accuracy", async () => {
    const out = mkdtempSync(join(tmpdir(), "collm-main-"));
    const { code, stderr } = await runCli(["search", "--budget", "6", "--candidates", "3", "--out", out]);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /evaluator onnx-supernet/);
    assert.match(stderr, /No LLM in use/);
    assert.match(stderr, /Report \(metrics the search never saw\): val_accuracy \d+\.\d\d, test_accuracy \d+\.\d\d/);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    assert.equal(result.evaluations, 6);
    assert.equal(typeof result.best.report.val_accuracy, "number");
    assert.equal(typeof result.best.report.test_accuracy, "number");
    assert.ok(result.best.metrics.accuracy > 10, "the best subnet should beat chance");
    // Costs come from the supernet's own network size: 8 channels, 2 cells per stage.
    assert.ok(result.best.metrics.paramsM < 0.2);
  });

  test("rejects --data without a supernet", async () => {
    const { code, stderr } = await runCli(["search", "--benchmark", "x.csv", "--data", tmpdir()]);
    assert.equal(code, 2);
    assert.match(stderr, /--data goes with --supernet/);
  });

  test("rejects a data folder without meta.json", async () => {
    const { code, stderr } = await runCli(["search", "--data", tmpdir(), "--budget", "2"]);
    assert.equal(code, 2);
    assert.match(stderr, /meta\.json/);
  });

  test("rejects a supernet for another space", async () => {
    const { code, stderr } = await runCli(["search", "--space", "spos-shufflenet", "--supernet", "m.onnx"]);
    assert.equal(code, 2);
    assert.match(stderr, /--supernet evaluates nb201 cells/);
  });
});
