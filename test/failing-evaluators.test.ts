import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { main } from "../src/cli/main.ts";
import { CachedEvaluator } from "../src/evaluators/cache.ts";
import { EvaluationTimeoutError, GuardedEvaluator } from "../src/evaluators/guarded.ts";
import { createOnnxPredictorEvaluator } from "../src/evaluators/onnx-predictor.ts";
import { TableEvaluator } from "../src/evaluators/table.ts";
import type { EvaluationRequest, EvaluationResult, Evaluator } from "../src/evaluators/types.ts";
import type { SearchTask } from "../src/graph/state.ts";
import { readResultFile } from "../src/report/read-result.ts";
import { EVALUATOR_FAILING, FAILED_ROUNDS_TO_STOP } from "../src/roles/coordinator.ts";
import { buildResult, writeFileAtomic } from "../src/search/result.ts";
import { runSearch, type SearchOptions, type SearchOutcome } from "../src/search/run.ts";
import { createNb201Space } from "../src/spaces/nb201.ts";
import { createOfaMbv3Space } from "../src/spaces/ofa-mbv3.ts";
import type { SearchSpace } from "../src/spaces/types.ts";
import { NB201_CSV, nb201Skip, OFA_PREDICTOR_ONNX, ofaPredictorSkip } from "./helpers/data.ts";
import { SyntheticEvaluator } from "./helpers/synthetic-evaluator.ts";

const PER_ROUND = 4;
const nb201 = createNb201Space();

function task(budget: number, space = "nb201"): SearchTask {
  return {
    space,
    objective: "maximize the accuracy of the network",
    budget,
    candidatesPerRound: PER_ROUND,
    target: null,
    maxRounds: null,
    constraints: "",
    maxGeneratorRetries: 0,
    seed: 0,
  };
}

function requests(count: number): EvaluationRequest[] {
  return Array.from({ length: count }, (_, i) => ({ key: `k${i}`, arch: `arch-${i}` }));
}

/** An evaluator that runs `behaviour` for each batch, numbered from 1. */
class ScriptedEvaluator implements Evaluator {
  readonly name = "scripted";
  batches = 0;
  /** Signals the evaluator received, one per batch. */
  readonly signals: (AbortSignal | undefined)[] = [];
  private readonly fallback = new SyntheticEvaluator();

  constructor(
    private readonly behaviour: (
      batch: number,
      requests: readonly EvaluationRequest[],
      normal: () => Promise<EvaluationResult[]>,
    ) => Promise<EvaluationResult[]> | EvaluationResult[],
  ) {}

  evaluate(
    batch: readonly EvaluationRequest[],
    options?: { signal?: AbortSignal },
  ): Promise<EvaluationResult[]> {
    this.batches += 1;
    this.signals.push(options?.signal);
    return Promise.resolve(
      this.behaviour(this.batches, batch, () => this.fallback.evaluate(batch)),
    );
  }
}

/** Never settles, like an evaluator stuck on a dead device. */
const forever = () => new Promise<EvaluationResult[]>(() => {});

async function search(
  evaluator: Evaluator,
  budget: number,
  extra: Partial<SearchOptions> = {},
): Promise<SearchOutcome> {
  return runSearch({
    strategy: "collm",
    space: (extra.space ?? nb201) as SearchSpace,
    evaluator,
    task: task(budget, (extra.space ?? nb201).name),
    ...extra,
  });
}

function roundRecords(outcome: SearchOutcome, round: number) {
  return outcome.history.filter((record) => record.round === round);
}

