import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CachedEvaluator } from "../src/evaluators/cache.ts";
import { TableEvaluator } from "../src/evaluators/table.ts";
import type { EvaluationRequest, EvaluationResult, Evaluator } from "../src/evaluators/types.ts";
import { NB201_CSV, nb201Skip } from "./helpers/data.ts";

const BEST_C10 =
  "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

function tempCsv(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "collm-table-"));
  const path = join(dir, "table.csv");
  writeFileSync(path, text);
  return path;
}

describe("table evaluator", () => {
  test("looks up the metric and report columns", async () => {
    const path = tempCsv("arch_str,acc,test\na,90.5,89\nb,91,90.25\n");
    const table = await TableEvaluator.load({ path, metric: "acc", report: ["test"] });
    const [result] = await table.evaluate([{ key: "b", arch: "b" }]);
    assert.ok(result.ok);
    assert.equal(result.accuracy, 91);
    assert.deepEqual(result.report, { test: 90.25 });
  });

  test("missing architecture is an error result", async () => {
    const path = tempCsv("arch_str,acc\na,90.5\n");
    const table = await TableEvaluator.load({ path, metric: "acc" });
    const [result] = await table.evaluate([{ key: "zz", arch: "zz" }]);
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.error : "", /architecture zz not found/);
  });

  test("missing column names the column", async () => {
    const path = tempCsv("arch_str,acc\na,90.5\n");
    await assert.rejects(TableEvaluator.load({ path, metric: "valid" }), {
      name: "EvaluatorInputError",
      message: /column "valid" \(metric\) not found in .*table.csv; available: arch_str, acc/,
    });
  });

  test("missing report column names the column", async () => {
    const path = tempCsv("arch_str,acc\na,90.5\n");
    await assert.rejects(TableEvaluator.load({ path, metric: "acc", report: ["test"] }), {
      message: /column "test" \(report\) not found/,
    });
  });

  test("non-numeric cell names line and column", async () => {
    const path = tempCsv("arch_str,acc\na,90.5\nb,n/a\n");
    await assert.rejects(TableEvaluator.load({ path, metric: "acc" }), {
      name: "EvaluatorInputError",
      message: /line 3, column "acc": "n\/a" is not a number/,
    });
  });

  test("empty cell is rejected", async () => {
    const path = tempCsv("arch_str,acc\na,\n");
    await assert.rejects(TableEvaluator.load({ path, metric: "acc" }), {
      message: /line 2, column "acc": "" is not a number/,
    });
  });

  test("header without rows is rejected", async () => {
    const path = tempCsv("arch_str,acc\n");
    await assert.rejects(TableEvaluator.load({ path, metric: "acc" }), { message: /has no data rows/ });
  });

  test("missing file is named", async () => {
    await assert.rejects(TableEvaluator.load({ path: "/no/such/table.csv", metric: "acc" }), {
      message: /benchmark table \/no\/such\/table.csv not found/,
    });
  });

  test("directory is rejected", async () => {
    await assert.rejects(TableEvaluator.load({ path: tmpdir(), metric: "acc" }), {
      message: /is a directory/,
    });
  });

  test("unreadable file is named", { skip: process.getuid?.() === 0 ? "root can read any file" : false }, async () => {
    const path = tempCsv("arch_str,acc\na,1\n");
    chmodSync(path, 0o000);
    await assert.rejects(TableEvaluator.load({ path, metric: "acc" }), { message: /cannot be read/ });
  });

  test("reads the NAS-Bench-201 optimum", { skip: nb201Skip }, async () => {
    const table = await TableEvaluator.load({ path: NB201_CSV, metric: "cifar10_test_acc" });
    assert.equal(table.rows, 15_625);
    const [result] = await table.evaluate([{ key: BEST_C10, arch: BEST_C10 }]);
    assert.ok(result.ok);
    assert.equal(result.accuracy.toFixed(2), "94.37");
  });
});

describe("evaluation cache", () => {
  class CountingEvaluator implements Evaluator {
    readonly name = "counting";
    calls: string[] = [];
    async evaluate(requests: readonly EvaluationRequest[]): Promise<EvaluationResult[]> {
      return requests.map((r) => {
        this.calls.push(r.key);
        return r.key === "bad"
          ? { key: r.key, ok: false, error: "failed" }
          : { key: r.key, ok: true, accuracy: r.key.length, metrics: {}, report: {} };
      });
    }
  }

  test("evaluates each key once", async () => {
    const inner = new CountingEvaluator();
    const cached = new CachedEvaluator(inner);
    await cached.evaluate([{ key: "a", arch: "a" }, { key: "bb", arch: "bb" }]);
    const results = await cached.evaluate([{ key: "a", arch: "a" }, { key: "a", arch: "a" }, { key: "ccc", arch: "ccc" }]);
    assert.deepEqual(inner.calls, ["a", "bb", "ccc"]);
    assert.deepEqual(results.map((r) => r.ok && r.accuracy), [1, 1, 3]);
    assert.equal(cached.hits, 2);
    assert.equal(cached.misses, 3);
  });

  test("does not cache failures", async () => {
    const inner = new CountingEvaluator();
    const cached = new CachedEvaluator(inner);
    await cached.evaluate([{ key: "bad", arch: "bad" }]);
    await cached.evaluate([{ key: "bad", arch: "bad" }]);
    assert.deepEqual(inner.calls, ["bad", "bad"]);
  });
});