describe("GuardedEvaluator", () => {
  test("thrown error fails the batch", async () => {
    const guarded = new GuardedEvaluator(
      new ScriptedEvaluator(() => {
        throw new Error("device lost");
      }),
    );
    const results = await guarded.evaluate(requests(3));
    assert.deepEqual(
      results,
      ["k0", "k1", "k2"].map((key) => ({
        key,
        ok: false,
        error: "evaluator failed: Error: device lost",
      })),
    );
  });

  test("rejected promise fails the batch", async () => {
    const guarded = new GuardedEvaluator(
      new ScriptedEvaluator(() => Promise.reject(new TypeError("bad tensor"))),
    );
    const results = await guarded.evaluate(requests(2));
    assert.deepEqual(
      results.map((r) => (r.ok ? "ok" : r.error)),
      ["evaluator failed: TypeError: bad tensor", "evaluator failed: TypeError: bad tensor"],
    );
  });

  test("hung batch times out", async () => {
    const inner = new ScriptedEvaluator(forever);
    const guarded = new GuardedEvaluator(inner, { timeoutMs: 100 });
    const started = Date.now();
    const results = await guarded.evaluate(requests(2));
    assert.ok(Date.now() - started < 2_000, "the guard waited too long");
    assert.deepEqual(
      results.map((r) => (r.ok ? "ok" : r.error)),
      ["evaluation timed out after 100 ms", "evaluation timed out after 100 ms"],
    );
  });

  test("timeout aborts the inner signal", async () => {
    const inner = new ScriptedEvaluator(forever);
    await new GuardedEvaluator(inner, { timeoutMs: 50 }).evaluate(requests(1));
    const signal = inner.signals[0];
    assert.equal(signal?.aborted, true);
    assert.ok(signal?.reason instanceof EvaluationTimeoutError);
  });

  test("NaN accuracy becomes an error", async () => {
    const guarded = new GuardedEvaluator(
      new ScriptedEvaluator((_batch, batch) =>
        batch.map((request, i) => ({
          key: request.key,
          ok: true as const,
          accuracy: [Number.NaN, Number.POSITIVE_INFINITY, 71.5][i],
          metrics: {},
          report: {},
        })),
      ),
    );
    const results = await guarded.evaluate(requests(3));
    assert.deepEqual(results, [
      { key: "k0", ok: false, error: "evaluator returned a non-finite accuracy (NaN)" },
      { key: "k1", ok: false, error: "evaluator returned a non-finite accuracy (Infinity)" },
      { key: "k2", ok: true, accuracy: 71.5, metrics: {}, report: {} },
    ]);
  });

  test("NaN metric becomes an error", async () => {
    const guarded = new GuardedEvaluator(
      new ScriptedEvaluator((_batch, batch) => [
        { key: batch[0].key, ok: true, accuracy: 70, metrics: { top5: Number.NaN }, report: {} },
      ]),
    );
    const [result] = await guarded.evaluate(requests(1));
    assert.deepEqual(result, {
      key: "k0",
      ok: false,
      error: "evaluator returned a non-finite metric top5 (NaN)",
    });
  });

  test("short result list fails the batch", async () => {
    const guarded = new GuardedEvaluator(new ScriptedEvaluator((_batch, _requests, normal) =>
      normal().then((results) => results.slice(1)),
    ));
    const results = await guarded.evaluate(requests(3));
    assert.ok(results.every((r) => !r.ok && r.error === "evaluator scripted returned 2 results for 3 requests"));
  });

  test("malformed result becomes an error", async () => {
    const guarded = new GuardedEvaluator(
      new ScriptedEvaluator(() => [null, { key: "k1" }] as unknown as EvaluationResult[]),
    );
    const results = await guarded.evaluate(requests(2));
    assert.deepEqual(results, [
      { key: "k0", ok: false, error: "evaluator returned null instead of a result" },
      { key: "k1", ok: false, error: "evaluator returned a result without ok: true or false" },
    ]);
  });

  test("caller abort is rethrown", async () => {
    const controller = new AbortController();
    const guarded = new GuardedEvaluator(new ScriptedEvaluator(forever), { timeoutMs: 10_000 });
    const pending = guarded.evaluate(requests(1), { signal: controller.signal });
    controller.abort(new Error("search cancelled"));
    await assert.rejects(pending, { message: "search cancelled" });
  });

  test("invalid timeout is rejected", () => {
    assert.throws(() => new GuardedEvaluator(new SyntheticEvaluator(), { timeoutMs: 0 }), RangeError);
    assert.throws(() => new GuardedEvaluator(new SyntheticEvaluator(), { timeoutMs: Number.NaN }), RangeError);
  });
});

describe("search with a failing evaluator", () => {
  describe("throws in round 2", () => {
    let outcome: SearchOutcome;

    before(async () => {
      const inner = new ScriptedEvaluator((batch, _requests, normal) => {
        if (batch === 2) throw new Error("CUDA error: device-side assert");
        return normal();
      });
      outcome = await search(new GuardedEvaluator(inner), PER_ROUND * 3);
    });

    test("round 2 records the error", () => {
      const errors = roundRecords(outcome, 2).map((record) => record.error);
      assert.deepEqual(errors, Array(PER_ROUND).fill("evaluator failed: Error: CUDA error: device-side assert"));
    });

    test("other rounds succeed", () => {
      for (const round of [1, 3]) {
        const failed = roundRecords(outcome, round).filter((record) => record.error !== undefined);
        assert.deepEqual(failed, [], `round ${round}`);
      }
    });

    test("search spends the budget", () => {
      assert.equal(outcome.history.length, PER_ROUND * 3);
      assert.equal(outcome.stopReason, `budget spent: ${PER_ROUND * 3} evaluations`);
    });
  });

  describe("throws without the guard", () => {
    let outcome: SearchOutcome;

    before(async () => {
      const inner = new ScriptedEvaluator((batch, _requests, normal) => {
        if (batch === 1) throw new Error("out of memory");
        return normal();
      });
      outcome = await search(inner, PER_ROUND * 2);
    });

    test("round 1 records the tool error", () => {
      const errors = roundRecords(outcome, 1).map((record) => record.error);
      assert.ok(errors.every((error) => error?.startsWith("evaluation tool failed: ")), String(errors));
      assert.ok(errors.every((error) => error?.includes("out of memory")), String(errors));
    });

    test("search spends the budget", () => {
      assert.equal(outcome.history.length, PER_ROUND * 2);
    });
  });

  describe("hangs in round 1", () => {
    let outcome: SearchOutcome;

    before(async () => {
      const inner = new ScriptedEvaluator((batch, _requests, normal) =>
        batch === 1 ? forever() : normal(),
      );
      outcome = await search(new GuardedEvaluator(inner, { timeoutMs: 200 }), PER_ROUND * 2);
    });

    test("round 1 times out", () => {
      const errors = roundRecords(outcome, 1).map((record) => record.error);
      assert.deepEqual(errors, Array(PER_ROUND).fill("evaluation timed out after 200 ms"));
    });

    test("round 2 succeeds", () => {
      const failed = roundRecords(outcome, 2).filter((record) => record.error !== undefined);
      assert.deepEqual(failed, []);
    });
  });

  describe("returns NaN", () => {
    let outcome: SearchOutcome;

    before(async () => {
      const inner = new ScriptedEvaluator((_batch, batch, normal) =>
        normal().then((results) =>
          results.map((result, i) =>
            i === 0 && result.ok ? { ...result, accuracy: Number.NaN } : result,
          ),
        ),
      );
      outcome = await search(new GuardedEvaluator(inner), PER_ROUND * 2);
    });

    test("NaN candidates get an error", () => {
      const failed = outcome.history.filter((record) => record.error !== undefined);
      assert.equal(failed.length, 2);
      assert.ok(failed.every((r) => r.error === "evaluator returned a non-finite accuracy (NaN)"));
    });

    test("best ignores NaN results", () => {
      assert.ok(outcome.best !== null);
      assert.ok(Number.isFinite(outcome.best.accuracy));
    });
  });

  describe("fails every evaluation", () => {
    let outcome: SearchOutcome;
    let resultFile: string;
    let dir: string;
    /** Whether each result file written after a round was read back. */
    const partialReads: boolean[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "collm-nas-failing-"));
      resultFile = join(dir, "result.json");
      const inner = new ScriptedEvaluator(() => {
        throw new Error("ONNX model missing");
      });
      const info = { strategy: "collm", space: "nb201", budget: 100, llm: "offline" as const, settings: {} };
      outcome = await search(new GuardedEvaluator(inner), 100, {
        onRound: async (partial) => {
          await writeFileAtomic(resultFile, JSON.stringify(buildResult(partial, info)));
          partialReads.push((await readResultFile(resultFile)).history.length > 0);
        },
      });
      await writeFileAtomic(resultFile, JSON.stringify(buildResult(outcome, info)));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test("search stops after three rounds", () => {
      assert.equal(FAILED_ROUNDS_TO_STOP, 3);
      assert.equal(outcome.history.length, PER_ROUND * FAILED_ROUNDS_TO_STOP);
    });

    test("stop reason names the evaluator", () => {
      assert.equal(
        outcome.stopReason,
        `${EVALUATOR_FAILING}: every evaluation failed in the last 3 rounds ` +
          "(last error: evaluator failed: Error: ONNX model missing)",
      );
    });

    test("partial result files are valid", () => {
      assert.deepEqual(partialReads, [true, true, true]);
    });

    test("final result file is valid", async () => {
      const result = await readResultFile(resultFile);
      assert.equal(result.stopReason, outcome.stopReason);
      assert.equal(result.best, null);
    });
  });

  describe("recovers before the limit", () => {
    let outcome: SearchOutcome;

    before(async () => {
      const inner = new ScriptedEvaluator((batch, _requests, normal) => {
        // Rounds 1-2 and 4-5 fail: never three failed rounds in a row.
        if (batch !== 3) throw new Error("flaky device");
        return normal();
      });
      outcome = await search(new GuardedEvaluator(inner), PER_ROUND * 5);
    });

    test("search spends the budget", () => {
      assert.equal(outcome.history.length, PER_ROUND * 5);
      assert.equal(outcome.stopReason, `budget spent: ${PER_ROUND * 5} evaluations`);
    });
  });
});

describe("evaluator files removed mid-search", () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "collm-nas-removed-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("table survives its CSV", { skip: nb201Skip }, async () => {
    const csv = join(dir, "nb201.csv");
    copyFileSync(NB201_CSV, csv);
    const table = await TableEvaluator.load({ path: csv, metric: "cifar10_test_acc" });
    const outcome = await search(new GuardedEvaluator(table), PER_ROUND * 3, {
      onRound: (_partial, event) => {
        if (event.round === 1) rmSync(csv);
      },
    });
    assert.equal(outcome.history.length, PER_ROUND * 3);
    assert.deepEqual(outcome.history.filter((record) => record.error !== undefined), []);
  });

  test("predictor survives its ONNX file", { skip: ofaPredictorSkip }, async () => {
    const model = join(dir, "predictor.onnx");
    copyFileSync(OFA_PREDICTOR_ONNX, model);
    const space = createOfaMbv3Space();
    const predictor = await createOnnxPredictorEvaluator({
      modelPath: model,
      space,
      encoder: space.predictorEncoder,
    });
    try {
      const outcome = await search(new GuardedEvaluator(predictor), PER_ROUND * 3, {
        space: space as SearchSpace,
        onRound: (_partial, event) => {
          if (event.round === 1) rmSync(model);
        },
      });
      assert.equal(outcome.history.length, PER_ROUND * 3);
      assert.deepEqual(outcome.history.filter((record) => record.error !== undefined), []);
    } finally {
      await predictor.close();
    }
  });

  test("per-batch reader stops cleanly", async () => {
    // An evaluator that opens its data file for every batch, as a lazy
    // loader would, fails from the round after the file is removed.
    const data = join(dir, "scores.json");
    writeFileSync(data, JSON.stringify({ offset: 50 }));
    const synthetic = new SyntheticEvaluator();
    const reader: Evaluator = {
      name: "file-reader",
      async evaluate(batch) {
        JSON.parse(readFileSync(data, "utf8"));
        return synthetic.evaluate(batch);
      },
    };
    const outcome = await search(new CachedEvaluator(new GuardedEvaluator(reader)), 100, {
      onRound: (_partial, event) => {
        if (event.round === 2) rmSync(data);
      },
    });
    assert.equal(outcome.history.length, PER_ROUND * (2 + FAILED_ROUNDS_TO_STOP));
    assert.match(outcome.stopReason, /^evaluator failing: every evaluation failed in the last 3 rounds \(last error: evaluator failed: Error: ENOENT/);
  });
});

describe("cli with a failing evaluator", { skip: nb201Skip }, () => {
  let dir: string;
  let code: number;
  let stderr = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "collm-nas-cli-failing-"));
    // A table of one architecture: every other one fails to evaluate.
    const csv = join(dir, "one-row.csv");
    const header = readFileSync(NB201_CSV, "utf8").split("\n", 1)[0];
    const cells = header.split(",").map((name) =>
      name === "arch_str"
        ? "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|"
        : "1",
    );
    writeFileSync(csv, `${header}\n${cells.join(",")}\n`);
    code = await main(
      ["search", "--benchmark", csv, "--budget", "40", "--candidates", "4", "--out", join(dir, "run"), "--checkpoint", "none"],
      { stdout: () => {}, stderr: (text) => (stderr += text) },
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("exit code is 1", () => {
    assert.equal(code, 1, stderr);
  });

  test("message names the evaluator failure", () => {
    assert.match(stderr, /Stopped: evaluator failing: every evaluation failed in the last 3 rounds \(last error: architecture \|/);
  });

  test("result file is valid", async () => {
    const result = await readResultFile(join(dir, "run"));
    assert.equal(result.evaluations, 12);
    assert.match(result.stopReason, /^evaluator failing: /);
  });
});
